/**
 * Opt-in fixes for transformers' behaviour, off by default (the dialect reproduces transformers).
 *
 * `saveNewBest` fixes transformers #39560: with eval steps that are not save steps (eval_steps=500,
 * save_steps=1000 and no load_best_model_at_end), a new best found at a step that is not saved has no
 * folder, best_model_checkpoint keeps pointing at an older one, and the best model is lost. With the
 * fix, an evaluation that finds a new best and is not followed by a save saves `checkpoint-<step>`
 * right away (reason `best`); rotation then protects it as transformers protects its best.
 */
import { pyJoin } from './paths.ts';
import { reduce } from './reduce.ts';
import type { HfEffect, HfEvent, HfState } from './types.ts';

export interface HfFixes {
  /** save a checkpoint at every evaluation that finds a new best and would not be saved (transformers #39560) */
  readonly saveNewBest?: boolean;
}

/** `reduce` with the chosen fixes applied; with none it is `reduce`. */
export function reduceWithFixes(s: HfState, e: HfEvent, fixes: HfFixes): [HfState, HfEffect[]] {
  const [next, fx] = reduce(s, e);
  if (!fixes.saveNewBest || e.type !== 'evaluated' || next.waiting !== 'none') return [next, fx];
  const best = fx.find((f): f is Extract<HfEffect, { type: 'bestMetric' }> => f.type === 'bestMetric');
  if (!best?.newBest || fx.some((f) => f.type === 'save' || f.type === 'error')) return [next, fx];
  // best_global_step is what best_model_checkpoint follows once the folder exists (save strategy steps/epoch)
  const path = pyJoin(next.args.output_dir, `checkpoint-${next.globalStep}`);
  const files = ['model.safetensors', 'training_args.bin', ...(next.args.save_only_model ? [] : ['optimizer.pt', 'scheduler.pt', 'rng_state.pth'])];
  return [
    { ...next, bestGlobalStep: next.globalStep, waiting: 'save' },
    [
      ...fx,
      { type: 'log', level: 'info', message: `Saving model checkpoint to ${path} (new best ${best.key}=${best.value}; fix for transformers #39560)` },
      { type: 'save', path, files, reason: { rule: 'best', step: next.globalStep, metric: best.key, value: best.value } },
    ],
  ];
}
