/**
 * `ckpt demo` (npm start): a real run with no setup. A small TensorFlow.js model trains on
 * generated data; the ModelCheckpoint callback saves into ./checkpoints on the local filesystem,
 * printing every decision with its reason as it happens; then the best checkpoint is reloaded and
 * evaluated. Run it again and it resumes an interrupted run, or starts a new one when the previous
 * run finished (removing only that run's own checkpoints), and says which.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openFsStore } from '../../plugins/fs/index.ts';
import { loadTfjsModel } from '../../plugins/payload/tfjs.ts';
import type { CheckpointStore } from '../core/store.ts';
import { checkpointPath } from '../core/brands.ts';
import { explainEffect } from '../core/explain.ts';
import { decodeState } from '../core/stateCodec.ts';
import { findResumePoint } from '../runtime/checkpointer.ts';
import { keyOf } from '../runtime/keys.ts';
import { useBackend } from '../tfjs/backend.ts';
import { ModelCheckpoint } from '../tfjs/callback.ts';
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import { SUMMARY } from './commands.ts';

/** The policy, as a Lightning user would write it. */
export const DEMO_POLICY = {
  dirpath: 'checkpoints',
  filename: '{epoch:02d}-{val_loss:.4f}',
  monitor: 'val_loss',
  mode: 'min',
  save_top_k: 3,
  save_last: true,
} as const;

export interface DemoOptions {
  readonly epochs?: number;
}

/** y = sin(2 x0) + x1 x2 - 0.5 x3 + noise: learnable by a small MLP, noisy enough for top-k to matter. */
function makeData(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomUniform([n, 4], -1, 1, 'float32', seed) as tf.Tensor2D;
    const [a, b, c, d] = tf.split(x, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const clean = tf.add(tf.sub(tf.add(tf.sin(tf.mul(a, 2)), tf.mul(b, c)), tf.mul(d, 0.5)), 0);
    const y = tf.add(clean, tf.randomNormal([n, 1], 0, 0.15, 'float32', seed + 1)) as tf.Tensor2D;
    return { x, y };
  });
}

function makeModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 32, inputShape: [4], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }),
      tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) }),
    ],
  });
  // momentum's state restores exactly, so a resumed run reproduces the uninterrupted one bit for bit
  model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'meanSquaredError' });
  return model;
}

const lossOf = (r: tf.Scalar | tf.Scalar[]) => (Array.isArray(r) ? r[0]! : r).dataSync()[0]!;

export async function runDemo(out: (line: string) => void, cwd = process.cwd(), opts: DemoOptions = {}): Promise<number> {
  const epochs = opts.epochs ?? 8;
  tf.env().set('PROD', true); // no "install tfjs-node" banner in the demo's output
  const backend = await useBackend('auto');
  const dir = join(cwd, DEMO_POLICY.dirpath);
  const store = await openFsStore({ root: dir });
  const shown = `./${DEMO_POLICY.dirpath}`;
  out(`ckpt-policy demo: ModelCheckpoint(${Object.entries(DEMO_POLICY).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})`);
  out(`TensorFlow.js ${tf.version.tfjs} on the '${backend}' backend; a 4-32-32-1 MLP, ${epochs} epochs on generated data; checkpoints in ${shown}`);

  const model = makeModel();
  const train = makeData(1024, 1);
  const val = makeData(256, 101);
  const cb = new ModelCheckpoint(DEMO_POLICY, {
    store,
    cwd,
    log: (level, message) => level !== 'debug' && out(`  ${level}: ${message}`),
    observer: { decided: (d) => d.effects.forEach((e) => e.type !== 'log' && out(`  ${explainEffect(e).split(dir + '/').join('')}`)) },
  });

  const initialEpoch = await startOrResume(out, store, cb, model, epochs, dir, shown, cwd);
  let t0 = performance.now();
  const progress = new tf.CustomCallback({
    onEpochBegin: async () => void (t0 = performance.now()),
    onEpochEnd: async (epoch, logs) => {
      out(`epoch ${String(epoch + 1).padStart(2)}/${epochs}  loss ${logs!.loss!.toFixed(4)}  val_loss ${logs!.val_loss!.toFixed(4)}  (${Math.round(performance.now() - t0)} ms)`);
    },
  });
  await model.fit(train.x, train.y, { epochs, initialEpoch, batchSize: 64, validationData: [val.x, val.y], shuffle: false, verbose: 0, callbacks: [progress, cb] });

  out('');
  out(`kept (best ${cb.bestKModels.length} by val_loss, oldest first):`);
  for (const k of cb.bestKModels) out(`  ${k.key}  val_loss ${k.score.toFixed(4)}${k.path === cb.bestModelPath ? '   <- best_model_path' : ''}`);
  out(`  ${keyOf(dir, checkpointPath(cb.lastModelPath), cwd)}  (save_last)`);
  const best = await cb.loadBestModel();
  best.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  const reloaded = lossOf(best.evaluate(val.x, val.y) as tf.Scalar);
  out(`reloaded ${keyOf(dir, checkpointPath(cb.bestModelPath), cwd)} from disk: val_loss ${reloaded.toFixed(4)} (recorded ${cb.bestModelScore!.toFixed(4)})`);
  tf.dispose([train.x, train.y, val.x, val.y]);
  return 0;
}

/** Says which it does: a new run, a new run after a finished one, or a resumed run. */
async function startOrResume(out: (l: string) => void, store: CheckpointStore, cb: ModelCheckpoint, model: tf.LayersModel, epochs: number, dir: string, shown: string, cwd: string): Promise<number> {
  const found = await findResumePoint(store, 'latest');
  if (found === null) {
    const others = await store.list();
    out(others.length === 0 ? `starting a new run in ${shown}` : `starting a new run in ${shown} (it holds ${others.length} file(s) from elsewhere; they are kept)`);
    return 0;
  }
  const finished = found.record.event === 'trainEnded' || found.record.epoch >= epochs - 1;
  if (!finished) {
    const point = await cb.resume(model, { key: found.key });
    out(`resuming the interrupted run from ${shown}/${point.from}: ${point.initialEpoch} of ${epochs} epochs were done`);
    return point.initialEpoch;
  }
  // a finished run: clear its own checkpoints (as the policy knew them), nothing else
  const prior = decodeState(found.record.state);
  const own = E.isRight(prior) ? [...prior.right.bestKModels.keys(), prior.right.lastModelPath].filter((p) => p !== '').map((p) => keyOf(dir, checkpointPath(p), cwd)) : [found.key];
  for (const key of new Set(own)) await store.remove(key);
  out(`the previous run in ${shown} finished (${found.record.epoch + 1} epochs); starting a new run after removing its ${new Set(own).size} checkpoints`);
  return 0;
}

/** For tests that load a demo checkpoint themselves. */
export { loadTfjsModel };

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(SUMMARY.demo)
    .action(async () => {
      process.exitCode = await runDemo((l) => console.log(l));
    });
}
