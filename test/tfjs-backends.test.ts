/** The callback on the wasm backend, and the optional tfjs-node: used when present, never required. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openFsStore } from '../plugins/fs/index.ts';
import { ModelCheckpoint, tryTfjsNode, useBackend } from '../src/tfjs/index.ts';
import { checkpointFiles } from './helpers/folder.ts';

tf.env().set('PROD', true);

test("'auto' picks tfjs-node only when it is installed, the cpu backend otherwise", async () => {
  const hasNode = await tryTfjsNode();
  assert.equal(await useBackend('auto'), hasNode ? 'tensorflow' : 'cpu');
  if (!hasNode) await assert.rejects(useBackend('tensorflow'), /needs @tensorflow\/tfjs-node, which is not installed/);
});

test('fit on the wasm backend saves tfjs checkpoints that load back with the same weights', async () => {
  assert.equal(await useBackend('wasm'), 'wasm');
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-wasm-'));
  const m = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [3], activation: 'relu' }), tf.layers.dense({ units: 1 })] });
  m.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  const x = tf.randomUniform([64, 3], -1, 1, 'float32', 5);
  const y = tf.sum(x, 1, true);
  const cb = new ModelCheckpoint({ monitor: 'loss', save_top_k: 1, save_last: true }, { store: await openFsStore({ root: dir }), log: () => undefined });
  const history = await m.fit(x, y, { epochs: 4, batchSize: 16, shuffle: false, verbose: 0, callbacks: [cb] });
  const losses = history.history.loss as number[];
  const best = losses.indexOf(Math.min(...losses));
  assert.deepEqual(checkpointFiles(dir), [`epoch=${best}-step=${(best + 1) * 4}.ckpt`, 'last.ckpt']);
  // last.ckpt holds the final weights: a fresh model loaded from it predicts what the trained one does
  const reloaded = await (await import('../plugins/payload/tfjs.ts')).loadTfjsModel(await cb.checkpointer!.read('last.ckpt'));
  const probe = tf.tensor2d([[0.1, -0.2, 0.3]]);
  assert.ok(Math.abs((reloaded.predict(probe) as tf.Tensor).dataSync()[0]! - (m.predict(probe) as tf.Tensor).dataSync()[0]!) < 1e-6);
  assert.equal(tf.getBackend(), 'wasm');
});
