/**
 * The S3 store against a real S3-compatible server (Ceph radosgw on 127.0.0.1), reached through a
 * fault proxy that can answer 500/503, drop connections, hold answers back or cut bodies short.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import * as tf from '@tensorflow/tfjs';
import { openStore, StoreError, bytesPayload, carryOut, type CheckpointStore, type Payload } from '../plugins/index.ts';
import { s3Store, type S3StoreOptions } from '../plugins/s3/index.ts';
import { captureTfjsModel, loadTfjsModel } from '../plugins/payload/tfjs.ts';
import { checkpointPath } from '../src/core/brands.ts';
import type { Effect, Reason } from '../src/core/effects.ts';
import { startS3Server, s3SkipReason, TEST_SECRET_KEY, TEST_ACCESS_KEY, type S3TestServer } from './helpers/s3-server.ts';
import { startFaultProxy, op, s3Operation, type FaultProxy, type FaultAction } from './helpers/fault-proxy.ts';

const skip = s3SkipReason();
const BUCKET = 'ckpt-tests';
let server: S3TestServer;
let proxy: FaultProxy;
let prefixes = 0;

before(async () => {
  if (skip) return;
  server = await startS3Server();
  await server.createBucket(BUCKET);
  proxy = await startFaultProxy(server.endpoint);
});
after(async () => {
  await proxy?.stop();
  await server?.stop();
});

/** A store on a fresh prefix, talking through the proxy (whose rules and log are reset). */
function store(extra: Partial<S3StoreOptions> = {}): CheckpointStore & { prefix: string } {
  proxy.clear();
  const prefix = `t${++prefixes}/run`;
  const s = s3Store({ bucket: BUCKET, prefix, endpoint: proxy.endpoint, forcePathStyle: true, credentials: server.credentials, ...extra });
  return Object.assign(s, { prefix });
}

const bytes = (s: string) => bytesPayload(new TextEncoder().encode(s));
const text = (p: Payload) => (p.kind === 'bytes' ? new TextDecoder().decode(p.data) : assert.fail('expected bytes'));
const ops = (name: string) => proxy.log.filter((r) => s3Operation(r) === name);
const pattern = (n: number, size: number) => Uint8Array.from({ length: size }, (_, i) => (i * 131 + n) & 0xff);
const sameBytes = (p: Payload, want: Uint8Array) => p.kind === 'bytes' && Buffer.from(p.data).equals(Buffer.from(want));

test('save/read/exists/list/remove under a prefix; link copies and says so', { skip }, async () => {
  const s = store();
  assert.equal(s.location, `s3://${BUCKET}/${s.prefix}`);
  assert.equal(s.supportsSymlinks, false);
  await s.save('epoch=0-step=10.ckpt', bytes('zero'));
  await s.save('val/acc=0.91.ckpt', bytes('ninety-one'));
  assert.equal(text(await s.read('val/acc=0.91.ckpt')), 'ninety-one');
  assert.equal(await s.exists('val/acc=0.91.ckpt'), true);
  assert.equal(await s.exists('val/acc=0.5.ckpt'), false);
  assert.deepEqual(await s.list(), [
    { key: 'epoch=0-step=10.ckpt', kind: 'file', size: 4 },
    { key: 'val/acc=0.91.ckpt', kind: 'file', size: 10 },
  ]);
  assert.deepEqual((await s.list('val/')).map((e) => e.key), ['val/acc=0.91.ckpt']);
  assert.equal(await s.link('val/acc=0.91.ckpt', 'last.ckpt'), 'copy');
  assert.equal(ops('CopyObject').length, 1);
  assert.equal(text(await s.read('last.ckpt')), 'ninety-one');
  await s.remove('val/acc=0.91.ckpt');
  await s.remove('val/acc=0.91.ckpt');
  assert.equal(text(await s.read('last.ckpt')), 'ninety-one', 'a copy outlives its source');
  await assert.rejects(s.read('val/acc=0.91.ckpt'), (e: unknown) => e instanceof StoreError && e.code === 'not-found' && e.message.includes(`s3://${BUCKET}/${s.prefix}/val/acc=0.91.ckpt`));
  await assert.rejects(s.link('gone.ckpt', 'last.ckpt'), (e: unknown) => e instanceof StoreError && e.code === 'not-found');
  const before = proxy.log.length;
  await assert.rejects(s.save('../escape.ckpt', bytes('x')), (e: unknown) => e instanceof StoreError && e.code === 'escape');
  assert.equal(proxy.log.length, before, 'a refused key sends no request');
  // a folder key (sharded checkpoint) is removed whole
  await s.save('shard/0.bin', bytes('a'));
  await s.save('shard/1.bin', bytes('b'));
  await s.remove('shard');
  assert.deepEqual((await s.list()).map((e) => e.key), ['epoch=0-step=10.ckpt', 'last.ckpt']);
});

test('listing follows ListObjectsV2 pagination', { skip }, async () => {
  const s = store({ listPageSize: 2 });
  const keys = ['e=3.ckpt', 'e=1.ckpt', 'b/e=2.ckpt', 'e=10.ckpt', 'z.ckpt', 'a.ckpt', 'e=0.ckpt'];
  for (const k of keys) await s.save(k, bytes(k));
  proxy.log.length = 0;
  assert.deepEqual((await s.list()).map((e) => e.key), [...keys].sort());
  assert.equal(ops('ListObjectsV2').length, 4);
});

test('large checkpoints go up as multipart uploads and are copied with UploadPartCopy', { skip }, async () => {
  const s = store({ multipartThresholdBytes: 5 * 1024 * 1024, multipartCopyThresholdBytes: 5 * 1024 * 1024 });
  const data = pattern(1, 12 * 1024 * 1024);
  await s.save('big.ckpt', bytesPayload(data));
  assert.equal(ops('CreateMultipartUpload').length, 1);
  assert.equal(ops('UploadPart').length, 2);
  assert.equal(ops('CompleteMultipartUpload').length, 1);
  assert.equal(ops('PutObject').length, 0);
  assert.ok(sameBytes(await s.read('big.ckpt'), data));
  assert.equal(await s.link('big.ckpt', 'last.ckpt'), 'copy');
  assert.equal(ops('UploadPartCopy').length, 2);
  assert.ok(sameBytes(await s.read('last.ckpt'), data));
});

test('a tfjs checkpoint stored in S3 loads back and predicts identically', { skip }, async () => {
  await tf.setBackend('cpu');
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2], activation: 'tanh' }), tf.layers.dense({ units: 1 })] });
  model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  const s = store();
  await s.save('epoch=0.ckpt', await captureTfjsModel(model, { weightsOnly: false }));
  const loaded = await loadTfjsModel(await s.read('epoch=0.ckpt'));
  const x = tf.tensor2d([[1, -2], [0.5, 3]]);
  assert.deepEqual(Array.from((loaded.predict(x) as tf.Tensor).dataSync()), Array.from((model.predict(x) as tf.Tensor).dataSync()));
});

test('region, endpoint and credentials from the standard AWS environment variables', { skip }, async () => {
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: server.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: TEST_SECRET_KEY });
  try {
    const s = await openStore(`s3://${BUCKET}/env-chain`);
    await s.save('x.ckpt', bytes('from env'));
    assert.equal(text(await s.read('x.ckpt')), 'from env');
    await s.close?.();
  } finally {
    for (const k of ['AWS_ENDPOINT_URL_S3', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
  }
});

test('errors name the key and the cause but never the credentials', { skip }, async () => {
  const secret = 'wrong-secret-do-not-print-0123456789';
  const s = store({ credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: secret }, maxAttempts: 1 });
  const err = await s.save('epoch=1.ckpt', bytes('x')).then(() => assert.fail('saved with a wrong secret'), (e: unknown) => e);
  assert.ok(err instanceof StoreError && err.code === 'io');
  assert.match(err.message, new RegExp(`cannot save checkpoint epoch=1.ckpt at s3://${BUCKET}/t\\d+/run/epoch=1.ckpt: SignatureDoesNotMatch, HTTP 403`));
  const shown = inspect(err, { depth: Infinity, showHidden: true }) + JSON.stringify(err) + String(err.stack);
  assert.ok(!shown.includes(secret), 'the secret key appears in the error');
  assert.ok(!shown.includes(TEST_ACCESS_KEY), 'the access key id appears in the error');
});

// ---- faults ------------------------------------------------------------------------------------

test('a 500 on a PutObject is retried and the save completes', { skip }, async () => {
  const s = store();
  proxy.add({ match: op('PutObject', 'epoch=1.ckpt'), action: { kind: 'status', status: 500 }, times: 1 });
  await s.save('epoch=1.ckpt', bytes('one'));
  assert.deepEqual(ops('PutObject').map((r) => r.action), ['status', 'pass']);
  assert.equal(text(await s.read('epoch=1.ckpt')), 'one');
});

test('throttling (503 SlowDown) on listing is retried with backoff', { skip }, async () => {
  const s = store();
  await s.save('a.ckpt', bytes('a'));
  proxy.add({ match: op('ListObjectsV2'), action: { kind: 'status', status: 503 }, times: 2 });
  assert.deepEqual((await s.list()).map((e) => e.key), ['a.ckpt']);
  assert.deepEqual(ops('ListObjectsV2').map((r) => r.action), ['status', 'status', 'pass']);
});

test('dropped connections, a body cut short and a timed-out answer are retried', { skip }, async () => {
  const s = store({ requestTimeoutMs: 400 });
  const data = pattern(2, 256 * 1024);
  proxy.add({ match: op('PutObject'), action: { kind: 'drop-after' }, times: 1 }); // stored, but the client never hears
  await s.save('e.ckpt', bytesPayload(data));
  proxy.add({ match: op('GetObject'), action: { kind: 'drop' }, times: 1 });
  proxy.add({ match: op('GetObject'), action: { kind: 'truncate' }, times: 1 });
  assert.ok(sameBytes(await s.read('e.ckpt'), data));
  assert.deepEqual(ops('GetObject').map((r) => r.action), ['drop', 'truncate', 'pass']);
  proxy.add({ match: op('HeadObject'), action: { kind: 'delay', ms: 1200 }, times: 1 });
  assert.equal(await s.exists('e.ckpt'), true);
  assert.deepEqual(ops('HeadObject').map((r) => r.action), ['delay', 'pass']);
  assert.deepEqual(ops('PutObject').map((r) => r.action), ['drop-after', 'pass']);
});

test('a failing multipart part is retried; one that keeps failing aborts the upload and leaves nothing', { skip }, async () => {
  const s = store({ multipartThresholdBytes: 5 * 1024 * 1024, maxAttempts: 3 });
  const data = pattern(3, 11 * 1024 * 1024);
  const part2 = (r: { query: URLSearchParams }) => r.query.get('partNumber') === '2';
  proxy.add({ match: op('UploadPart', undefined, part2), action: { kind: 'status', status: 500 }, times: 1 });
  await s.save('ok.ckpt', bytesPayload(data));
  assert.ok(sameBytes(await s.read('ok.ckpt'), data));
  proxy.add({ match: op('UploadPart', 'bad.ckpt', part2), action: { kind: 'status', status: 500 } });
  await assert.rejects(s.save('bad.ckpt', bytesPayload(data)), (e: unknown) => e instanceof StoreError && /bad\.ckpt.*HTTP 500/.test(e.message));
  assert.equal(ops('AbortMultipartUpload').length, 1);
  assert.equal(await s.exists('bad.ckpt'), false);
  const direct = server.client();
  const pending = await direct.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: s.prefix }));
  assert.deepEqual(pending.Uploads ?? [], []);
});

test('a save that keeps failing rejects loudly and the best checkpoint is kept', { skip }, async () => {
  const s = store({ maxAttempts: 3 });
  const r: Reason = { rule: 'noMonitor', trigger: 'trainEpochEnd', epoch: 1, step: 1 };
  const root = s.location;
  await carryOut(s, [{ type: 'save', path: checkpointPath(`${root}/epoch=1.ckpt`), weightsOnly: false, reason: r }], () => bytes('best'));
  proxy.add({ match: op('PutObject', 'epoch=2.ckpt'), action: { kind: 'status', status: 500 } });
  const step: Effect[] = [
    { type: 'save', path: checkpointPath(`${root}/epoch=2.ckpt`), weightsOnly: false, reason: r },
    { type: 'remove', path: checkpointPath(`${root}/epoch=1.ckpt`), reason: { rule: 'superseded', by: `${root}/epoch=2.ckpt`, series: 'noMonitor' } },
  ];
  await assert.rejects(carryOut(s, step, () => bytes('newer')), (e: unknown) => e instanceof StoreError && e.code === 'io' && /epoch=2\.ckpt.*InternalError, HTTP 500.*after 3 attempts/.test(e.message));
  assert.equal(ops('PutObject').filter((x) => x.path.endsWith('epoch=2.ckpt')).length, 3);
  assert.equal(ops('DeleteObject').length, 0, 'the removal after the failed save was not carried out');
  assert.equal(text(await s.read('epoch=1.ckpt')), 'best');
  assert.equal(await s.exists('epoch=2.ckpt'), false);
});

test('under random faults on every kind of request, the newest saved checkpoint is always there and intact', { skip }, async (t) => {
  const s = store({ maxAttempts: 3, requestTimeoutMs: 300 });
  // A fixed-seed generator: the same faults every run.
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const faults: FaultAction[] = [{ kind: 'status', status: 500 }, { kind: 'status', status: 503 }, { kind: 'drop' }, { kind: 'drop-after' }, { kind: 'delay', ms: 500 }];
  proxy.add({ match: () => true, action: () => (rand() < 0.3 ? faults[Math.floor(rand() * faults.length)]! : { kind: 'pass' }) });
  const verify = server.client();
  const root = s.location;
  const r: Reason = { rule: 'noMonitor', trigger: 'trainEpochEnd', epoch: 0, step: 0 };
  let newest: { key: string; data: Uint8Array } | null = null;
  let failures = 0;
  for (let epoch = 1; epoch <= 10; epoch++) {
    const key = `epoch=${epoch}.ckpt`;
    const data = pattern(epoch, 64 * 1024);
    const effects: Effect[] = [{ type: 'save', path: checkpointPath(`${root}/${key}`), weightsOnly: false, reason: r }];
    if (newest) {
      effects.push({ type: 'link', target: checkpointPath(`${root}/${key}`), path: checkpointPath(`${root}/last.ckpt`), relTarget: key, fallback: 'copy', reason: r });
      effects.push({ type: 'remove', path: checkpointPath(`${root}/${newest.key}`), reason: { rule: 'superseded', by: key, series: 'noMonitor' } });
    }
    let saved = false;
    await carryOut(s, effects, () => bytesPayload(data), (c) => { if (c.effect.type === 'save') saved = true; }).catch(() => failures++);
    if (saved) newest = { key, data };
    if (newest) {
      // checked without the proxy: the bucket itself holds it
      const listed = await verify.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${s.prefix}/` }));
      assert.ok((listed.Contents ?? []).some((o) => o.Key === `${s.prefix}/${newest!.key}`), `${newest.key} missing after epoch ${epoch}`);
      const clean = s3Store({ bucket: BUCKET, prefix: s.prefix, client: verify });
      assert.ok(sameBytes(await clean.read(newest.key), newest.data), `${newest.key} damaged after epoch ${epoch}`);
    }
  }
  const injected = proxy.log.filter((x) => x.action !== 'pass').length;
  assert.ok(injected >= 10, `only ${injected} faults were injected`);
  assert.ok(newest !== null && newest.key !== 'epoch=1.ckpt', 'saves succeed despite faults');
  t.diagnostic(`random faults: ${injected} injected over ${proxy.log.length} requests, ${failures} of 10 steps failed`);
});
