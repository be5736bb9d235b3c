/** The in-memory tfjs store: same semantics as the filesystem, copies in and out, memory released on removal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tfjsMemoryStore, StoreError, bytesPayload, type Payload, type TfjsArtifacts } from '../plugins/index.ts';

const artifacts = (n: number): TfjsArtifacts => ({
  modelTopology: { class_name: 'Sequential', config: { name: `m${n}` } },
  format: 'layers-model',
  weightSpecs: [{ name: 'w', shape: [n], dtype: 'float32' }],
  weightData: new Float32Array(n).fill(n).buffer,
});
const weights = (p: Payload) => (p.kind === 'tfjs' ? Array.from(new Float32Array(p.artifacts.weightData as ArrayBuffer)) : assert.fail('expected tfjs'));

test('tfjs artifacts are kept as they are, keyed like the other stores, and listed in key order', async () => {
  const store = tfjsMemoryStore({ name: 'exp' });
  assert.equal(store.location, 'memory://exp');
  await store.save('val/acc=0.5.ckpt', { kind: 'tfjs', artifacts: artifacts(3) });
  await store.save('epoch=0.ckpt', { kind: 'tfjs', artifacts: artifacts(2) });
  await store.save('raw.pt', bytesPayload(Uint8Array.of(1, 2, 3)));
  assert.deepEqual((await store.list()).map((e) => [e.key, e.kind]), [['epoch=0.ckpt', 'file'], ['raw.pt', 'file'], ['val/acc=0.5.ckpt', 'file']]);
  assert.deepEqual((await store.list('val/')).map((e) => e.key), ['val/acc=0.5.ckpt']);
  const back = await store.read('val/acc=0.5.ckpt');
  assert.deepEqual(weights(back), [3, 3, 3]);
  assert.deepEqual((back as Extract<Payload, { kind: 'tfjs' }>).artifacts.modelTopology, { class_name: 'Sequential', config: { name: 'm3' } });
  await assert.rejects(store.save('../x', bytesPayload(new Uint8Array(1))), (e: unknown) => e instanceof StoreError && e.code === 'escape');
});

test('saves and reads copy: later changes by the caller do not reach the store', async () => {
  const store = tfjsMemoryStore();
  const a = artifacts(2);
  await store.save('k.ckpt', { kind: 'tfjs', artifacts: a });
  new Float32Array(a.weightData as ArrayBuffer).fill(-1);
  (a.modelTopology as { class_name: string }).class_name = 'Changed';
  const first = await store.read('k.ckpt');
  assert.deepEqual(weights(first), [2, 2]);
  new Float32Array((first as Extract<Payload, { kind: 'tfjs' }>).artifacts.weightData as ArrayBuffer).fill(-2);
  assert.deepEqual(weights(await store.read('k.ckpt')), [2, 2]);
  assert.deepEqual(((await store.read('k.ckpt')) as Extract<Payload, { kind: 'tfjs' }>).artifacts.modelTopology, { class_name: 'Sequential', config: { name: 'm2' } });
});

test('links behave as on the filesystem: followed on read, dangling after the target goes, removed alone', async () => {
  const store = tfjsMemoryStore();
  await store.save('epoch=1.ckpt', { kind: 'tfjs', artifacts: artifacts(1) });
  await store.save('epoch=2.ckpt', { kind: 'tfjs', artifacts: artifacts(2) });
  assert.equal(await store.link('epoch=1.ckpt', 'sub/last.ckpt'), 'link');
  assert.deepEqual((await store.list('sub/'))[0], { key: 'sub/last.ckpt', kind: 'symlink', target: '../epoch=1.ckpt', size: (await store.list('epoch=1'))[0]!.size });
  assert.equal(await store.link('epoch=2.ckpt', 'sub/last.ckpt'), 'link');
  assert.deepEqual(weights(await store.read('sub/last.ckpt')), [2, 2]);
  await store.remove('epoch=2.ckpt');
  assert.equal(await store.exists('sub/last.ckpt'), false);
  assert.deepEqual((await store.list('sub/'))[0], { key: 'sub/last.ckpt', kind: 'symlink', target: '../epoch=2.ckpt' });
  await assert.rejects(store.read('sub/last.ckpt'), (e: unknown) => e instanceof StoreError && e.code === 'not-found');
  await assert.rejects(store.link('epoch=2.ckpt', 'last.ckpt'), (e: unknown) => e instanceof StoreError && e.code === 'not-found');
  await store.remove('sub/last.ckpt');
  assert.deepEqual((await store.list()).map((e) => e.key), ['epoch=1.ckpt']);
});

test('memory is released on removal and on overwrite; links hold none', async () => {
  const store = tfjsMemoryStore();
  assert.equal(store.bytesHeld(), 0);
  const big = { kind: 'tfjs' as const, artifacts: artifacts(250_000) }; // 1 MB of weights
  await store.save('a.ckpt', big);
  const one = store.bytesHeld();
  assert.ok(one >= 1_000_000 && one < 1_001_000, `${one}`);
  await store.link('a.ckpt', 'last.ckpt');
  assert.equal(store.bytesHeld(), one);
  await store.save('b.ckpt', big);
  assert.equal(store.bytesHeld(), 2 * one);
  await store.save('b.ckpt', bytesPayload(new Uint8Array(10)));
  assert.equal(store.bytesHeld(), one + 10);
  for (const e of await store.list()) await store.remove(e.key);
  assert.equal(store.bytesHeld(), 0);
  assert.deepEqual(await store.list(), []);
});
