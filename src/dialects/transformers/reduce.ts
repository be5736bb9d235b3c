/**
 * The Trainer's checkpoint policy as a pure reducer: `init(args, setup)` then
 * `reduce(state, event) => [state, effects]`. No I/O, no clock: listings and times come in events.
 * Within one hook the order is transformers': flags, log, evaluate (best metric), save, rotation.
 */
import { pyFloatRepr } from '../../core/format/pyformat.ts';
import { type ResolvedArgs, trainerInitError } from './args.ts';
import { determineBest, metricKey } from './best.ts';
import { childrenOf, entryAt, type FileEntry, listingKey } from './files.ts';
import { controlNames, initialPlan, NO_CONTROL, onEpochEnd, onStepEnd } from './flow.ts';
import { pyJoin } from './paths.ts';
import { limitOneCleanup, rotate, sortedCheckpoints, type LimitOneRule } from './rotation.ts';
import type { HfEffect, HfEvent, HfState, Hook, SaveReason, TrainerStateFile } from './types.ts';

export interface TrainerSetupFacts {
  /** the working directory as transformers' absolute paths spell it ('' when paths are relative) */
  readonly cwd: string;
  /** the listing when Trainer(...) is built */
  readonly files: readonly FileEntry[];
  /** batches per epoch: ceil(train samples / per_device_train_batch_size) */
  readonly trainBatches: number;
  readonly hasEvalDataset: boolean;
  /** EarlyStoppingCallback(early_stopping_patience, early_stopping_threshold), when passed */
  readonly earlyStopping?: { readonly patience: number; readonly threshold?: number } | null;
}

type Result = [HfState, HfEffect[]];

const WEIGHTS = ['model.safetensors', 'pytorch_model.bin'] as const;

/** `Trainer(model, args, ...)`: Trainer.__init__'s checks, then output_dir is created if missing. */
export function init(args: ResolvedArgs, setup: TrainerSetupFacts): Result {
  const state: HfState = {
    args,
    cwd: setup.cwd,
    trainBatches: setup.trainBatches,
    earlyStopping: setup.earlyStopping ? { patience: setup.earlyStopping.patience, threshold: setup.earlyStopping.threshold ?? 0, counter: 0 } : null,
    plan: initialPlan(args, setup.trainBatches),
    globalStep: 0,
    epoch: null,
    bestMetric: null,
    bestGlobalStep: null,
    bestModelCheckpoint: null,
    control: NO_CONTROL,
    lastLogged: 0,
    statefulCallbacks: [...(setup.earlyStopping ? ['EarlyStoppingCallback'] : []), 'TrainerControl'],
    resumePath: null,
    waiting: 'trainBegin',
    hook: null,
  };
  const error = trainerInitError(args, setup);
  if (error) return [{ ...state, waiting: 'failed' }, [{ type: 'error', errorType: error.type, message: error.message }]];
  const exists = entryAt(setup.files, args.output_dir, setup.cwd) !== undefined || listingKey(args.output_dir, setup.cwd) === '';
  return [state, exists ? [] : [{ type: 'mkdir', path: args.output_dir }]];
}

export function reduce(s: HfState, e: HfEvent): Result {
  switch (e.type) {
    case 'trainBegan':
      return trainBegan(s, e.files, e.resumeFromCheckpoint);
    case 'trainerStateRead':
      return started(restore(s, e.state), []);
    case 'stepEnded': {
      const control = onStepEnd(s.args, s.plan, s.control, e.globalStep);
      return afterCallbacks({ ...s, globalStep: e.globalStep, epoch: e.epoch, control }, 'step');
    }
    case 'epochEnded': {
      const control = onEpochEnd(s.args, s.control, e.epoch);
      return afterCallbacks({ ...s, globalStep: e.globalStep, epoch: e.epoch, control }, 'epoch');
    }
    case 'evaluated':
      return evaluated(s, e.metrics);
    case 'checkpointSaved':
      return saved(s, e.path, e.files);
    case 'checkpointSaveFailed':
      return [{ ...s, waiting: 'failed' }, [{ type: 'error', errorType: e.error.type, message: e.error.message }]];
    case 'trainEnded':
      return trainEnded(s, e.files);
    default:
      return absurd(e);
  }
}

function absurd(x: never): never {
  throw new Error(`unknown event ${JSON.stringify(x)}`);
}

const fail = (s: HfState, fx: HfEffect[], type: string, message: string): Result => [{ ...s, waiting: 'failed' }, [...fx, { type: 'error', errorType: type, message }]];

// ---- train begin and resume ----------------------------------------------------------------

function trainBegan(s0: HfState, files: readonly FileEntry[], resume: boolean | string | null): Result {
  const s: HfState = { ...s0, plan: initialPlan(s0.args, s0.trainBatches) };
  if (resume === null || resume === false) return started(s, []);
  let path: string;
  if (resume === true) {
    // get_last_checkpoint: the largest n among folders named exactly checkpoint-<n>
    const found = childrenOf(files, s.args.output_dir, s.cwd)
      .filter(({ name, entry }) => /^checkpoint-\d+$/.test(name) && entry.kind === 'dir')
      .map(({ name }) => ({ name, n: Number(name.slice('checkpoint-'.length)) }))
      .sort((a, b) => b.n - a.n || (a.name < b.name ? -1 : 1));
    if (found.length === 0) return fail(s, [], 'ValueError', `No valid checkpoint found in output directory (${s.args.output_dir})`);
    path = pyJoin(s.args.output_dir, found[0]!.name);
  } else path = resume;
  const weights = WEIGHTS.find((w) => entryAt(files, pyJoin(path, w), s.cwd)?.kind === 'file');
  if (weights === undefined) return fail(s, [], 'ValueError', `Can't find a valid checkpoint at ${path}`);
  const fx: HfEffect[] = [
    { type: 'log', level: 'info', message: `Loading model from ${path}.` },
    { type: 'load', path: pyJoin(path, weights), reason: 'resume' },
  ];
  const statePath = pyJoin(path, 'trainer_state.json');
  if (entryAt(files, statePath, s.cwd)?.kind !== 'file') return started({ ...s, resumePath: path }, fx);
  return [{ ...s, resumePath: path, waiting: 'trainerState' }, [...fx, { type: 'readTrainerState', path: statePath }]];
}

/** TrainerState is replaced by the file: step, epoch, best fields and the interval values (max_steps and epochs stay recomputed). */
function restore(s: HfState, f: TrainerStateFile | null): HfState {
  if (f === null) return s;
  const callbacks = f.stateful_callbacks ?? {};
  let earlyStopping = s.earlyStopping;
  let control = s.control;
  if (s.args.restore_callback_states_from_checkpoint) {
    const es = callbacks['EarlyStoppingCallback'] as { args?: Record<string, number>; attributes?: Record<string, number> } | undefined;
    if (earlyStopping && es)
      earlyStopping = {
        patience: es.args?.['early_stopping_patience'] ?? earlyStopping.patience,
        threshold: es.args?.['early_stopping_threshold'] ?? earlyStopping.threshold,
        counter: es.attributes?.['early_stopping_patience_counter'] ?? 0,
      };
    const tc = callbacks['TrainerControl'] as { args?: Record<string, boolean> } | undefined;
    if (tc?.args)
      control = { log: !!tc.args['should_log'], evaluate: !!tc.args['should_evaluate'], save: !!tc.args['should_save'], epochStop: !!tc.args['should_epoch_stop'], trainingStop: !!tc.args['should_training_stop'] };
  }
  return {
    ...s,
    globalStep: f.global_step,
    epoch: f.epoch,
    bestMetric: f.best_metric,
    bestGlobalStep: f.best_global_step,
    bestModelCheckpoint: f.best_model_checkpoint,
    plan: { ...s.plan, loggingSteps: f.logging_steps, evalSteps: f.eval_steps, saveSteps: f.save_steps },
    statefulCallbacks: Object.keys(callbacks),
    earlyStopping,
    control,
  };
}

function started(s: HfState, fx: HfEffect[]): Result {
  const epoch = s.epoch ?? 0;
  const st: HfState = { ...s, epoch, lastLogged: s.globalStep, control: { ...s.control, trainingStop: false }, waiting: 'none', hook: null };
  if (st.earlyStopping) {
    const a = st.args;
    if (!a.load_best_model_at_end)
      fx = [...fx, { type: 'log', level: 'warning', message: 'Using EarlyStoppingCallback without load_best_model_at_end=True. Once training is finished, the best model will not be loaded automatically.' }];
    const msg = a.metric_for_best_model === null
        ? 'EarlyStoppingCallback requires metric_for_best_model is defined'
        : a.eval_strategy === 'no'
          ? 'EarlyStoppingCallback requires IntervalStrategy of steps or epoch'
          : null;
    if (msg) return fail(st, fx, 'AssertionError', msg);
  }
  if (st.args.eval_on_start) return [{ ...st, waiting: 'evaluation', hook: 'start' }, [...fx, { type: 'evaluate', hook: 'start' }]];
  return [st, fx];
}

// ---- log, evaluate, save -------------------------------------------------------------------

function afterCallbacks(s: HfState, hook: Hook): Result {
  const fx: HfEffect[] = [{ type: 'control', hook, flags: controlNames(s.control) }];
  let st = s;
  // a log happens only when global_step moved since the last one
  if (st.control.log && st.globalStep > st.lastLogged) st = { ...st, lastLogged: st.globalStep, control: { ...st.control, log: false } };
  if (st.control.evaluate) return [{ ...st, waiting: 'evaluation', hook }, [...fx, { type: 'evaluate', hook }]];
  return maybeSave({ ...st, hook }, fx, null);
}

function evaluated(s: HfState, metrics: Readonly<Record<string, number>>): Result {
  // evaluate() logs its metrics (on_log clears should_log) and calls on_evaluate
  let st: HfState = { ...s, control: { ...s.control, log: false, evaluate: false } };
  const fx: HfEffect[] = [];
  if (st.earlyStopping && st.args.metric_for_best_model !== null) {
    const key = metricKey(st.args.metric_for_best_model);
    const es = st.earlyStopping;
    if (!(key in metrics)) fx.push({ type: 'log', level: 'warning', message: `early stopping required metric_for_best_model, but did not find ${key} so early stopping is disabled` });
    else {
      const v = metrics[key]!;
      const b = st.bestMetric;
      const improved = b === null || ((st.args.greater_is_better ? v > b : v < b) && Math.abs(v - b) > es.threshold);
      const counter = improved ? 0 : es.counter + 1;
      st = { ...st, earlyStopping: { ...es, counter }, control: counter >= es.patience ? { ...st.control, trainingStop: true } : st.control };
    }
  }
  // the eval_on_start evaluation does not go through _determine_best_metric
  if (st.hook === 'start') return [{ ...st, waiting: 'none', hook: null }, fx];
  const best = determineBest(st.args, st.bestMetric, metrics);
  let newBest: { metric: string; value: number } | null = null;
  switch (best.type) {
    case 'untracked':
      break;
    case 'missing':
      return fail(st, fx, best.error.type, best.error.message);
    case 'compared': {
      fx.push({ type: 'bestMetric', key: best.key, value: best.value, previous: best.previous, newBest: best.newBest });
      st = { ...st, bestMetric: best.newBest ? best.value : best.previous };
      if (best.newBest) {
        newBest = { metric: best.key, value: best.value };
        // only the steps/epoch strategies remember the step, which best_model_checkpoint follows
        if (st.args.save_strategy === 'steps' || st.args.save_strategy === 'epoch') st = { ...st, bestGlobalStep: st.globalStep };
      }
      if (st.args.save_strategy === 'best') st = { ...st, control: { ...st.control, save: best.newBest } };
      break;
    }
    default:
      return absurd(best);
  }
  return maybeSave(st, fx, newBest);
}

function maybeSave(s: HfState, fx: HfEffect[], newBest: { metric: string; value: number } | null): Result {
  if (!s.control.save) return [{ ...s, waiting: 'none', hook: null }, fx];
  const path = pyJoin(s.args.output_dir, `checkpoint-${s.globalStep}`);
  const reason: SaveReason =
    s.args.save_strategy === 'best' && newBest
      ? { rule: 'best', step: s.globalStep, metric: newBest.metric, value: newBest.value }
      : s.hook === 'epoch'
        ? { rule: 'epoch', step: s.globalStep, epoch: s.epoch ?? 0 }
        : { rule: 'steps', step: s.globalStep, saveSteps: s.plan.saveSteps, lastStep: s.globalStep >= s.plan.maxSteps };
  const files = ['model.safetensors', 'training_args.bin', ...(s.args.save_only_model ? [] : ['optimizer.pt', 'scheduler.pt', 'rng_state.pth'])];
  return [
    { ...s, waiting: 'save' },
    [...fx, { type: 'log', level: 'info', message: `Saving model checkpoint to ${path}` }, { type: 'save', path, files, reason }],
  ];
}

function saved(s: HfState, path: string, files: readonly FileEntry[]): Result {
  let st = s;
  const a = s.args;
  if ((a.save_strategy === 'steps' || a.save_strategy === 'epoch') && st.bestGlobalStep) {
    const bestDir = pyJoin(a.output_dir, `checkpoint-${st.bestGlobalStep}`);
    // best_model_checkpoint follows best_global_step only if that folder exists (transformers #39560)
    if (entryAt(files, bestDir, s.cwd) !== undefined) st = { ...st, bestModelCheckpoint: bestDir };
  }
  const missing = st.statefulCallbacks.length === 0 ? (st.earlyStopping ? 'EarlyStoppingCallback' : 'TrainerControl') : null;
  if (missing) return fail(st, [], 'KeyError', `'${missing}'`);
  const fx: HfEffect[] = [{ type: 'writeTrainerState', path: pyJoin(path, 'trainer_state.json'), state: trainerStateFile(st) }, ...rotationEffects(st, files)];
  // on_save clears should_save
  return [{ ...st, control: { ...st.control, save: false }, waiting: 'none', hook: null }, fx];
}

/** The rotation after a save (`_rotate_checkpoints`): its sort calls, the fallback warning, the removals. */
export function rotationEffects(st: HfState, files: readonly FileEntry[], limitOne: LimitOneRule = 'transformers'): HfEffect[] {
  const a = st.args;
  const r = rotate(files, a.output_dir, st.cwd, st.bestModelCheckpoint, a.save_total_limit, limitOne);
  if (r === null) return [];
  const fx: HfEffect[] = r.sorted.map((c) => ({ type: 'sort', useMtime: c.useMtime, result: c.result }));
  if (r.warned) fx.push({ type: 'log', level: 'warning', category: 'UserWarning', message: 'mtime may not be reliable on this filesystem, falling back to numerical ordering' });
  const order = r.warned ? 'numeric' : 'mtime';
  const fixed = limitOne === 'keepBest' && a.save_total_limit === 1;
  for (const p of r.remove) {
    const message = fixed ? `Deleting checkpoint [${p}]: save_total_limit=1 keeps one folder (fix limitOneKeepsBest)` : `Deleting older checkpoint [${p}] due to args.save_total_limit`;
    fx.push({ type: 'log', level: 'info', message });
    fx.push({ type: 'remove', path: p, reason: { rule: 'saveTotalLimit', limit: r.limit, configuredLimit: a.save_total_limit!, order, best: st.bestModelCheckpoint } });
  }
  return fx;
}

/** What _save_checkpoint writes into trainer_state.json (the fields the policy reads back). */
export function trainerStateFile(s: HfState): TrainerStateFile {
  const c = s.control;
  const callbacks: Record<string, unknown> = {
    TrainerControl: { args: { should_training_stop: c.trainingStop, should_epoch_stop: c.epochStop, should_save: c.save, should_evaluate: c.evaluate, should_log: c.log }, attributes: {} },
  };
  if (s.earlyStopping)
    callbacks['EarlyStoppingCallback'] = {
      args: { early_stopping_patience: s.earlyStopping.patience, early_stopping_threshold: s.earlyStopping.threshold },
      attributes: { early_stopping_patience_counter: s.earlyStopping.counter },
    };
  return {
    global_step: s.globalStep,
    epoch: s.epoch,
    max_steps: s.plan.maxSteps,
    num_train_epochs: s.plan.numTrainEpochs,
    logging_steps: s.plan.loggingSteps,
    eval_steps: s.plan.evalSteps,
    save_steps: s.plan.saveSteps,
    best_metric: s.bestMetric,
    best_global_step: s.bestGlobalStep,
    best_model_checkpoint: s.bestModelCheckpoint,
    stateful_callbacks: callbacks,
  };
}

// ---- train end -----------------------------------------------------------------------------

function trainEnded(s: HfState, files: readonly FileEntry[]): Result {
  const a = s.args;
  const best = s.bestModelCheckpoint;
  const fx: HfEffect[] = [];
  if (a.load_best_model_at_end && best !== null) {
    fx.push({ type: 'log', level: 'info', message: `Loading best model from ${best} (score: ${s.bestMetric === null ? 'None' : pyFloatRepr(s.bestMetric)}).` });
    const weights = WEIGHTS.find((w) => entryAt(files, pyJoin(best, w), s.cwd)?.kind === 'file');
    if (weights) fx.push({ type: 'load', path: pyJoin(best, weights), reason: 'bestAtEnd' });
    else
      fx.push({
        type: 'log',
        level: 'warning',
        message: `Could not locate the best model at ${pyJoin(best, 'pytorch_model.bin')}, if you are running a distributed training on multiple nodes, you should activate \`--save_on_each_node\`.`,
      });
  }
  const sorted = sortedCheckpoints(files, a.output_dir, s.cwd, best, false).calls[0]!.result;
  fx.push({ type: 'sort', useMtime: false, result: sorted });
  const ended: HfState = { ...s, waiting: 'ended' };
  if (best !== null && a.save_total_limit === 1) {
    const c = limitOneCleanup(files, sorted, best, s.cwd);
    for (const p of c.remove) {
      fx.push({ type: 'log', level: 'info', message: `Deleting older checkpoint [${p}] due to args.save_total_limit` });
      fx.push({ type: 'remove', path: p, reason: { rule: 'limitOneAtEnd', best } });
    }
    if (c.error) return fail(ended, fx, c.error.type, c.error.message);
  }
  return [ended, fx];
}
