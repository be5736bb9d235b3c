/**
 * The page test/browser-keras.test.ts drives in headless Chromium: a small TensorFlow.js model
 * trained with the Keras-style callback, `modelCheckpoint({ filepath: 'best.keras', monitor:
 * 'val_loss', saveBestOnly: true }, { store: indexedDbStore(...) })`, saving into IndexedDB. A
 * recorder callback placed before it keeps the hooks and logs tfjs passed (what the dialect's
 * prediction is computed from, in Node) and the model's output on PROBE after every epoch (what
 * that epoch's checkpoint holds). Exposed as `globalThis.kerasPage`; every answer is plain JSON.
 */
import * as tf from '@tensorflow/tfjs';
import { modelCheckpoint } from '../../src/dialects/keras/tfjs.ts';
import { indexedDbStore } from '../../plugins/indexeddb/index.ts';
import { loadTfjsModel } from '../../plugins/payload/model.ts';

export const OPTIONS = { filepath: 'best.keras', monitor: 'val_loss', saveBestOnly: true } as const;
export const EPOCHS = 8;

/** One hook as the recorder saw it (logs without tfjs's batch/size entries). */
export type Hook = { readonly hook: 'epochBegin' | 'epochEnd'; readonly epoch: number; readonly logs?: Record<string, number> };

export interface RunReport {
  readonly hooks: Hook[];
  /** the model's output on PROBE after each epoch */
  readonly predictions: number[][];
  /** the keys the callback wrote, in order (Keras overwrites: a key may repeat) */
  readonly saved: string[];
  readonly listing: string[];
  readonly messages: string[];
}

const PROBE = [
  [0.5, -0.25, 0.75, 0],
  [-0.6, 0.1, 0.2, 0.9],
];

async function predict(model: tf.LayersModel): Promise<number[]> {
  const out = model.predict(tf.tensor2d(PROBE)) as tf.Tensor;
  const v = Array.from(await out.data());
  out.dispose();
  return v;
}

async function run(db: string): Promise<RunReport> {
  await tf.setBackend('cpu');
  await tf.ready();
  const x = tf.randomUniform([80, 4], -1, 1, 'float32', 41);
  const y = tf.tidy(() => tf.add(tf.sum(tf.sin(tf.mul(x, 3)), 1, true), tf.randomNormal([80, 1], 0, 0.3, 'float32', 42)));
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, inputShape: [4], activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  // a large learning rate: val_loss goes up at some epochs, so best-only skips some
  model.compile({ optimizer: tf.train.adam(0.2), loss: 'meanSquaredError' });
  const hooks: Hook[] = [];
  const predictions: number[][] = [];
  const messages: string[] = [];
  const store = indexedDbStore({ name: db });
  const recorder = new tf.CustomCallback({
    onEpochBegin: async (epoch) => void hooks.push({ hook: 'epochBegin', epoch }),
    onEpochEnd: async (epoch, logs) => {
      hooks.push({ hook: 'epochEnd', epoch, logs: Object.fromEntries(Object.entries(logs ?? {}).filter(([, v]) => typeof v === 'number')) as Record<string, number> });
      predictions.push(await predict(model));
    },
  });
  const cb = modelCheckpoint(OPTIONS, { store, log: (_l, m) => void messages.push(m) });
  await model.fit(x, y, { epochs: EPOCHS, batchSize: 20, validationSplit: 0.25, shuffle: false, verbose: 0, callbacks: [recorder, cb] });
  const listing = (await store.list()).map((e) => e.key);
  await store.close?.();
  return { hooks, predictions, saved: [...cb.saved], listing, messages };
}

/** Reloads `key` from the database in a fresh connection, as a new model from its topology. */
async function reload(db: string, key: string): Promise<{ prediction: number[]; hasOptimizer: boolean }> {
  const store = indexedDbStore({ name: db });
  try {
    const payload = await store.read(key);
    const model = await loadTfjsModel(payload);
    return { prediction: await predict(model), hasOptimizer: payload.kind === 'tfjs' && payload.artifacts.trainingConfig !== undefined };
  } finally {
    await store.close?.();
  }
}

const page = { run, reload };
(globalThis as unknown as { kerasPage: typeof page }).kerasPage = page;
export type KerasPageApi = typeof page;
