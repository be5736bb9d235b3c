/**
 * `ckpt demo` (npm start): a policy run on an embedded training curve, printing every decision
 * with its reason as it happens, then what was kept. Nothing is written to disk: the storage is
 * the policy's own file model.
 */
import { parseConfig } from '../config.ts';
import { explainEffect } from '../explain.ts';
import { listing } from '../files.ts';
import { fitEvents } from '../loop.ts';
import { init, reduce } from '../reduce.ts';

/** The embedded default: a typical ModelCheckpoint setup, as a user would paste it. */
export const DEMO_POLICY = {
  dirpath: 'checkpoints',
  filename: '{epoch:02d}-{val_loss:.3f}',
  monitor: 'val_loss',
  mode: 'min',
  save_top_k: 3,
  save_last: true,
  verbose: true,
};

/** A deterministic noisy, decreasing validation loss (float32, as Lightning logs it). */
function valLoss(epoch: number): number {
  const noise = Math.sin(epoch * 12.9898) * 43758.5453;
  return Math.fround(0.9 * Math.exp(-epoch / 4) + 0.12 + 0.06 * (noise - Math.floor(noise)));
}

export function runDemo(out: (line: string) => void, cwd = process.cwd()): number {
  const config = parseConfig(DEMO_POLICY);
  out(`ckpt-policy demo: ModelCheckpoint(${Object.entries(DEMO_POLICY).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})`);
  out('replaying 12 epochs x 50 batches of an embedded training curve; decisions as they happen:\n');
  let [state, effects] = init(config, { cwd });
  for (const e of effects) if (e.type !== 'log' || e.level !== 'debug') out('  ' + explainEffect(e));
  const events = fitEvents({
    epochs: 12,
    batchesPerEpoch: 50,
    valMetrics: (epoch) => ({ val_loss: valLoss(epoch) }),
    trainMetrics: (_e, step) => ({ train_loss: Math.fround(1 / Math.sqrt(step + 1)) }),
  });
  for (const event of events) {
    [state, effects] = reduce(state, event);
    if (event.type === 'validationEnded' && !event.view.sanityChecking) {
      out(`epoch ${String(event.view.epoch).padStart(2)} | step ${String(event.view.globalStep).padStart(4)} | val_loss ${event.view.metrics!.val_loss!.toFixed(4)}`);
    }
    for (const e of effects) {
      if (e.type === 'log' && e.level !== 'warning') continue;
      out('    ' + explainEffect(e));
      if (e.type === 'error') return 1;
    }
  }
  out('\nkept checkpoints (path, val_loss):');
  for (const [p, score] of state.bestKModels) out(`  ${p}  ${score.toFixed(4)}${p === state.bestModelPath ? '  <- best' : ''}`);
  out(`last: ${state.lastModelPath}`);
  out(`best_model_path: ${state.bestModelPath}  best_model_score: ${state.bestModelScore}`);
  const files = listing(state.files, state.dirpath ?? cwd).map((f) => f.path);
  out(`files the policy leaves in ${state.dirpath}: ${files.length}`);
  return 0;
}
