/**
 * Opt-in fixes for transformers' behaviour, off by default (the dialect reproduces transformers).
 *
 * `saveNewBest` fixes transformers #39560: with eval steps that are not save steps (eval_steps=500,
 * save_steps=1000 and no load_best_model_at_end), a new best found at a step that is not saved has no
 * folder, best_model_checkpoint keeps pointing at an older one, and the best model is lost. With the
 * fix, an evaluation that finds a new best and is not followed by a save saves `checkpoint-<step>`
 * right away (reason `best`); rotation then protects it as transformers protects its best.
 *
 * `limitOneKeepsBest`: with `save_total_limit=1` and a best checkpoint (metric_for_best_model, save
 * strategy steps or epoch), transformers raises the limit to 2 while the best is not the newest, so
 * output_dir holds two folders (three while the next one is written), and compares the paths as
 * strings (`output_dir="./out"` keeps two even when the best is the newest). With the fix, every
 * rotation leaves one folder: the best while it is on disk, else the newest. A save that is not a new
 * best is written, then removed by its own rotation (the reducer decides removals only from the
 * listing after a successful save, so a failed save never deletes anything and the best is never
 * removed for a folder that is not there). The price, stated: between bests the run can be resumed
 * only from the best step (the steps since are trained again); whoever needs to resume from the
 * latest keeps transformers' rule (or a limit of 2). The end of training is transformers' (only the
 * best is left), so the folders a run ends with are the same with and without the fix. Not applied
 * with save_strategy="steps" and eval_strategy="epoch" (allowed without load_best_model_at_end): the
 * epoch-end evaluation comes after the step-end save, so the folder just saved may become the best.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { pyJoin } from './paths.ts';
import { reduce, rotationEffects } from './reduce.ts';
import type { HfEffect, HfEvent, HfState } from './types.ts';

export const HfFixesCodec = t.exact(
  t.partial({
    /** save a checkpoint at every evaluation that finds a new best and would not be saved (transformers #39560) */
    saveNewBest: t.boolean,
    /** save_total_limit=1 leaves one folder after every rotation: the best (else the newest) */
    limitOneKeepsBest: t.boolean,
  }),
);
export type HfFixes = t.TypeOf<typeof HfFixesCodec>;
export const HF_FIX_NAMES = Object.keys(HfFixesCodec.type.props) as ReadonlyArray<keyof HfFixes>;

/** Decode `{saveNewBest?, limitOneKeepsBest?}` (for a CLI flag, a sidecar init line, a file); an unknown name is an error naming it. */
export function decodeHfFixes(input: unknown): E.Either<string, HfFixes> {
  if (input === undefined || input === null) return E.right({});
  if (typeof input !== 'object' || Array.isArray(input)) return E.left(`fixes: ${JSON.stringify(input)} is not valid: expected an object of booleans with keys ${HF_FIX_NAMES.join(', ')}`);
  const unknown = Object.keys(input).filter((k) => !(HF_FIX_NAMES as readonly string[]).includes(k));
  if (unknown.length > 0) return E.left(`fixes: unknown fix ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${HF_FIX_NAMES.join(', ')}`);
  const r = HfFixesCodec.decode(input);
  return E.isLeft(r) ? E.left(`fixes: ${JSON.stringify(input)} is not valid (${PathReporter.report(r)[0]})`) : E.right(r.right);
}

/** `reduce` with the chosen fixes applied; with none it is `reduce`. */
export function reduceWithFixes(s: HfState, e: HfEvent, fixes: HfFixes): [HfState, HfEffect[]] {
  let [next, fx] = reduce(s, e);
  if (fixes.limitOneKeepsBest) [next, fx] = keepBestOnly(next, e, fx);
  if (fixes.saveNewBest) [next, fx] = saveNewBest(next, e, fx);
  return [next, fx];
}

/** After a save: the rotation redone with the limit-1 rule `keepBest`. */
function keepBestOnly(next: HfState, e: HfEvent, fx: HfEffect[]): [HfState, HfEffect[]] {
  if (e.type !== 'checkpointSaved' || next.args.save_total_limit !== 1) return [next, fx];
  // a step-end save, then an epoch-end evaluation: the newest may become the best after its rotation, so it stays (transformers' rule)
  if (next.args.save_strategy === 'steps' && next.args.eval_strategy === 'epoch') return [next, fx];
  const written = fx.findIndex((f) => f.type === 'writeTrainerState');
  if (written < 0) return [next, fx]; // the save raised (legacy trainer_state.json): nothing rotates
  return [next, [...fx.slice(0, written + 1), ...rotationEffects(next, e.files, 'keepBest')]];
}

function saveNewBest(next: HfState, e: HfEvent, fx: HfEffect[]): [HfState, HfEffect[]] {
  if (e.type !== 'evaluated' || next.waiting !== 'none') return [next, fx];
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
