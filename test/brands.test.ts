/**
 * Checkpoint paths and store keys are different brands: `tsc --noEmit` (which checks test/) fails
 * if any `@ts-expect-error` line below compiles, i.e. if a path is accepted where a key is wanted
 * or the reverse. The runtime part checks that the brands are only types: the same strings go
 * round the key <-> path mappings, and the codecs refuse what is not a path or a key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { checkpointPath, storeKey, CheckpointPathCodec, StoreKeyCodec, type CheckpointPath, type StoreKey } from '../src/core/brands.ts';
import type { Effect } from '../src/core/effects.ts';
import { keyOf, pathOf } from '../src/runtime/keys.ts';
import type { WriteJob } from '../src/runtime/writer.ts';
import { keyForPath } from '../plugins/keys.ts';
import { tfjsMemoryStore } from '../plugins/index.ts';

const dir = '/run/ckpts';
const path: CheckpointPath = checkpointPath('/run/ckpts/epoch=3.ckpt');
const key: StoreKey = storeKey('epoch=3.ckpt');
const reason = { rule: 'last', trigger: 'trainEnd', epoch: 3, step: 40 } as const;

// Type-level: each line below must be a compile error.
function refusals(job: WriteJob) {
  // @ts-expect-error a store key is not a checkpoint path
  keyOf(dir, key, '/');
  // @ts-expect-error a plain string is not a checkpoint path either
  keyOf(dir, '/run/ckpts/epoch=3.ckpt', '/');
  // @ts-expect-error a checkpoint path is not a store key
  pathOf(dir, path);
  // @ts-expect-error keyForPath maps paths, not keys
  keyForPath('/run/ckpts', key);
  // @ts-expect-error an effect names a path, not a key
  const e: Effect = { type: 'remove', path: key, reason };
  // @ts-expect-error a writer job holds a key, not the effect's path
  const j: WriteJob = { ...job, key: path };
  // @ts-expect-error keyOf's result is a key, so it is not a path
  const p: CheckpointPath = keyOf(dir, path, '/');
  // @ts-expect-error pathOf's result is a path, so it is not a key
  const k: StoreKey = pathOf(dir, key);
  return [e, j, p, k];
}
void refusals;

test('the brands are types only: paths and keys map to each other as the same strings', () => {
  const k = keyOf(dir, path, '/');
  assert.equal(k, 'epoch=3.ckpt');
  assert.equal(pathOf(dir, k), path);
  assert.equal(keyForPath('s3://b/run', checkpointPath('s3://b/run/val/last.ckpt')), 'val/last.ckpt');
  assert.equal(keyOf('s3://b/run', pathOf('s3://b/run', storeKey('val/last.ckpt')), '/'), 'val/last.ckpt');
  // both are strings, so the public store contract takes either, and plain literals
  const wants: (s: string) => string = (s) => s;
  assert.equal(wants(k) + wants(path), 'epoch=3.ckpt/run/ckpts/epoch=3.ckpt');
});

test('the public store contract takes plain string keys and branded ones alike', async () => {
  const store = tfjsMemoryStore();
  await store.save('epoch=1.ckpt', { kind: 'bytes', data: Uint8Array.of(1) });
  await store.save(keyOf('memory://x', checkpointPath('memory://x/epoch=2.ckpt'), '/'), { kind: 'bytes', data: Uint8Array.of(2) });
  assert.deepEqual((await store.list()).map((e) => e.key), ['epoch=1.ckpt', 'epoch=2.ckpt']);
});

test('the codecs brand what crosses a boundary and refuse what is not a path or a key', () => {
  assert.ok(isRight(CheckpointPathCodec.decode('/run/ckpts/last.ckpt')));
  assert.ok(isLeft(CheckpointPathCodec.decode('')));
  assert.ok(isLeft(CheckpointPathCodec.decode(3)));
  assert.ok(isRight(StoreKeyCodec.decode('val/acc=0.91.ckpt')));
  for (const bad of ['', '/abs.ckpt', '../x.ckpt', 'a/../../x']) assert.ok(isLeft(StoreKeyCodec.decode(bad)), bad);
});
