/**
 * The decision log against tampering: a log written for a real event stream verifies; editing a
 * value, dropping a record, swapping two, truncating, and forging records with a recomputed chain
 * are each caught, with a message naming the record, the field, what was expected and found.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/core/config.ts';
import { fitEvents } from '../src/core/loop.ts';
import { init, reduce } from '../src/core/reduce.ts';
import type { LoopEvent } from '../src/core/events.ts';
import { encodeJson, sha256Hex } from '../src/audit/canonical.ts';
import { readRecords, rechain, writeRecords, type Rec } from './helpers/decision-log.ts';
import { drive } from '../src/audit/drive.ts';
import { verifyLog, formatVerifyReport, type VerifyReport } from '../src/audit/verify.ts';
import { openDecisionLog } from '../src/audit/writer.ts';
import { runVerify } from '../src/cli/audit.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-audit-log-'));
let counter = 0;
const fresh = () => join(tmp, `log-${++counter}.jsonl`);

const config = parseConfig({ dirpath: 'ckpts', monitor: 'val_loss', save_top_k: 2, save_last: true, verbose: true });
const losses = [0.9, 0.5, 0.7, 0.3, 0.4, NaN, -0];
const events = (): LoopEvent[] => [...fitEvents({ epochs: losses.length, batchesPerEpoch: 3, valMetrics: (e) => ({ val_loss: losses[e]! }), trainMetrics: (_e, s) => ({ train_loss: 1 / (s + 1) }) })];

/** A closed log of the standard run; returns its path. */
function writeRun(path = fresh()): string {
  const log = openDecisionLog(path, { now: () => new Date(0) });
  drive(log, config, events(), { cwd: '/work' });
  log.close();
  return path;
}


const verify = (path: string): VerifyReport => verifyLog({ kind: 'file', path });
const indexOf = (recs: Rec[], pred: (r: Rec) => boolean) => {
  const i = recs.findIndex(pred);
  assert.ok(i >= 0);
  return i;
};
const firstRemoval = (r: Rec) => r.type === 'decision' && (r.effects as Rec[]).some((e) => e.type === 'remove');

test('a log written for a run verifies: chain intact, every decision replayed, closed', () => {
  const path = writeRun();
  const r = verify(path);
  assert.equal(r.status, 'verified', formatVerifyReport(r).join('\n'));
  assert.equal(r.exitCode, 0);
  assert.equal(r.decisions, events().length);
  assert.equal(r.segments, 1);
  const recs = readRecords(path);
  assert.equal(recs[0]!.type, 'head');
  assert.equal((recs[0]!.config as Rec).save_top_k, 2);
  assert.equal(recs.at(-1)!.type, 'close');
  // NaN and -0 are written as strings and come back exactly (the verbose lines depend on them)
  const text = readFileSync(path, 'utf8');
  assert.ok(text.includes('"val_loss":"NaN"') && text.includes('"val_loss":"-0"'));
  // each line: the record's encoding plus the hash of that encoding, chained to the line before
  const lines = text.trimEnd().split('\n');
  for (const [i, rec] of recs.entries()) {
    const { hash, ...body } = rec;
    assert.equal(lines[i], `${encodeJson(body).slice(0, -1)},"hash":"${hash as string}"}`);
    assert.equal(hash, sha256Hex(encodeJson(body)));
    assert.equal(rec.prev, i === 0 ? null : recs[i - 1]!.hash);
    assert.equal(rec.n, i + 1);
  }
});

test('editing one value is caught at that record: its hash no longer matches', () => {
  const path = writeRun();
  const recs = readRecords(path);
  const i = indexOf(recs, (r) => r.type === 'decision' && (r.event as Rec).type === 'trainEpochEnded');
  ((recs[i]!.event as Rec).view as Rec).metrics = { ...(((recs[i]!.event as Rec).view as Rec).metrics as Rec), val_loss: 0.1 };
  writeRecords(path, recs);
  const r = verify(path);
  assert.equal(r.status, 'tampered');
  assert.equal(r.exitCode, 1);
  assert.equal(r.chain?.record, i + 1);
  assert.equal(r.chain?.kind, 'hash');
  assert.match(r.chain!.message, new RegExp(`^record ${i + 1}: hash: expected [0-9a-f]{12}… \\(recomputed from the record\\), found [0-9a-f]{12}…: the record was changed after it was written$`));
});

test('dropping a record is caught at the next one: its prev names a record that is gone', () => {
  const path = writeRun();
  const recs = readRecords(path);
  const i = indexOf(recs, firstRemoval);
  writeRecords(path, [...recs.slice(0, i), ...recs.slice(i + 1)]);
  const r = verify(path);
  assert.equal(r.exitCode, 1);
  assert.equal(r.chain?.record, i + 1);
  assert.equal(r.chain?.kind, 'prev');
  assert.match(r.chain!.message, new RegExp(`^record ${i + 1}: prev: expected [0-9a-f]{12}… \\(the hash of record ${i}\\), found [0-9a-f]{12}…: a record before it was removed, inserted or moved$`));
});

test('swapping two records is caught where the order breaks', () => {
  const path = writeRun();
  const recs = readRecords(path);
  const i = indexOf(recs, firstRemoval);
  [recs[i], recs[i + 1]] = [recs[i + 1]!, recs[i]!];
  writeRecords(path, recs);
  const r = verify(path);
  assert.equal(r.exitCode, 1);
  assert.equal(r.chain?.record, i + 1);
  assert.equal(r.chain?.kind, 'prev');
  assert.equal(r.chainProblems, 3, 'the two swapped records and the one after them');
});

test('truncation: a cut inside a line is a torn write, a cut at a line end loses the close record; both are incomplete (exit 3)', () => {
  const path = writeRun();
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  writeFileSync(path, text.slice(0, text.length - 40));
  let r = verify(path);
  assert.equal(r.status, 'incomplete');
  assert.equal(r.exitCode, 3);
  assert.deepEqual(r.torn, { record: lines.length - 1, bytes: Buffer.byteLength(lines.at(-2)!) - 39 });
  assert.ok(formatVerifyReport(r).some((l) => l.startsWith(`torn: record ${lines.length - 1} is an unfinished line`)));

  writeFileSync(path, lines.slice(0, -5).join('\n') + '\n');
  r = verify(path);
  assert.equal(r.exitCode, 3);
  assert.equal(r.torn, null);
  assert.equal(r.closed, false);
  assert.ok(formatVerifyReport(r).includes(`incomplete: the log ends at record ${lines.length - 5} without a close record (the run is still going, stopped without closing the log, or the log was truncated)`));
});

test('a forged decision with a recomputed chain is caught by the replay: the deletion hidden from the log', () => {
  const path = writeRun();
  const recs = readRecords(path);
  const i = indexOf(recs, firstRemoval);
  const d = recs[i]!;
  const effects = d.effects as Rec[];
  const k = effects.findIndex((e) => e.type === 'remove');
  const removed = effects[k]!;
  d.effects = effects.filter((_, j) => j !== k);
  // its outcome would betray it: drop that too, and fix the close counts, as a careful forger would
  const forged = recs.filter((r) => !(r.type === 'outcome' && r.seq === d.seq && r.index === k));
  const close = forged.at(-1)!;
  close.outcomes = (close.outcomes as number) - 1;
  writeRecords(path, rechain(forged.map((r) => (r.type === 'outcome' && r.seq === d.seq && (r.index as number) > k ? { ...r, index: (r.index as number) - 1 } : r))));
  const r = verify(path);
  assert.equal(r.chain, null, 'the chain was recomputed');
  assert.equal(r.exitCode, 1);
  assert.equal(r.divergence?.record, i + 1);
  assert.equal(r.divergence?.seq, d.seq);
  assert.equal(r.divergence?.field, `effects[${k}]`);
  assert.deepEqual(r.divergence?.expected, removed);
  assert.match(r.divergence!.message, new RegExp(`^record ${i + 1} \\(seq ${d.seq}, trainEpochEnded, epoch \\d+, step \\d+\\): effects\\[${k}\\]: the policy decides \\{"path":"/work/ckpts/`));
});

test('an appended forged decision with a recomputed chain and counts is caught by the replay', () => {
  const path = writeRun();
  const recs = readRecords(path);
  const close = recs.pop()!;
  const last = [...recs].reverse().find((r) => r.type === 'decision')!;
  const forgedEvent = { type: 'trainEpochEnded', view: { epoch: 9, globalStep: 99, metrics: { val_loss: 5 }, numValBatches: [1] } };
  recs.push({ type: 'decision', seq: (last.seq as number) + 1, event: forgedEvent, effects: [{ type: 'save', path: '/work/ckpts/forged.ckpt', weightsOnly: false, reason: { rule: 'topK', trigger: 'trainEpochEnd', monitor: 'val_loss', score: 5, k: 2, keepAll: false, kthValue: 0.5, epoch: 9, step: 99 } }], notes: [] });
  recs.push({ ...close, decisions: (close.decisions as number) + 1 });
  writeRecords(path, rechain(recs));
  const r = verify(path);
  assert.equal(r.chain, null);
  assert.equal(r.exitCode, 1);
  assert.equal(r.divergence?.record, recs.length - 1);
  assert.equal(r.divergence?.field, 'effects[0]');
  // the policy rejects val_loss 5 (verbose: it says so), where the forger recorded a save
  assert.deepEqual(r.divergence?.expected, { level: 'info', message: "Epoch 9, global step 99: 'val_loss' was not in top 2", type: 'log' });
  assert.match(r.divergence!.message, /effects\[0\]: the policy decides \{"level":"info",.*\}, the log records \{"path":"\/work\/ckpts\/forged.ckpt"/);
});

test('forged reasons, a skipped seq, a stray outcome and wrong close counts are each named', () => {
  const cases: Array<[string, (recs: Rec[]) => Rec[], string, RegExp]> = [
    [
      'notes',
      (recs) => {
        const d = recs.find((r) => r.type === 'decision' && (r.notes as Rec[]).some((n) => n.kind === 'rejected'))!;
        d.notes = [{ kind: 'noLastConfigured' }];
        return recs;
      },
      'notes',
      /: notes: the policy's reasons are \[\{"epoch":5,"k":2,"kind":"rejected"/,
    ],
    ['seq', (recs) => recs.map((r) => (r.type === 'decision' && (r.seq as number) > 10 ? { ...r, seq: (r.seq as number) + 1 } : r)), 'seq', /: seq: expected 11 \(the decision after seq 10\), found 12: a decision is missing or out of order$/],
    [
      'outcome',
      (recs) => [...recs.slice(0, -1), { type: 'outcome', seq: 3, index: 0, effect: 'remove', path: '/work/ckpts/x.ckpt', status: 'done' }, { ...recs.at(-1)!, outcomes: (recs.at(-1)!.outcomes as number) + 1 }],
      'outcome',
      /: outcome: names effect #0 of decision seq 3, which the log does not hold/,
    ],
    ['close', (recs) => [...recs.slice(0, -1), { ...recs.at(-1)!, decisions: 3 }], 'decisions', /: decisions: the segment from record 1 holds \d+ decision records, its close counts 3$/],
  ];
  for (const [name, forge, field, message] of cases) {
    const path = writeRun();
    writeRecords(path, rechain(forge(readRecords(path))));
    const r = verify(path);
    assert.equal(r.chain, null, name);
    assert.equal(r.exitCode, 1, name);
    assert.equal(r.divergence?.field, field, name);
    assert.match(r.divergence!.message, message, name);
  }
});

test('appending after a crash: the torn line is cut off and counted, the chain continues, the resumed state is checked', () => {
  const path = fresh();
  const all = events();
  const cut = all.findIndex((e, i) => i > 20 && e.type === 'trainEpochEnded') + 1;
  // the first run: decisions up to `cut`, a crash mid-append, no close
  const log1 = openDecisionLog(path);
  let [s] = init(config, { cwd: '/work' });
  log1.opened({ state: s, resumedFrom: null });
  let seq = 0;
  let savedState = s;
  let savedKey = '';
  for (const ev of all.slice(0, cut)) {
    const [next, effects] = reduce(s, ev);
    log1.decided({ seq: ++seq, event: ev, effects, stateAfter: next });
    const save = effects.find((e) => e.type === 'save' && e.reason.rule === 'topK');
    if (save?.type === 'save') [savedState, savedKey] = [next, save.path.slice('/work/ckpts/'.length)];
    s = next;
  }
  const torn = '{"effects":[],"event":{"type":"trainBatchEnd';
  appendFileSync(path, torn);
  // the process died: no close. A new run appends, resuming from the last top-k checkpoint.
  const log2 = openDecisionLog(path);
  log2.opened({ state: savedState, resumedFrom: savedKey });
  s = savedState;
  seq = 100;
  for (const ev of all.slice(cut)) {
    const [next, effects] = reduce(s, ev);
    log2.decided({ seq: ++seq, event: ev, effects, stateAfter: next });
    s = next;
  }
  log2.close();
  const r = verify(path);
  assert.equal(r.status, 'verified', formatVerifyReport(r).join('\n'));
  assert.equal(r.segments, 2);
  const head2 = readRecords(path).find((x, i) => i > 0 && x.type === 'head')!;
  assert.equal(head2.recoveredTornBytes, torn.length);
  assert.equal(head2.resumedFrom, savedKey);
  assert.ok(head2.state, 'an exact resume records its starting state');
  assert.ok(r.observations.some((o) => new RegExp(`the writer cut off a torn last line of ${torn.length} bytes`).test(o)));
  assert.ok(r.observations.some((o) => /has no close record before record \d+: its writer stopped without closing the log/.test(o)));
  assert.ok(r.observations.some((o) => new RegExp(`resumed from ${savedKey} with the state recorded after record \\d+, which saved it`).test(o)));

  // a resumed state that is not the one the log saved is a divergence
  const recs = readRecords(path);
  const h = recs.find((x, i) => i > 0 && x.type === 'head')!;
  ((h.state as Rec).rules as { topK: Rec }).topK.best_model_score = 0.001;
  writeRecords(path, rechain(recs));
  const bad = verify(path);
  assert.equal(bad.exitCode, 1);
  assert.equal(bad.divergence?.field, 'state');
  assert.match(bad.divergence!.message, new RegExp(`resumed from ${savedKey} with a state that differs from the one after record \\d+, the decision that saved it`));
});

test('ckpt audit verify: report lines and exit codes (0 verified, 1 tampered, 2 unreadable, 3 incomplete)', async () => {
  const out: string[] = [];
  const path = writeRun();
  assert.equal(await runVerify(path, {}, (l) => out.push(l)), 0);
  assert.ok(out.includes('chain: intact') && out.includes('result: verified'), out.join('\n'));
  const recs = readRecords(path);
  recs[3]!.seq = 77;
  writeRecords(path, recs);
  out.length = 0;
  assert.equal(await runVerify(path, {}, (l) => out.push(l)), 1);
  assert.ok(out.some((l) => l.startsWith('chain broken: record 4: hash:')), out.join('\n'));
  out.length = 0;
  assert.equal(await runVerify(join(tmp, 'absent.jsonl'), {}, (l) => out.push(l)), 2);
  assert.match(out[0]!, /^unreadable: .*absent\.jsonl: no such file$/);
  writeFileSync(path, '');
  assert.equal(await runVerify(path, {}, () => undefined), 2);
  // a format this reader does not know is unreadable, not tampered
  const newer = writeRun();
  const recs2 = readRecords(newer);
  recs2[0]!.format = 'ckpt-policy/decision-log@3';
  writeRecords(newer, rechain(recs2));
  out.length = 0;
  assert.equal(await runVerify(newer, {}, (l) => out.push(l)), 2);
  assert.match(out[0]!, /^unreadable: .*: record 1: format: expected "ckpt-policy\/decision-log@1" or "ckpt-policy\/decision-log@2", found "ckpt-policy\/decision-log@3" \(written by another version of the tool\?\)$/);
  const p2 = writeRun();
  writeFileSync(p2, readFileSync(p2, 'utf8').split('\n').slice(0, -2).join('\n') + '\n');
  assert.equal(await runVerify(p2, { json: true }, (l) => out.push(l)), 3);
  assert.equal((JSON.parse(out.at(-1)!) as VerifyReport).status, 'incomplete');
});

test('two runs with different policies in one log: two segments, each replayed under its own head', () => {
  const path = fresh();
  const log = openDecisionLog(path);
  drive(log, config, events().slice(0, 25), { cwd: '/work' });
  const other = parseConfig({ dirpath: '/elsewhere', save_top_k: -1, every_n_epochs: 2 });
  drive(log, other, events(), { cwd: '/tmp' });
  log.close();
  const r = verify(path);
  assert.equal(r.status, 'verified', formatVerifyReport(r).join('\n'));
  assert.equal(r.segments, 2);
  const heads = readRecords(path).filter((x) => x.type === 'head');
  assert.deepEqual(heads.map((h) => [(h.config as Rec).dirpath, h.cwd]), [['ckpts', '/work'], ['/elsewhere', '/tmp']]);
  // the second segment's saves are every second epoch's, under /elsewhere
  const saves = readRecords(path).flatMap((x) => (x.type === 'decision' ? (x.effects as Rec[]).filter((e) => e.type === 'save').map((e) => e.path as string) : []));
  assert.ok(saves.some((p) => p.startsWith('/work/ckpts/')) && saves.some((p) => p === '/elsewhere/epoch=1-step=6.ckpt'));
});

test('appending refuses a log whose last line is not a record, naming it', () => {
  const path = fresh();
  writeFileSync(path, '{"not":"a record"}\n');
  assert.throws(() => openDecisionLog(path, { config, cwd: '/' }), /cannot append to decision log .*: its last line is not a decision log record \(/);
});

test('a log in the previous format (@1, before dialect segments) still reads and verifies', () => {
  const path = writeRun();
  const recs = readRecords(path);
  assert.equal(recs[0]!.format, 'ckpt-policy/decision-log@2');
  // what the @1 writer wrote: the same records under the old format name
  recs[0]!.format = 'ckpt-policy/decision-log@1';
  writeRecords(path, rechain(recs));
  const r = verify(path);
  assert.equal(r.status, 'verified', formatVerifyReport(r).join('\n'));
  assert.equal(r.decisions, events().length);
  // and a writer appending a new run to it continues the chain in the current format
  const log = openDecisionLog(path, { now: () => new Date(0) });
  drive(log, config, events(), { cwd: '/work' });
  log.close();
  const after = readRecords(path).filter((x) => x.type === 'head').map((x) => x.format);
  assert.deepEqual(after, ['ckpt-policy/decision-log@1', 'ckpt-policy/decision-log@2']);
  assert.equal(verify(path).status, 'verified');
});
