/**
 * A real tfjs `fit` with the Keras-style callback (`modelCheckpoint`) leaves exactly the files the
 * Keras dialect predicts from the logs tfjs passed, on the filesystem and the memory stores. The
 * prediction replays the logs a plain recorder callback saw through the pure reducer, in Keras's
 * hook order; the files are read back from the store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openFsStore } from '../plugins/fs/index.ts';
import { tfjsMemoryStore } from '../plugins/tfjs-memory/index.ts';
import { loadTfjsModel } from '../plugins/payload/model.ts';
import type { CheckpointStore } from '../src/core/store.ts';
import { modelCheckpoint, KerasCallbackError, tfjsCompiledMetrics } from '../src/dialects/keras/tfjs.ts';
import { parseOptions, type KerasCamelOptions, type Construction } from '../src/dialects/keras/options.ts';
import { init, reduce } from '../src/dialects/keras/reduce.ts';
import type { KerasEvent } from '../src/dialects/keras/events.ts';

tf.env().set('PROD', true);

function model(): tf.LayersModel {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, inputShape: [4], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }),
    ],
  });
  m.compile({ optimizer: tf.train.adam(0.1), loss: 'meanSquaredError', metrics: ['mae'] });
  return m;
}
const x = tf.randomUniform([100, 4], -1, 1, 'float32', 31);
const y = tf.tidy(() => tf.add(tf.sum(tf.sin(tf.mul(x, 3)), 1, true), tf.randomNormal([100, 1], 0, 0.3, 'float32', 32)));

const stores: Record<string, () => Promise<CheckpointStore>> = {
  fs: () => openFsStore({ root: mkdtempSync(join(tmpdir(), 'ckpt-keras-tfjs-')) }),
  memory: async () => tfjsMemoryStore(),
};

/** Fits with the callback and a recorder placed before it; returns the hooks the recorder saw. */
async function fitWith(options: KerasCamelOptions, store: CheckpointStore, epochs: number) {
  const hooks: KerasEvent[] = [];
  const drop = (l: tf.Logs | undefined) => Object.fromEntries(Object.entries(l ?? {}).filter(([k]) => k !== 'batch' && k !== 'size')) as Record<string, number>;
  const m = model();
  const recorder = new tf.CustomCallback({
    onEpochBegin: async (epoch) => void hooks.push({ _tag: 'EpochBegan', epoch }),
    onBatchEnd: async (batch, logs) => void hooks.push({ _tag: 'TrainBatchEnded', batch, logs: drop(logs) }),
    onEpochEnd: async (epoch, logs) => void hooks.push({ _tag: 'EpochEnded', epoch, logs: drop(logs), metrics: tfjsCompiledMetrics(m) }),
  });
  const messages: string[] = [];
  const cb = modelCheckpoint(options, { store, log: (_l, msg) => void messages.push(msg) });
  await m.fit(x, y, { epochs, batchSize: 25, validationSplit: 0.2, shuffle: false, verbose: 0, callbacks: [recorder, cb] });
  return { hooks, cb, m, messages };
}

/** The files the dialect predicts for those hooks (each Save answered as written). */
function predict(options: KerasCamelOptions, hooks: readonly KerasEvent[]): string[] {
  let [state] = init(parseOptions(options) as Extract<Construction, { _tag: 'Constructed' }>);
  const files = new Set<string>();
  for (const h of [{ _tag: 'TrainBegan' } as KerasEvent, ...hooks]) {
    const queue = [h];
    for (let ev = queue.shift(); ev; ev = queue.shift()) {
      const [next, effects] = reduce(state, ev);
      state = next;
      for (const e of effects) if (e._tag === 'Save') files.add(e.filepath), queue.push({ _tag: 'SaveCompleted' });
    }
  }
  return [...files].sort();
}

const keys = async (s: CheckpointStore) => (await s.list()).map((e) => e.key).sort();

for (const [name, open] of Object.entries(stores)) {
  test(`${name} store: keep the best by val_loss; the files are the dialect's and the best reloads`, async () => {
    const options: KerasCamelOptions = { filepath: 'best-{epoch:02d}-{val_loss:.3f}.keras', monitor: 'val_loss', saveBestOnly: true, verbose: 1 };
    const store = await open();
    const run = await fitWith(options, store, 8);
    const expected = predict(options, run.hooks);
    assert.deepEqual(await keys(store), expected);
    // the kept files are the running minima of val_loss (float32 comparisons), and the last of them is the best epoch
    const losses = run.hooks.flatMap((h) => (h._tag === 'EpochEnded' ? [h.logs.val_loss as number] : []));
    const minima = losses.flatMap((v, i) => (losses.slice(0, i).every((w) => Math.fround(v) < Math.fround(w)) ? [i] : []));
    assert.equal(expected.length, minima.length);
    const bestEpoch = losses.indexOf(Math.min(...losses));
    assert.equal(run.cb.state.best, losses[bestEpoch]);
    assert.ok(run.messages.some((m) => m.includes('improved from None to')), run.messages.join('|'));
    const bestKey = expected.at(-1)!;
    assert.match(bestKey, new RegExp(`^best-${String(bestEpoch + 1).padStart(2, '0')}-`));
    const reloaded = await loadTfjsModel(await store.read(bestKey));
    const [xv, yv] = [x.slice([80, 0], [20, 4]), y.slice([80, 0], [20, 1])];
    const ev = reloaded.evaluate(xv, yv) as tf.Scalar[];
    assert.ok(Math.abs((await ev[0]!.data())[0]! - losses[bestEpoch]!) < 1e-4);
  });

  test(`${name} store: an integer saveFreq with {batch}, weights only, counts tfjs's batch indices like Keras`, async () => {
    const options: KerasCamelOptions = { filepath: 'w/e{epoch}-b{batch}.weights.h5', saveFreq: 3, saveWeightsOnly: true };
    const store = await open();
    const run = await fitWith(options, store, 3);
    const expected = predict(options, run.hooks);
    assert.deepEqual(await keys(store), expected);
    assert.equal(expected.length, 4); // 4 batches an epoch over 3 epochs = 12 batches, a save every 3
    const payload = await store.read(expected[0]!);
    assert.ok(payload.kind === 'tfjs' && payload.artifacts.modelTopology === undefined, 'weights only');
  });
}

test('mode auto reads the compiled metrics; a metric tfjs cannot direct raises Keras\'s ValueError and ends fit', async () => {
  const m = model();
  assert.deepEqual(tfjsCompiledMetrics(m), [{ name: 'mae', direction: 'down' }]);
  const cb = modelCheckpoint({ filepath: 'm.keras', monitor: 'val_custom' }, { store: tfjsMemoryStore(), log: () => undefined });
  await assert.rejects(
    m.fit(x, y, { epochs: 2, batchSize: 50, verbose: 0, callbacks: [cb] }),
    (e: unknown) => e instanceof KerasCallbackError && e.error.type === 'ValueError' && /monitor=val_custom, but Keras isn't able/.test(e.message),
  );
  assert.throws(() => modelCheckpoint({ filepath: 'm.pt' }, { store: tfjsMemoryStore() }), /must end in `\.keras`/);
});

test('fitDataset: the same callback on a tf.data pipeline with validation data leaves the files the dialect predicts', async () => {
  const options: KerasCamelOptions = { filepath: 'ds-{epoch:02d}-{val_loss:.3f}.keras', monitor: 'val_loss', saveBestOnly: true };
  const store = tfjsMemoryStore();
  const hooks: KerasEvent[] = [];
  const m = model();
  const drop = (l: tf.Logs | undefined) => Object.fromEntries(Object.entries(l ?? {}).filter(([k]) => k !== 'batch' && k !== 'size')) as Record<string, number>;
  const recorder = new tf.CustomCallback({
    onEpochBegin: async (epoch) => void hooks.push({ _tag: 'EpochBegan', epoch }),
    onBatchEnd: async (batch, logs) => void hooks.push({ _tag: 'TrainBatchEnded', batch, logs: drop(logs) }),
    onEpochEnd: async (epoch, logs) => void hooks.push({ _tag: 'EpochEnded', epoch, logs: drop(logs), metrics: tfjsCompiledMetrics(m) }),
  });
  const pairs = (from: number, n: number) =>
    tf.data.zip({ xs: tf.data.array(tf.unstack(x.slice([from, 0], [n, 4]))), ys: tf.data.array(tf.unstack(y.slice([from, 0], [n, 1]))) }).batch(20) as unknown as tf.data.Dataset<tf.TensorContainer>;
  await m.fitDataset(pairs(0, 80), { epochs: 5, validationData: pairs(80, 20), verbose: 0, callbacks: [recorder, modelCheckpoint(options, { store, log: () => undefined })] });
  const expected = predict(options, hooks);
  assert.ok(expected.length >= 1, 'something was saved');
  assert.deepEqual(await keys(store), expected);
  assert.ok(expected.every((k) => /^ds-0[1-5]-\d\.\d{3}\.keras$/.test(k)), expected.join(' '));
});
