// tfjs model.fit with the callback saving into a folder, then a second run resuming from it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelCheckpoint, loadTfjsModel } from 'ckpt-policy/tfjs';
import { openStore } from 'ckpt-policy/stores';

await tf.setBackend('cpu');
const dir = mkdtempSync(join(tmpdir(), 'consumer-tfjs-'));
const options = { monitor: 'val_loss', mode: 'min', save_top_k: 2, save_last: true, filename: '{epoch:02d}-{val_loss:.4f}' } as const;
const xs = tf.randomUniform([64, 3], -1, 1, 'float32', 1);
const ys = xs.sum(1, true).mul(0.5);
function model(): tf.LayersModel {
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }), tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })] });
  m.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
  return m;
}
const store = await openStore(dir);
const first = new ModelCheckpoint(options, { store, background: false, log: () => {} });
await model().fit(xs, ys, { epochs: 3, batchSize: 16, validationSplit: 0.25, callbacks: [first], verbose: 0 });

const again = new ModelCheckpoint(options, { store, background: false, log: () => {} });
const m2 = model();
const from = await again.resume(m2);
await m2.fit(xs, ys, { epochs: 5, initialEpoch: from.initialEpoch, batchSize: 16, validationSplit: 0.25, callbacks: [again], verbose: 0 });
const best = await loadTfjsModel(await store.read(again.bestModelPath.slice(dir.length + 1)));
const prediction = (best.predict(tf.ones([1, 3])) as tf.Tensor).dataSync()[0];
console.log(JSON.stringify({ initialEpoch: from.initialEpoch, keys: (await store.list()).map((e) => e.key), best: again.bestModelPath.slice(dir.length + 1), scores: again.bestKModels.map((k) => k.score), prediction }));
