/**
 * Decision-log edits a forger who recomputes the chain can make (issue 15 item 7), on a log the
 * real runtime wrote for two runs in one folder (the second resumed from the first's checkpoint),
 * with sizes and checksums recorded: what `audit verify` catches by itself (close counts against
 * the outcomes, withheld removals against failed saves), and what only an anchor kept elsewhere
 * (`--expect-head HASH`) catches — shown caught by it, and by `audit storage` where storage tells.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../plugins/fs/index.ts';
import { fitEvents } from '../src/core/loop.ts';
import type { LoopEvent } from '../src/core/events.ts';
import { Checkpointer } from '../src/runtime/index.ts';
import { withDigests } from '../src/audit/digests.ts';
import { auditStorage } from '../src/audit/storage.ts';
import { verifyLog, type VerifyReport } from '../src/audit/verify.ts';
import { openDecisionLog } from '../src/audit/writer.ts';
import { runVerify } from '../src/cli/audit.ts';
import { readRecords, rechain, writeRecords, type Rec } from './helpers/decision-log.ts';

const root = mkdtempSync(join(tmpdir(), 'ckpt-audit-anchor-'));
const OPTIONS = { monitor: 'val_loss', save_top_k: 2, save_last: true, filename: '{epoch}-{val_loss:.2f}' };
let n = 0;
const fresh = () => join(root, `edited-${++n}.jsonl`);

/** Two runs through the real runtime into one folder and one log: the second resumes from the first's last checkpoint. */
async function twoRuns(): Promise<{ log: string; dir: string }> {
  const dir = join(root, `run-${++n}`);
  mkdirSync(dir);
  const log = join(root, `decisions-${n}.jsonl`);
  const curves = [
    [0.9, 0.5, 0.7, 0.3],
    [0.35, 0.2, 0.6, 0.25],
  ];
  let lastRecord: unknown = null;
  for (const [run, losses] of curves.entries()) {
    const store = await openFsStore({ root: dir });
    const dlog = openDecisionLog(log);
    const events = [...fitEvents({ epochs: losses.length, batchesPerEpoch: 2, valMetrics: (e) => ({ val_loss: losses[e]! }) })];
    const setup = events[0] as Extract<LoopEvent, { type: 'setup' }>;
    const ck = await Checkpointer.open({
      options: OPTIONS,
      store: withDigests(store, dlog),
      capture: (req) => {
        lastRecord = req.record;
        return { kind: 'bytes', data: new TextEncoder().encode(`run ${run}: weights for ${req.key} at seq ${req.record.seq}`) };
      },
      background: false,
      cwd: root,
      ...(setup.trainer ? { trainer: setup.trainer } : {}),
      // the record the loop kept with its last checkpoint (byte payloads carry it beside the bytes)
      ...(run === 1 ? { resume: { record: lastRecord } } : {}),
      observer: dlog,
      log: () => undefined,
    });
    // a resumed run goes on from the epoch after the checkpoint's
    for (const e of events.slice(1)) await ck.report(run === 0 ? e : shift(e, 4));
    await ck.close();
    dlog.close();
    await store.close?.();
  }
  return { log, dir };
}

/** An event of the second fit, numbered after the first fit's epochs and steps. */
function shift(e: LoopEvent, epochs: number): LoopEvent {
  if (!('view' in e) || e.view === undefined) return e;
  return { ...e, view: { ...e.view, epoch: e.view.epoch + epochs, globalStep: e.view.globalStep + epochs * 2 } } as LoopEvent;
}

const verify = (path: string): VerifyReport => verifyLog({ kind: 'file', path });

async function verifyAnchored(path: string, hash: string): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runVerify(path, { expectHead: hash }, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

function edited(recs: Rec[], edit: (r: Rec[]) => Rec[]): string {
  const path = fresh();
  writeRecords(path, rechain(edit(structuredClone(recs))));
  return path;
}

const closeOf = (recs: Rec[], from: number) => recs.findIndex((r, i) => i >= from && r.type === 'close');

test('the runtime log of two runs verifies, with and without its anchor; a stale anchor pins what it pinned', async () => {
  const { log } = await twoRuns();
  const recs = readRecords(log);
  assert.deepEqual(recs.filter((r) => r.type === 'head').map((r) => r.resumedFrom !== null), [false, true]);
  const r = verify(log);
  assert.equal(r.status, 'verified', JSON.stringify(r));
  assert.equal(r.segments, 2);
  const anchored = await verifyAnchored(log, r.lastHash!);
  assert.equal(anchored.code, 0, anchored.out);
  assert.match(anchored.out, /last hash: [0-9a-f]{64} \(the anchor given: the log ends where it was pinned\)/);
  // the anchor taken after the first run: it pins that run; the second is reported as not pinned by it
  const firstClose = closeOf(recs, 0);
  const stale = await verifyAnchored(log, recs[firstClose]!.hash);
  assert.equal(stale.code, 0, stale.out);
  assert.match(stale.out, new RegExp(`note: the anchor is the hash of record ${firstClose + 1}: it pins records 1 to ${firstClose + 1}; records ${firstClose + 2} to ${recs.length} were appended after it`));
  // a bad anchor is refused by name
  const bad = await verifyAnchored(log, 'abc');
  assert.equal(bad.code, 2);
  assert.match(bad.out, /--expect-head: got "abc", expected the 64 hex digits of a record's hash/);
});

test('caught by verify itself: raising close.unsettled; dropping an outcome and lowering close.outcomes; a save turned failed before a removal carried out', async () => {
  const { log } = await twoRuns();
  const recs = readRecords(log);
  const c = closeOf(recs, 0);

  const raised = verify(edited(recs, (r) => ((r[c]!.unsettled += 1), r)));
  assert.equal(raised.status, 'tampered');
  assert.deepEqual([raised.divergence!.field, raised.divergence!.expected, raised.divergence!.recorded], ['unsettled', 0, 1]);
  assert.match(raised.divergence!.message, new RegExp(`record ${c + 1}: unsettled: the segment from record 1 decided 0 storage effect\\(s\\) with no outcome in it, its close counts 1`));

  const o = recs.findIndex((r) => r.type === 'outcome' && r.effect === 'remove');
  const dropped = verify(edited(recs, (r) => ((r[c]!.outcomes -= 1), r.filter((_, i) => i !== o))));
  assert.equal(dropped.status, 'tampered');
  assert.deepEqual([dropped.divergence!.field, dropped.divergence!.expected, dropped.divergence!.recorded], ['unsettled', 1, 0]);

  // the save of the decision that displaced a checkpoint, turned failed: that removal could not have been carried out
  const removal = recs[o]!;
  const save = recs.findIndex((r) => r.type === 'outcome' && r.effect === 'save' && r.seq === removal.seq);
  assert.ok(save >= 0 && save < o);
  const failedSave = verify(
    edited(recs, (r) => {
      const { size: _s, sha256: _h, ...rest } = r[save]!;
      r[save] = { ...rest, status: 'failed', cause: 'disk full' };
      return r;
    }),
  );
  assert.equal(failedSave.status, 'tampered');
  assert.equal(failedSave.divergence!.field, 'outcome.status');
  assert.equal(failedSave.divergence!.record, o + 1);
  assert.match(failedSave.divergence!.message, /is recorded done, but the save of .* failed at record \d+ before it: a failed save withholds every later removal and link/);

  // a removal claimed withheld with no failed save before it
  const withheld = verify(edited(recs, (r) => ((r[o] = { ...r[o]!, status: 'failed', cause: 'withheld: the save of x.ckpt (decision 3) failed' }), r)));
  assert.equal(withheld.divergence!.field, 'outcome.cause');
});

test('caught only by the anchor (and by audit storage where storage tells): a cut-off resumed run, a changed sha256, a done removal turned failed, an outcome dropped with both close counts adjusted', async () => {
  const { log, dir } = await twoRuns();
  const recs = readRecords(log);
  const anchor = verify(log).lastHash!;
  const c = closeOf(recs, 0);
  // in the last run: its setup's listing is what the storage audit starts the run from
  const removal = recs.findIndex((r) => r.type === 'outcome' && r.effect === 'remove' && r.status === 'done' && r.n > c + 1);
  const save = recs.length - 1 - [...recs].reverse().findIndex((r) => r.type === 'outcome' && r.effect === 'save' && r.status === 'done');
  const edits: Array<{ what: string; edit: (r: Rec[]) => Rec[]; storage: RegExp | null }> = [
    // the second run's files are in the folder, and the cut log never wrote them
    { what: 'cut right after the first segment\'s close', edit: (r) => r.slice(0, c + 1), storage: /^orphan / },
    { what: 'an outcome\'s sha256 changed', edit: (r) => ((r[save]!.sha256 = '0'.repeat(64)), r), storage: /^checksum / },
    { what: 'a done removal turned failed', edit: (r) => ((r[removal] = { ...r[removal]!, status: 'failed', cause: 'permission denied' }), r), storage: /^missing / },
    {
      what: 'an outcome dropped, close.outcomes lowered and close.unsettled raised',
      edit: (r) => {
        const close = r[closeOf(r, removal)]!;
        close.outcomes -= 1;
        close.unsettled += 1;
        return r.filter((_, i) => i !== removal);
      },
      storage: null, // an unsettled removal is assumed carried out: storage agrees
    },
  ];
  for (const e of edits) {
    const path = edited(recs, e.edit);
    const alone = verify(path);
    // the forgery is consistent in itself: nothing in the log contradicts it
    assert.equal(alone.status, 'verified', `${e.what}: ${JSON.stringify(alone.divergence)}`);
    const pinned = await verifyAnchored(path, anchor);
    assert.equal(pinned.code, 1, `${e.what}: ${pinned.out}`);
    assert.match(pinned.out, /first divergence: record \d+: head: the log ends with hash [0-9a-f]{12}…, and no record has the anchor's hash [0-9a-f]{12}…: records after it were cut off, or the log was rewritten/);
    assert.match(pinned.out, /result: tampered/);
    if (e.storage !== null) {
      const store = await openFsStore({ root: dir });
      try {
        const st = await auditStorage({ kind: 'file', path }, store);
        assert.equal(st.status, 'drift', `${e.what}: ${JSON.stringify(st.findings)}`);
        assert.ok(st.findings.some((f) => e.storage!.test(`${f.kind} ${f.key}`)), `${e.what}: ${JSON.stringify(st.findings)}`);
      } finally {
        await store.close?.();
      }
    }
  }
  // the untouched log against the same anchor, and against storage: clean
  assert.equal((await verifyAnchored(log, anchor)).code, 0);
  const store = await openFsStore({ root: dir });
  try {
    assert.equal((await auditStorage({ kind: 'file', path: log }, store)).status, 'clean');
  } finally {
    await store.close?.();
  }
});
