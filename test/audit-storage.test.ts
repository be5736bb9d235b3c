/**
 * Storage drift against a decision log written by the runtime itself (Checkpointer + store plugin,
 * the log as its observer, sizes and checksums recorded through withDigests), on a local folder
 * and on the S3 server: a clean run is clean; a deleted checkpoint, a stray file, a file the policy
 * removed coming back, and changed bytes are each reported exactly; exit codes 0 / 1 / 2.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../plugins/fs/index.ts';
import { s3Store } from '../plugins/s3/index.ts';
import type { CheckpointStore } from '../src/core/store.ts';
import { fitEvents } from '../src/core/loop.ts';
import type { LoopEvent } from '../src/core/events.ts';
import { Checkpointer } from '../src/runtime/index.ts';
import { withDigests } from '../src/audit/digests.ts';
import { publishDecisionLog } from '../src/audit/publish.ts';
import { auditStorage, formatStorageReport, type StorageReport } from '../src/audit/storage.ts';
import { verifyLog } from '../src/audit/verify.ts';
import { openDecisionLog } from '../src/audit/writer.ts';
import { runStorage, runVerify } from '../src/cli/audit.ts';
import { startS3Server, s3SkipReason, TEST_ACCESS_KEY, TEST_SECRET_KEY, type S3TestServer } from './helpers/s3-server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-audit-storage-'));
const losses = [0.9, 0.5, 0.7, 0.3, 0.4, 0.6];
const OPTIONS = { monitor: 'val_loss', save_top_k: 2, save_last: true, filename: '{epoch}-{val_loss:.2f}' };
// kept at the end: the two best (epochs 3 and 4) and last.ckpt; epochs 0, 1, 2 were displaced
const KEPT = ['epoch=3-val_loss=0.30.ckpt', 'epoch=4-val_loss=0.40.ckpt', 'last.ckpt'];

/** A run through the real runtime, the decision log observing it; returns the log's path. */
async function runTraining(store: CheckpointStore, logPath: string): Promise<void> {
  const log = openDecisionLog(logPath);
  const plan = { epochs: losses.length, batchesPerEpoch: 2, valMetrics: (e: number) => ({ val_loss: losses[e]! }) };
  const events = [...fitEvents(plan)];
  const setup = events[0] as Extract<LoopEvent, { type: 'setup' }>;
  const ck = await Checkpointer.open({
    options: OPTIONS,
    store: withDigests(store, log),
    // distinct bytes (and sizes) per save, like real checkpoints
    capture: (req) => ({ kind: 'bytes', data: new TextEncoder().encode(`weights for ${req.key} at seq ${req.record.seq}`) }),
    background: false,
    cwd: tmp,
    ...(setup.trainer ? { trainer: setup.trainer } : {}),
    observer: log,
    log: () => undefined,
  });
  for (const e of events.slice(1)) await ck.report(e);
  await ck.close();
  log.close();
}

const src = (path: string) => ({ kind: 'file' as const, path });
const bytes = (s: string) => ({ kind: 'bytes' as const, data: new TextEncoder().encode(s) });

function kinds(r: StorageReport): string[] {
  return r.findings.map((f) => `${f.kind} ${f.key}`).sort();
}

test('local folder: a clean run is clean, with sizes and checksums checked; each kind of drift is named', async () => {
  const dir = join(tmp, 'fs-ckpts');
  const logPath = join(tmp, 'fs-decisions.jsonl');
  const store = await openFsStore({ root: dir });
  await runTraining(store, logPath);
  assert.deepEqual(readdirSync(dir).filter((n) => !n.startsWith('.ckpt-policy-lease')).sort(), KEPT);
  assert.equal(verifyLog(src(logPath)).status, 'verified');

  let r = await auditStorage(src(logPath), store);
  assert.equal(r.status, 'clean', formatStorageReport(r).join('\n'));
  assert.equal(r.exitCode, 0);
  assert.equal(r.expected, 3);
  assert.equal(r.sizesChecked, 3);
  assert.equal(r.checksumsChecked, 3);
  assert.equal(r.withoutChecksum, 0);

  // a kept checkpoint deleted by hand, a stray one added, a displaced one back, bytes changed in place
  rmSync(join(dir, 'epoch=4-val_loss=0.40.ckpt'));
  writeFileSync(join(dir, 'epoch=9-val_loss=0.01.ckpt'), 'not from this run');
  writeFileSync(join(dir, 'epoch=1-val_loss=0.50.ckpt'), 'restored from a backup');
  const lastSize = statSync(join(dir, 'last.ckpt')).size;
  writeFileSync(join(dir, 'last.ckpt'), 'x'.repeat(lastSize));
  writeFileSync(join(dir, 'epoch=3-val_loss=0.30.ckpt'), 'truncated');
  writeFileSync(join(dir, 'notes.txt'), 'not a checkpoint');
  r = await auditStorage(src(logPath), store);
  assert.equal(r.status, 'drift');
  assert.equal(r.exitCode, 1);
  assert.deepEqual(kinds(r), ['checksum last.ckpt', 'missing epoch=4-val_loss=0.40.ckpt', 'orphan epoch=1-val_loss=0.50.ckpt', 'orphan epoch=9-val_loss=0.01.ckpt', 'size epoch=3-val_loss=0.30.ckpt']);
  const msg = (key: string) => r.findings.find((f) => f.key === key)!.message;
  assert.match(msg('epoch=4-val_loss=0.40.ckpt'), /^missing   epoch=4-val_loss=0\.40\.ckpt: saved by record \d+ \(decision seq \d+\), not in storage$/);
  assert.match(msg('epoch=1-val_loss=0.50.ckpt'), /^orphan    epoch=1-val_loss=0\.50\.ckpt: removed by record \d+ \(decision seq \d+\) \(displaced\), still in storage$/);
  assert.equal(msg('epoch=9-val_loss=0.01.ckpt'), 'orphan    epoch=9-val_loss=0.01.ckpt: never written by the policy (not in any listing or save of this log)');
  assert.match(msg('epoch=3-val_loss=0.30.ckpt'), /^size      epoch=3-val_loss=0\.30\.ckpt: \d+ bytes recorded \(saved by record \d+ \(decision seq \d+\)\), 9 bytes in storage$/);
  assert.match(msg('last.ckpt'), /^checksum  last\.ckpt: sha256 [0-9a-f]{16}… recorded \(saved by record \d+ \(decision seq \d+\)\), [0-9a-f]{16}… in storage$/);
  assert.deepEqual(r.ignored, ['notes.txt']);
});

test('ckpt audit storage: exit 0 clean, 1 drift, 2 unreadable; the log beside the checkpoints is not an orphan', async () => {
  const dir = join(tmp, 'cli-ckpts');
  const logPath = join(dir, 'decisions.jsonl');
  await runTraining(await openFsStore({ root: dir }), logPath);
  const out: string[] = [];
  assert.equal(await runStorage(logPath, dir, {}, (l) => out.push(l)), 0, out.join('\n'));
  assert.equal(out.at(-1), 'result: clean');
  assert.ok(out.includes('checked: 3 expected, 3 stored; sizes compared for 3, checksums for 3'), out.join('\n'));
  rmSync(join(dir, 'last.ckpt'));
  out.length = 0;
  assert.equal(await runStorage(logPath, dir, {}, (l) => out.push(l)), 1);
  assert.equal(out.at(-1), 'result: drift (1 finding)');
  assert.equal(await runStorage(join(tmp, 'no-such.jsonl'), dir, {}, () => undefined), 2);
  // a log that fails its chain cannot say what storage should hold
  writeFileSync(logPath, 'garbage\n');
  out.length = 0;
  assert.equal(await runStorage(logPath, dir, {}, (l) => out.push(l)), 2);
  assert.match(out[0]!, /^unreadable: /);
});

test('the runtime resuming after a crash appends to the same log: one chain, the resumed state checked, storage clean', async () => {
  const dir = join(tmp, 'resume-ckpts');
  const logPath = join(tmp, 'resume-decisions.jsonl');
  const store = await openFsStore({ root: dir });
  const plan = { epochs: losses.length, batchesPerEpoch: 2, valMetrics: (e: number) => ({ val_loss: losses[e]! }) };
  const events = [...fitEvents(plan)];
  const setup = events[0] as Extract<LoopEvent, { type: 'setup' }>;
  // byte checkpoints carry the runtime's record as JSON, so a restarted run can read it back
  const open = (log: ReturnType<typeof openDecisionLog>, resume: false | 'latest') =>
    Checkpointer.open({
      // the crashed run is still an object in this process: its writer lease is taken over, as a dead pid's would be
      takeOver: resume === 'latest',
      options: OPTIONS,
      store: withDigests(store, log),
      capture: (req) => ({ kind: 'bytes', data: new TextEncoder().encode(JSON.stringify(req.record)) }),
      readRecord: (p) => (p.kind === 'bytes' ? JSON.parse(new TextDecoder().decode(p.data)) : undefined),
      resume,
      background: false,
      cwd: tmp,
      ...(setup.trainer ? { trainer: setup.trainer } : {}),
      observer: log,
      log: () => undefined,
    });
  const log1 = openDecisionLog(logPath);
  const ck1 = await open(log1, false);
  const crashAt = events.findIndex((e) => e.type === 'trainEpochEnded' && e.view.epoch === 2) + 2;
  for (const e of events.slice(1, crashAt)) await ck1.report(e);
  // the process dies mid-append: no close record, a torn line
  const torn = '{"type":"decision","seq":';
  writeFileSync(logPath, readFileSync(logPath, 'utf8') + torn);
  const log2 = openDecisionLog(logPath);
  const ck2 = await open(log2, 'latest');
  assert.equal(ck2.resumed?.mode, 'exact');
  for (const e of events.slice(crashAt)) if (e.type !== 'setup' && e.type !== 'trainStarted') await ck2.report(e);
  await ck2.close();
  log2.close();
  assert.deepEqual(readdirSync(dir).filter((n) => !n.startsWith('.ckpt-policy-lease')).sort(), KEPT);
  const v = verifyLog(src(logPath));
  assert.equal(v.status, 'verified', v.observations.join('\n'));
  assert.equal(v.segments, 2);
  const from = ck2.resumed!.key;
  assert.ok(v.observations.some((o) => o.endsWith(`resumed from ${from} with the state recorded after record ${o.match(/after record (\d+)/)?.[1]}, which saved it`)), v.observations.join('\n'));
  assert.ok(v.observations.some((o) => o.endsWith(`cut off a torn last line of ${torn.length} bytes left by a crash before appending`)));
  const r = await auditStorage(src(logPath), store);
  assert.equal(r.status, 'clean', formatStorageReport(r).join('\n'));
  assert.equal(r.checksumsChecked, 3);
});

// ---- S3 ----------------------------------------------------------------------------------------

const skip = s3SkipReason();
const BUCKET = 'ckpt-audit';
let server: S3TestServer;

before(async () => {
  if (skip) return;
  server = await startS3Server();
  await server.createBucket(BUCKET);
});
after(async () => {
  await server?.stop();
});

test('S3: a clean run is clean; a deleted, a stray and a rewritten object are drift; the log read from the bucket', { skip }, async () => {
  const store = s3Store({ bucket: BUCKET, prefix: 'run1', endpoint: server.endpoint, forcePathStyle: true, credentials: server.credentials });
  const logPath = join(tmp, 's3-decisions.jsonl');
  await runTraining(store, logPath);
  assert.deepEqual((await store.list()).map((e) => e.key), KEPT);
  let r = await auditStorage(src(logPath), store);
  assert.equal(r.status, 'clean', formatStorageReport(r).join('\n'));
  assert.equal(r.checksumsChecked, 3);

  await store.remove('epoch=3-val_loss=0.30.ckpt');
  await store.save('stray.ckpt', bytes('stray'));
  const last = await store.read('last.ckpt');
  assert.equal(last.kind, 'bytes');
  await store.save('last.ckpt', bytes('y'.repeat(last.kind === 'bytes' ? last.data.byteLength : 0)));
  r = await auditStorage(src(logPath), store);
  assert.equal(r.status, 'drift');
  assert.deepEqual(kinds(r), ['checksum last.ckpt', 'missing epoch=3-val_loss=0.30.ckpt', 'orphan stray.ckpt']);

  // the CLI, with the log uploaded beside the checkpoints and the store opened from the environment
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: server.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: TEST_SECRET_KEY });
  try {
    await publishDecisionLog(logPath, store);
    const out: string[] = [];
    assert.equal(await runVerify(`s3://${BUCKET}/run1/decisions.jsonl`, {}, (l) => out.push(l)), 0, out.join('\n'));
    out.length = 0;
    assert.equal(await runStorage(`s3://${BUCKET}/run1/decisions.jsonl`, `s3://${BUCKET}/run1`, {}, (l) => out.push(l)), 1, out.join('\n'));
    assert.ok(!out.some((l) => l.includes('decisions.jsonl:') && l.startsWith('orphan')), 'the log itself is not an orphan');
    assert.equal(out.filter((l) => /^(missing|orphan|checksum) /.test(l)).length, 3, out.join('\n'));
  } finally {
    for (const k of ['AWS_ENDPOINT_URL_S3', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
    await store.close?.();
  }
});

after(() => rmSync(tmp, { recursive: true, force: true }));
