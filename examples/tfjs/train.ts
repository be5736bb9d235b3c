/**
 * TensorFlow.js training with ckpt-policy's ModelCheckpoint, resumable:
 *
 *   npx tsx examples/tfjs/train.ts --dir /tmp/run --epochs 10           # a new run
 *   npx tsx examples/tfjs/train.ts --dir /tmp/run --epochs 10 --resume  # continue after a crash
 *
 * Deterministic (seeded data and initialisers, no shuffling), so a resumed run reproduces the
 * uninterrupted one exactly. Prints one JSON line per epoch and a summary line at the end.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { openFsStore } from '../../plugins/fs/index.ts';
import { ModelCheckpoint, useBackend } from '../../src/tfjs/index.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    epochs: { type: 'string', default: '10' },
    resume: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'cpu' },
  },
});
if (!values.dir) throw new Error('--dir is required');
tf.env().set('PROD', true);
await useBackend(values.backend as 'cpu' | 'wasm' | 'auto');

const x = tf.randomUniform([512, 6], -1, 1, 'float32', 11);
const y = tf.tidy(() => tf.add(tf.sum(tf.sin(tf.mul(x, 3)), 1, true), tf.randomNormal([512, 1], 0, 0.3, 'float32', 12)));
const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: 24, inputShape: [6], activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
    tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
  ],
});
// momentum's state restores exactly (Adam recomputes its beta powers on restore, off by an ulp)
model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'meanSquaredError' });

const checkpoint = new ModelCheckpoint(
  { monitor: 'val_loss', mode: 'min', save_top_k: 2, save_last: true, filename: '{epoch:02d}-{val_loss:.4f}' },
  { store: await openFsStore({ root: values.dir }), log: (level, message) => level === 'warning' && console.error(message) },
);
const { initialEpoch, from } = values.resume ? await checkpoint.resume(model) : { initialEpoch: 0, from: null };
if (from) console.log(JSON.stringify({ resumedFrom: from, initialEpoch }));

await model.fit(x, y, {
  epochs: Number(values.epochs),
  initialEpoch,
  batchSize: 32,
  validationSplit: 0.25,
  shuffle: false,
  verbose: 0,
  callbacks: [
    checkpoint,
    new tf.CustomCallback({ onEpochEnd: async (epoch, logs) => console.log(JSON.stringify({ epoch, val_loss: logs?.val_loss })) }),
  ],
});
console.log(JSON.stringify({ best: checkpoint.bestModelPath, score: checkpoint.bestModelScore, kept: checkpoint.bestKModels.map((k) => k.key), last: checkpoint.lastModelPath }));
