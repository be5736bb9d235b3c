/**
 * How long a checkpoint blocks the training loop, for a 10M-parameter tfjs model saved to the local
 * filesystem: background writes versus awaited ones, against the model capture alone (the part
 * that must block). Goal (issue #4): blocked time with background writes within 1.5x of capture.
 *
 * The loop between checkpoints is modelled as time that yields to the event loop (as tfjs `fit`
 * does between batches), 1.5x as long as an awaited write, so background writes can finish in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openFsStore } from '../plugins/fs/index.ts';
import { captureTfjsModel } from '../plugins/payload/tfjs.ts';
import { Checkpointer } from '../src/runtime/index.ts';
import type { Row } from './run.ts';

const UNITS = 3162; // 3162 x 3162 + 3162 = 10,001,406 parameters
const CHECKPOINTS = 8;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function blockedPerCheckpoint(model: tf.LayersModel, background: boolean, gapMs: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-bench-rt-'));
  try {
    const ck = await Checkpointer.open({
      options: { save_top_k: 1, every_n_epochs: 1 }, // every epoch a new checkpoint replaces the previous
      store: await openFsStore({ root: dir }),
      capture: ({ weightsOnly }) => captureTfjsModel(model, { weightsOnly }),
      background: background ? { maxInFlight: 2 } : false,
      log: () => undefined,
    });
    const blocked: number[] = [];
    for (let epoch = 0; epoch < CHECKPOINTS; epoch++) {
      await sleep(gapMs); // "training"
      const t0 = performance.now();
      await ck.epochEnded({ epoch, globalStep: (epoch + 1) * 10 });
      blocked.push(performance.now() - t0);
    }
    await ck.flush();
    return blocked;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(report: (row: Row) => void): Promise<void> {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  const model = tf.sequential({ layers: [tf.layers.dense({ units: UNITS, inputShape: [UNITS] })] });
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
  report({ name: 'runtime: model parameters', value: model.countParams(), unit: 'params' });

  const capture: number[] = [];
  for (let i = 0; i < 2; i++) await captureTfjsModel(model, { weightsOnly: false }); // warm-up
  for (let i = 0; i < CHECKPOINTS; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    await captureTfjsModel(model, { weightsOnly: false });
    capture.push(performance.now() - t0);
  }
  const captureMs = median(capture);
  report({ name: 'runtime: capture alone (median)', value: captureMs, unit: 'ms' });

  const awaited = median(await blockedPerCheckpoint(model, false, 50));
  report({ name: 'runtime: blocked per checkpoint, awaited writes (median)', value: awaited, unit: 'ms' });
  const background = median(await blockedPerCheckpoint(model, true, Math.max(50, awaited * 1.5)));
  report({ name: 'runtime: blocked per checkpoint, background writes (median)', value: background, unit: 'ms' });
  report({ name: 'runtime: background blocked / capture alone', value: background / captureMs, unit: 'x', note: 'goal <= 1.5' });
  report({ name: 'runtime: awaited blocked / background blocked', value: awaited / background, unit: 'x' });
  model.dispose();
}
