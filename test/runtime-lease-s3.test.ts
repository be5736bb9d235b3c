/**
 * The writer lease on S3 (issue 15, item 4), against radosgw through the fault proxy: conditional
 * writes (If-None-Match: * to take it, If-Match: <ETag> to renew) refuse a second writer, let
 * takeOver: true take the prefix, and make the run that lost it delete nothing; a lost answer to
 * the lease write is recognised; a hung holder's lease is taken once it expires. And item 8: a
 * removal S3 refused is recorded in the lease as an orphan and removed by the next open.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { s3Store } from '../plugins/s3/index.ts';
import type { CheckpointStore } from '../src/core/store.ts';
import { Checkpointer, CheckpointWriteError, LeaseLostError, readLease, WriterLeaseError } from '../src/runtime/index.ts';
import { auditStorage, formatStorageReport } from '../src/audit/storage.ts';
import { openDecisionLog } from '../src/audit/writer.ts';
import { startFaultProxy, op, s3Operation, type FaultProxy, type LoggedRequest } from './helpers/fault-proxy.ts';
import { exited, leaseChild } from './helpers/lease-holder.ts';
import { leaseCapture, leaseEvents, LEASE_OPTIONS, leaseReadRecord, writerOf } from './helpers/lease-run.ts';
import { startS3Server, s3SkipReason, type S3TestServer } from './helpers/s3-server.ts';

const skip = s3SkipReason();
let server: S3TestServer;
let proxy: FaultProxy;
before(async () => {
  if (skip) return;
  server = await startS3Server();
  await server.createBucket('lease');
  proxy = await startFaultProxy(server.endpoint);
});
after(async () => {
  await proxy?.stop();
  await server?.stop();
});

const settings = (prefix: string, maxAttempts = 3) => ({ bucket: 'lease', prefix, endpoint: proxy.endpoint, forcePathStyle: true, credentials: server.credentials, maxAttempts });
const storeAt = (prefix: string, maxAttempts = 3) => s3Store(settings(prefix, maxAttempts));
const open = (store: CheckpointStore, writer: string, extra: Partial<Parameters<typeof Checkpointer.open>[0]> = {}, logs: string[] = []) =>
  Checkpointer.open({ options: LEASE_OPTIONS, store, capture: leaseCapture(writer), readRecord: leaseReadRecord, background: false, log: (l, m) => logs.push(`${l}: ${m}`), ...extra });
const train = async (ck: Checkpointer, from: number, to: number) => {
  for (const e of leaseEvents(from, to)) await ck.report(e);
};
const writersIn = async (store: CheckpointStore) => Object.fromEntries(await Promise.all((await store.list()).map(async (e) => [e.key, writerOf(await store.read(e.key))] as const)));
/** Requests that change checkpoints (not the lease) under a prefix. */
const checkpointWrites = (log: readonly LoggedRequest[], prefix: string) =>
  log.filter((r) => r.path.startsWith(`/lease/${prefix}/`) && !r.path.endsWith('/.ckpt-policy-lease') && ['PutObject', 'DeleteObject', 'CopyObject'].includes(s3Operation(r)));
const leaseWrites = (log: readonly LoggedRequest[], prefix: string) => log.filter((r) => r.path === `/lease/${prefix}/.ckpt-policy-lease` && s3Operation(r) === 'PutObject');

test('a second writer on the same S3 prefix is refused at open; the lease is taken with If-None-Match and renewed with If-Match', { skip }, async () => {
  proxy.clear();
  // a short lifetime, so that renewals (every third of it) happen while A trains
  const a = await open(storeAt('two'), 'A', { leaseTtlMs: 600 });
  await train(a, 0, 2);
  await new Promise((r) => setTimeout(r, 450));
  await train(a, 2, 4);
  const taken = leaseWrites(proxy.log, 'two');
  assert.equal(taken[0]?.headers['if-none-match'], '*');
  assert.ok(taken.slice(1).length > 0 && taken.slice(1).every((r) => typeof r.headers['if-match'] === 'string'), 'every renewal is conditional on the ETag held');
  const mark = proxy.log.length;
  await assert.rejects(open(storeAt('two'), 'B', { resume: 'latest' }), (e: unknown) => {
    assert.ok(e instanceof WriterLeaseError, String(e));
    assert.match(e.message, new RegExp(`another run is writing checkpoints in s3://lease/two: run ${a.runId} \\(host .+, pid ${process.pid}\\) holds the folder's writer lease`));
    assert.match(e.message, /s3:\/\/lease\/two\/\.ckpt-policy-lease/);
    assert.match(e.message, /pass takeOver: true/);
    return true;
  });
  assert.deepEqual(checkpointWrites(proxy.log.slice(mark), 'two'), [], 'the refused run wrote and deleted nothing');
  await train(a, 4, 6);
  assert.deepEqual(Object.values(await writersIn(a.store)), ['A', 'A', 'A', 'A']);
  // the lease object is no checkpoint: not listed, and resume does not look at it
  assert.deepEqual((await a.store.list()).map((e) => e.key), ['epoch=03.ckpt', 'epoch=04.ckpt', 'epoch=05.ckpt', 'last.ckpt']);
  await a.close();
  const b = await open(storeAt('two'), 'B', { resume: 'latest' });
  assert.equal(b.resumed?.record.epoch, 5);
  await b.close();
});

test('the S3 lease slot is a compare-and-swap: of 8 concurrent creates and then 8 replaces of one ETag, exactly one wins each time', { skip }, async () => {
  const slots = Array.from({ length: 8 }, () => storeAt('cas').lease!);
  const created = await Promise.all(slots.map((s, i) => s.create(`create ${i}`)));
  assert.equal(created.filter((v) => v !== null).length, 1);
  const v1 = created.find((v) => v !== null)!;
  const replaced = await Promise.all(slots.map((s, i) => s.replace(`writer ${i}`, v1)));
  const winners = replaced.map((v, i) => (v !== null ? i : -1)).filter((i) => i >= 0);
  assert.equal(winners.length, 1, `winners: ${winners.join(', ')}`);
  assert.equal((await slots[0]!.read())?.text, `writer ${winners[0]}`);
  assert.equal(await slots[1]!.replace('stale', v1), null);
});

test('takeOver: true on S3: the run that lost the lease sends no PUT or DELETE of a checkpoint again', { skip }, async () => {
  proxy.clear();
  const a = await open(storeAt('takeover'), 'A');
  await train(a, 0, 4);
  const logs: string[] = [];
  const b = await open(storeAt('takeover'), 'B', { takeOver: true }, logs);
  assert.ok(logs.some((l) => l.includes(`taking over s3://lease/takeover from run ${a.runId}`)), logs.join('\n'));
  await train(b, 4, 6);
  const kept = await writersIn(b.store);
  assert.equal(kept['epoch=04.ckpt'], 'B');
  const mark = proxy.log.length;
  await assert.rejects(train(a, 4, 6), (e: unknown) => e instanceof CheckpointWriteError && /LeaseLostError: .*lost the writer lease of s3:\/\/lease\/takeover to run/.test(e.message));
  await assert.rejects(train(a, 6, 8), LeaseLostError);
  await assert.rejects(a.close(), LeaseLostError);
  assert.deepEqual(checkpointWrites(proxy.log.slice(mark), 'takeover'), []);
  assert.deepEqual(await writersIn(b.store), kept);
  assert.equal((await readLease(b.store))?.run, b.runId);
  await b.close();
});

test('a lost answer to the lease write (the server took it, the connection dropped, the client retried and got 412) still opens: the record there is this run\'s', { skip }, async () => {
  proxy.clear();
  proxy.add({ match: op('PutObject', 'dropped/.ckpt-policy-lease'), action: { kind: 'drop-after' }, times: 1 });
  const a = await open(storeAt('dropped'), 'A');
  assert.equal(leaseWrites(proxy.log, 'dropped').length >= 2, true, 'the client retried the conditional write');
  await train(a, 0, 2);
  await assert.rejects(open(storeAt('dropped'), 'B'), WriterLeaseError);
  await a.close();
});


test('two processes on S3: a hung holder (SIGSTOPped) is refused nothing until its lease expires; then it is taken, and the woken holder deletes nothing', { skip }, async () => {
  proxy.clear();
  const { proc, next } = await leaseChild(JSON.stringify(settings('procs')), 1500, 3);
  proc.kill('SIGSTOP');
  try {
    await assert.rejects(open(storeAt('procs'), 'parent'), (e: unknown) => e instanceof WriterLeaseError && e.message.includes(`pid ${proc.pid})`));
    await new Promise((r) => setTimeout(r, 1800));
    const logs: string[] = [];
    const ck = await open(storeAt('procs'), 'parent', { resume: 'latest' }, logs);
    assert.ok(logs.some((l) => l.includes('it expired at')), logs.join('\n'));
    assert.equal(ck.resumed?.record.epoch, 2);
    await train(ck, 3, 6);
    const kept = await writersIn(ck.store);
    const mark = proxy.log.length;
    proc.kill('SIGCONT');
    proc.stdin!.write('more\n');
    const said = await next();
    assert.match(said, /^error (CheckpointWriteError|LeaseLostError): .*lost the writer lease/, said);
    assert.deepEqual(checkpointWrites(proxy.log.slice(mark), 'procs'), [], 'the woken run sent no checkpoint write or delete');
    assert.deepEqual(await writersIn(ck.store), kept);
    await ck.close();
  } finally {
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited(proc);
  }
});

test('item 8: a removal S3 refuses is an orphan in the lease record, and the next open removes it', { skip }, async () => {
  proxy.clear();
  // epoch=00 leaves the top-3 at epoch 3: its DELETE fails every time (one attempt per request)
  proxy.add({ match: op('DeleteObject', 'orphans/epoch=00.ckpt'), action: { kind: 'status', status: 500, code: 'InternalError' }, times: 1 });
  const logPath = join(mkdtempSync(join(tmpdir(), 'ckpt-lease-orphans-')), 'decisions.jsonl');
  const decisions = openDecisionLog(logPath);
  const a = await open(storeAt('orphans', 1), 'A', { observer: decisions });
  await assert.rejects(train(a, 0, 5), (e: unknown) => e instanceof CheckpointWriteError && /remove epoch=00\.ckpt \(decision \d+\): StoreError \[io\]: cannot remove checkpoint epoch=00\.ckpt .*HTTP 500/.test(e.message));
  await train(a, 5, 6); // a failed removal does not stop the run
  await a.flush();
  assert.deepEqual((await readLease(a.store))?.orphans, ['epoch=00.ckpt']);
  assert.ok(await a.store.exists('epoch=00.ckpt'), 'the orphan is still in the bucket');
  await a.close();
  decisions.close();
  // `ckpt audit storage` lists it
  const report = await auditStorage({ kind: 'file', path: logPath }, storeAt('orphans'));
  assert.deepEqual(report.pendingRemovals, ['epoch=00.ckpt']);
  assert.ok(formatStorageReport(report).includes('pending removal epoch=00.ckpt: its removal failed in storage (an orphan); the next open of this folder retries it'), formatStorageReport(report).join('\n'));
  const logs: string[] = [];
  const b = await open(storeAt('orphans'), 'B', { resume: 'latest' }, logs);
  assert.ok(logs.includes('info: removed epoch=00.ckpt: an earlier run decided its removal and storage refused it then'), logs.join('\n'));
  assert.equal(await b.store.exists('epoch=00.ckpt'), false);
  assert.deepEqual((await readLease(b.store))?.orphans, []);
  await b.close();
});
