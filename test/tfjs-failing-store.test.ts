/**
 * A store that fails makes `fit` fail with an error naming the checkpoint and the cause, and no
 * earlier checkpoint is lost: the removal a failed save would have caused is withheld. Tests run as
 * root, so failures come from paths root cannot write either: a folder that is a regular file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openFsStore } from '../plugins/fs/index.ts';
import { loadTfjsModel } from '../plugins/payload/tfjs.ts';
import { CheckpointWriteError } from '../src/runtime/index.ts';
import { ModelCheckpoint } from '../src/tfjs/index.ts';
import { checkpointFiles } from './helpers/folder.ts';

tf.env().set('PROD', true);

function setup() {
  const m = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [2] }), tf.layers.dense({ units: 1 })] });
  m.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
  const x = tf.randomUniform([32, 2], -1, 1, 'float32', 3);
  return { m, x, y: tf.sum(x, 1, true) };
}

// monitor 'step', mode max, top 1: every epoch's checkpoint displaces the previous one
const EVERY_EPOCH_REPLACES = { monitor: 'step', mode: 'max', save_top_k: 1, filename: '{epoch}/model' } as const;

for (const background of [true, false]) {
  test(`a save that fails stops fit and withholds the removal it would cause (${background ? 'background' : 'awaited'} writes)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-fail-'));
    writeFileSync(join(dir, 'epoch=2'), 'a regular file where epoch 2 needs a folder');
    const store = await openFsStore({ root: dir });
    const warnings: string[] = [];
    const cb = new ModelCheckpoint(EVERY_EPOCH_REPLACES, { store, background: background ? { maxInFlight: 2 } : false, log: (l, msg) => l === 'warning' && warnings.push(msg) });
    const { m, x, y } = setup();
    const epochsSeen: number[] = [];
    const err = await m
      .fit(x, y, { epochs: 6, batchSize: 8, verbose: 0, callbacks: [cb, new tf.CustomCallback({ onEpochEnd: async (e) => void epochsSeen.push(e) })] })
      .then(() => null, (e: unknown) => e);
    assert.ok(err instanceof CheckpointWriteError, `fit rejected with ${String(err)}`);
    assert.match(err.message, /save epoch=2\/model\.ckpt \(decision \d+\): StoreError.*epoch=2 is a checkpoint file, not a folder/);
    assert.match(err.message, /remove epoch=1\/model\.ckpt .*withheld: the save of epoch=2\/model\.ckpt .* failed/);
    // awaited: the epoch whose save failed does not complete; background: the first hook after the
    // failure settles (at the latest, train end) rejects
    if (!background) assert.deepEqual(epochsSeen, [0, 1]);
    // epoch 1's checkpoint, displaced by the failed one, is still there and loads
    assert.ok(existsSync(join(dir, 'epoch=1', 'model.ckpt')));
    assert.deepEqual(readdirSync(join(dir, 'epoch=0')), [], 'epoch 0 was displaced normally');
    const reread = await store.read('epoch=1/model.ckpt');
    assert.equal((await loadTfjsModel(reread)).countParams(), m.countParams());
    assert.ok(warnings.some((w) => w.includes('save of checkpoint epoch=2/model.ckpt failed')), 'the failure is logged as it happens');
  });
}

test('a store whose folder is replaced by a file mid-training: fit fails clearly, the moved checkpoints are intact', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'ckpt-gone-'));
  const dir = join(parent, 'ckpts');
  const store = await openFsStore({ root: dir });
  const cb = new ModelCheckpoint({ monitor: 'loss', save_top_k: 2, save_last: true }, { store, log: () => undefined });
  const { m, x, y } = setup();
  let moved: string[] = [];
  const yank = new tf.CustomCallback({
    onEpochEnd: async (epoch) => {
      if (epoch !== 2) return;
      await cb.checkpointer!.flush(); // the first three epochs' writes are complete
      renameSync(dir, join(parent, 'moved'));
      writeFileSync(dir, 'not a folder');
      moved = checkpointFiles(join(parent, 'moved'));
    },
  });
  const err = await m.fit(x, y, { epochs: 8, batchSize: 8, verbose: 0, callbacks: [cb, yank] }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof CheckpointWriteError, `fit rejected with ${String(err)}`);
  assert.match(err.message, /save .*\.ckpt/);
  assert.match(err.message, /ENOTDIR|not a folder|not a directory/i);
  assert.ok(moved.includes('last.ckpt') && moved.length === 3);
  assert.deepEqual(checkpointFiles(join(parent, 'moved')), moved);
});
