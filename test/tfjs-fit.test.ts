/**
 * A real tfjs `fit` with the ModelCheckpoint callback leaves exactly the files that the reducer
 * predicts for the same metric sequence. The prediction is independent of the callback: the
 * metrics tfjs logged (recorded by a plain tfjs callback) are fed to the project's Lightning loop
 * model (`fitEvents`) and reduced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openFsStore } from '../plugins/fs/index.ts';
import { parseConfig, type CheckpointOptions } from '../src/core/config.ts';
import { listing, fileKey } from '../src/core/files.ts';
import { fitEvents } from '../src/core/loop.ts';
import { init, reduce } from '../src/core/reduce.ts';
import { ModelCheckpoint } from '../src/tfjs/index.ts';
import { checkpointFiles } from './helpers/folder.ts';

tf.env().set('PROD', true);

function model(): tf.LayersModel {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ units: 16, inputShape: [5], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  m.compile({ optimizer: tf.train.adam(0.08), loss: 'meanSquaredError', metrics: ['mae'] });
  return m;
}
const x = tf.randomUniform([160, 5], -1, 1, 'float32', 21);
const y = tf.tidy(() => tf.add(tf.sum(tf.cos(tf.mul(x, 2)), 1, true), tf.randomNormal([160, 1], 0, 0.4, 'float32', 22)));

/** Fits with the callback and a recorder of what tfjs logged; returns the logs and the files left. */
async function fitWith(options: CheckpointOptions, epochs: number, batchSize: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-tfjs-fit-'));
  const store = await openFsStore({ root: dir });
  const cb = new ModelCheckpoint(options, { store, log: () => undefined });
  const batchLogs: Array<Record<string, number>> = [];
  const epochLogs: Array<Record<string, number>> = [];
  const recorder = new tf.CustomCallback({
    onBatchEnd: async (_b, logs) => void batchLogs.push({ ...(logs as Record<string, number>) }),
    onEpochEnd: async (_e, logs) => void epochLogs.push({ ...(logs as Record<string, number>) }),
  });
  const m = model();
  await m.fit(x, y, { epochs, batchSize, validationSplit: 0.2, shuffle: false, verbose: 0, callbacks: [recorder, cb] });
  return { dir, cb, m, batchLogs, epochLogs, files: checkpointFiles(dir) };
}

/** What the reducer decides for the same metrics, through Lightning's loop order. */
function predict(options: CheckpointOptions, dir: string, epochs: number, batchesPerEpoch: number, batchLogs: Array<Record<string, number>>, epochLogs: Array<Record<string, number>>) {
  let [state] = init(parseConfig({ ...options, dirpath: dir }), { cwd: '/' });
  const events = fitEvents({
    epochs,
    batchesPerEpoch,
    sanityCheck: false,
    trainMetrics: (_e, step) => ({ loss: batchLogs[step]!.loss!, mae: batchLogs[step]!.mae! }),
    valMetrics: (e) => epochLogs[e]!,
  });
  for (const ev of events) [state] = reduce(state, ev);
  return { state, files: listing(state.files, fileKey(dir, '/')).map((f) => f.path.slice(dir.length + 1)).sort() };
}

test('epoch trigger on val_loss: the files after fit are the reducer\'s, and the best model loads back', async () => {
  const options: CheckpointOptions = { monitor: 'val_loss', save_top_k: 3, save_last: true, filename: '{epoch}-{val_loss:.3f}' };
  const epochs = 12;
  const run = await fitWith(options, epochs, 32);
  const expected = predict(options, run.dir, epochs, 4, run.batchLogs, run.epochLogs);
  assert.deepEqual(run.files, expected.files);
  assert.equal(run.files.length, 4); // three best and last
  assert.deepEqual(run.cb.bestKModels.map((k) => [k.path, k.score]), [...expected.state.bestKModels.entries()]);
  assert.equal(run.cb.bestModelPath, expected.state.bestModelPath);
  // the best checkpoint is the epoch with the lowest val_loss, and reloads to that val_loss
  const losses = run.epochLogs.map((l) => l.val_loss!);
  const bestEpoch = losses.indexOf(Math.min(...losses));
  assert.match(run.cb.bestModelPath, new RegExp(`/epoch=${bestEpoch}-`));
  const best = await run.cb.loadBestModel();
  const nVal = 32; // validationSplit 0.2 of 160: the last 32 rows
  const [xv, yv] = [x.slice([128, 0], [nVal, 5]), y.slice([128, 0], [nVal, 1])];
  const evaluated = best.evaluate(xv, yv) as tf.Scalar[];
  assert.ok(Math.abs(evaluated[0]!.dataSync()[0]! - run.cb.bestModelScore!) < 1e-5);
  assert.match(run.cb.toYaml(), new RegExp(`epoch=${bestEpoch}-`));
});

test('batch trigger on the training loss (every_n_train_steps, mode max on a custom metric name)', async () => {
  const options: CheckpointOptions = { monitor: 'mae', mode: 'max', every_n_train_steps: 3, save_top_k: 2, filename: 'step{step}-{mae:.4f}' };
  const epochs = 3;
  const run = await fitWith(options, epochs, 16);
  const expected = predict(options, run.dir, epochs, 8, run.batchLogs, run.epochLogs);
  assert.deepEqual(run.files, expected.files);
  assert.equal(run.files.length, 2);
  assert.deepEqual(run.cb.bestKModels.map((k) => k.path), [...expected.state.bestKModels.keys()]);
});
