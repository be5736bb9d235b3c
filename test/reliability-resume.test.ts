/**
 * Resume never silently starts over (issue 15, items 3 and 6): a checkpoint that cannot be read is
 * retried and then a loud ResumeError naming it; a kill during the very first save (last.ckpt
 * landed, the top-k file did not) is carried on from, the missing file rewritten from its twin.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../plugins/fs/index.ts';
import { s3Store } from '../plugins/s3/index.ts';
import type { CheckpointStore, Payload } from '../src/core/store.ts';
import type { LoopEvent } from '../src/core/events.ts';
import { fitEvents } from '../src/core/loop.ts';
import { Checkpointer, ResumeError, type CaptureRequest, type CheckpointRecord } from '../src/runtime/index.ts';
import { startS3Server, s3SkipReason, type S3TestServer } from './helpers/s3-server.ts';
import { startFaultProxy, op, s3Operation, type FaultProxy } from './helpers/fault-proxy.ts';

const capture = (req: CaptureRequest): Payload => ({ kind: 'bytes', data: new TextEncoder().encode(JSON.stringify({ weights: req.record.globalStep, record: req.record })) });
const readRecord = (p: Payload) => (p.kind === 'bytes' ? JSON.parse(new TextDecoder().decode(p.data)).record : undefined);
const curve = (n: number) => Array.from({ length: n }, (_, e) => 1 / (e + 1)); // improves every epoch: the best is the newest
const events = (epochs: number): LoopEvent[] => [...fitEvents({ epochs, batchesPerEpoch: 2, valMetrics: (e) => ({ val_loss: curve(epochs)[e]! }) })].filter((e) => e.type !== 'setup');
/** The checkpoints in a folder (not the writer lease beside them). */
const checkpointsIn = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('.ckpt-policy-lease')).sort();
const OPTIONS = { monitor: 'val_loss', save_top_k: 3, save_last: true, filename: '{epoch:02d}' };

async function run(store: CheckpointStore, evs: readonly LoopEvent[], resume: 'latest' | false = false, logs: string[] = []) {
  const ck = await Checkpointer.open({ options: OPTIONS, store, capture, readRecord, resume, log: (l, m) => logs.push(`${l}: ${m}`) });
  for (const e of evs) await ck.report(e);
  await ck.close(); // the run ends (a SIGKILL would leave a dead pid: its writer lease is taken at once either way)
  return ck;
}

const skip = s3SkipReason();
let server: S3TestServer;
let proxy: FaultProxy;
before(async () => {
  if (skip) return;
  server = await startS3Server();
  await server.createBucket('rel');
  proxy = await startFaultProxy(server.endpoint);
});
after(async () => {
  await proxy?.stop();
  await server?.stop();
});

test('item 3: 503s on the GETs of the three newest S3 checkpoints fail resume loudly, naming them; fewer faults are retried through', { skip }, async () => {
  proxy.clear();
  const s = () => s3Store({ bucket: 'rel', prefix: 'resume-faults', endpoint: proxy.endpoint, forcePathStyle: true, credentials: server.credentials, maxAttempts: 1 });
  await run(s(), events(30));
  const newest = ['epoch=29.ckpt', 'epoch=28.ckpt', 'last.ckpt'];
  for (const k of newest) proxy.add({ match: op('GetObject', k), action: { kind: 'status', status: 503, code: 'SlowDown' } });
  const logs: string[] = [];
  await assert.rejects(
    Checkpointer.open({ options: OPTIONS, store: s(), capture, readRecord, resume: 'latest', log: (l, m) => logs.push(m) }),
    (e: unknown) => {
      assert.ok(e instanceof ResumeError, String(e));
      for (const k of newest) assert.match(e.message, new RegExp(`${k.replace(/[.]/g, '\\.')} could not be read \\(3 attempts; last: .*503`));
      assert.match(e.message, /Refusing to start over or fall back to an older checkpoint/);
      return true;
    },
  );
  assert.equal(logs.filter((m) => /starting fresh/.test(m)).length, 0);
  // each of them was tried three times
  for (const k of newest) assert.equal(proxy.log.filter((r) => s3Operation(r) === 'GetObject' && r.path.endsWith('/' + k)).length, 3);

  // two failures per object: the third try reads it, and the run resumes from epoch 29
  proxy.clear();
  for (const k of newest) proxy.add({ match: op('GetObject', k), action: { kind: 'status', status: 503, code: 'SlowDown' }, times: 2 });
  const ck = await Checkpointer.open({ options: OPTIONS, store: s(), capture, readRecord, resume: 'latest', log: () => undefined });
  assert.equal(ck.resumed?.mode, 'exact');
  assert.equal((ck.resumed?.record as CheckpointRecord).epoch, 29);
  assert.equal(ck.bestModelPath.endsWith('epoch=29.ckpt'), true);
  await ck.close();
});

test('item 3: a checkpoint that holds no record is skipped and the fresh start says which and why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-rel-norecord-'));
  const store = await openFsStore({ root: dir });
  await store.save('foreign.ckpt', { kind: 'bytes', data: new TextEncoder().encode('{"weights": 1}') });
  const logs: string[] = [];
  const ck = await run(store, events(1), 'latest', logs);
  assert.equal(ck.resumed, null);
  assert.ok(logs.includes(`info: no checkpoint to resume from in ${dir} (foreign.ckpt holds no ckpt-policy record): starting fresh`), logs.join('\n'));
});

test('item 6: killed during the very first save (last.ckpt landed, the top-k file did not): resume carries on, no last-v1.ckpt, no stale last.ckpt', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-rel-firstsave-'));
  const evs = events(4);
  const firstEnd = evs.findIndex((e) => e.type === 'trainEpochEnded');
  await run(await openFsStore({ root: dir }), evs.slice(0, firstEnd + 1));
  assert.deepEqual(checkpointsIn(dir), ['epoch=00.ckpt', 'last.ckpt']);
  // the state a SIGKILL between the two writes leaves (the top-k save is submitted first, last.ckpt's record names it as in flight)
  rmSync(join(dir, 'epoch=00.ckpt'));
  const logs: string[] = [];
  const ck = await run(await openFsStore({ root: dir }), evs.slice(firstEnd + 1), 'latest', logs);
  assert.equal(ck.resumed?.key, 'last.ckpt');
  assert.ok(logs.includes('info: resume: wrote epoch=00.ckpt again from last.ckpt (the same decision\'s save, stopped before it landed)'), logs.join('\n'));
  assert.deepEqual(checkpointsIn(dir), ['epoch=01.ckpt', 'epoch=02.ckpt', 'epoch=03.ckpt', 'last.ckpt']);
  const last = readRecord(await (await openFsStore({ root: dir })).read('last.ckpt')) as CheckpointRecord;
  assert.equal(last.epoch, 3);
  // the rewritten file is the same model as last.ckpt held
  assert.equal(existsSync(join(dir, 'last-v1.ckpt')), false);
});

test('a kill after the top-k file and before last.ckpt is overwritten: resume writes last.ckpt again from the top-k file (no stale last.ckpt)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-rel-stalelast-'));
  const evs = events(2);
  const ends = evs.flatMap((e, i) => (e.type === 'trainEpochEnded' ? [i] : []));
  await run(await openFsStore({ root: dir }), evs.slice(0, ends[0]! + 1));
  const store = await openFsStore({ root: dir });
  const lastOfEpoch0 = await store.read('last.ckpt');
  await run(await openFsStore({ root: dir }), evs.slice(ends[0]! + 1, ends[1]! + 1), 'latest');
  assert.deepEqual(checkpointsIn(dir), ['epoch=00.ckpt', 'epoch=01.ckpt', 'last.ckpt']);
  // what a SIGKILL between the two writes of epoch 1's decision leaves: epoch=01.ckpt landed, last.ckpt still epoch 0's
  await (await openFsStore({ root: dir })).save('last.ckpt', lastOfEpoch0);
  const logs: string[] = [];
  const ck = await run(await openFsStore({ root: dir }), [], 'latest', logs);
  assert.equal(ck.resumed?.key, 'epoch=01.ckpt');
  assert.ok(logs.includes("info: resume: wrote last.ckpt again from epoch=01.ckpt (the same decision's save, stopped before it landed)"), logs.join('\n'));
  const last = readRecord(await (await openFsStore({ root: dir })).read('last.ckpt')) as CheckpointRecord;
  assert.equal(last.epoch, 1);
});

test("a kill while a background save is overtaken (its removal already decided): resume carries on from the newer checkpoint, not from scratch", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-rel-overtaken-'));
  const fs = await openFsStore({ root: dir });
  // epoch 0's write hangs (the process is killed before it lands); epoch 1's lands, and its decision removes epoch 0
  const hung: CheckpointStore = { ...fs, list: () => fs.list(), read: (k) => fs.read(k), remove: (k) => fs.remove(k), save: (k, p) => (k === 'epoch=00.ckpt' ? new Promise<void>(() => undefined) : fs.save(k, p)) };
  const options = { monitor: 'val_loss', save_top_k: 1, filename: '{epoch:02d}' };
  const first = await Checkpointer.open({ options, store: hung, capture, readRecord, background: { maxInFlight: 2 }, log: () => undefined });
  const evs = events(2);
  const ends = evs.flatMap((e, i) => (e.type === 'trainEpochEnded' ? [i] : []));
  for (const e of evs.slice(0, ends[1]! + 1)) void first.report(e).catch(() => undefined);
  for (let i = 0; i < 100 && !checkpointsIn(dir).includes('epoch=01.ckpt'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(checkpointsIn(dir), ['epoch=01.ckpt']);
  const rec = readRecord(await fs.read('epoch=01.ckpt')) as CheckpointRecord;
  assert.deepEqual([rec.pendingSaves, rec.pendingRemovals], [['epoch=00.ckpt'], ['epoch=00.ckpt']]);
  // the first run is gone (its lease is taken over, as a dead pid's would be)
  const logs: string[] = [];
  const ck = await Checkpointer.open({ options, store: await openFsStore({ root: dir }), capture, readRecord, resume: 'latest', takeOver: true, log: (l, m) => logs.push(`${l}: ${m}`) });
  assert.equal(ck.resumed?.key, 'epoch=01.ckpt', logs.join('\n'));
  assert.equal(ck.bestModelPath, join(dir, 'epoch=01.ckpt'));
  await ck.close();
});

test("save_last='link': a kill after the top-k file and before last.ckpt is re-pointed: resume points it again before finishing the decision's removal (no dangling last.ckpt)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-rel-relink-'));
  const options = { monitor: 'val_loss', save_top_k: 1, save_last: 'link', filename: '{epoch:02d}' };
  const go = async (evs: readonly LoopEvent[], resume: 'latest' | false, logs: string[] = []) => {
    const ck = await Checkpointer.open({ options, store: await openFsStore({ root: dir }), capture, readRecord, resume, log: (l, m) => logs.push(`${l}: ${m}`) });
    for (const e of evs) await ck.report(e);
    await ck.close();
    return ck;
  };
  const evs = events(2);
  const ends = evs.flatMap((e, i) => (e.type === 'trainEpochEnded' ? [i] : []));
  await go(evs.slice(0, ends[0]! + 1), false);
  const epoch0 = await (await openFsStore({ root: dir })).read('epoch=00.ckpt');
  await go(evs.slice(ends[0]! + 1, ends[1]! + 1), 'latest');
  assert.deepEqual(checkpointsIn(dir), ['epoch=01.ckpt', 'last.ckpt']);
  // what a SIGKILL after epoch 1's save leaves: epoch=00.ckpt not yet removed, last.ckpt still pointing at it
  const fs = await openFsStore({ root: dir });
  await fs.save('epoch=00.ckpt', epoch0);
  await fs.link('epoch=00.ckpt', 'last.ckpt');
  const logs: string[] = [];
  const ck = await go([], 'latest', logs);
  assert.equal(ck.resumed?.key, 'epoch=01.ckpt');
  assert.ok(logs.includes("info: resume: pointed last.ckpt at epoch=01.ckpt again (the same decision's link, stopped before it landed)"), logs.join('\n'));
  assert.deepEqual(checkpointsIn(dir), ['epoch=01.ckpt', 'last.ckpt']);
  const last = readRecord(await (await openFsStore({ root: dir })).read('last.ckpt')) as CheckpointRecord;
  assert.equal(last.epoch, 1);
});
