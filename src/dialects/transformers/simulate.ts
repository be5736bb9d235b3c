/**
 * A Trainer policy replayed on a run's trainer_state.json: the pure reducer is driven with the loop
 * the log describes (steps 1..global_step, epoch ends every `steps per epoch`), its evaluations
 * answered with the log's `eval_*` entries at the same step, and its saves and deletions carried
 * out on a model of output_dir. The result says what would have been saved, rotated away and kept,
 * where the best is and whether its folder survives, and what the log cannot tell (never guessed).
 *
 * Assumptions (also listed in every result): output_dir holds nothing from other runs when the run
 * starts; a checkpoint folder's mtime is the time of its save and saves are at least a second apart
 * (so mtime order is save order, as on a local disk); the loop's length and epoch size are the log's.
 */
import { type ResolvedArgs } from './args.ts';
import { listingKey, type FileEntry } from './files.ts';
import { reduceWithFixes, type HfFixes } from './fixes.ts';
import { baseName } from './paths.ts';
import { init } from './reduce.ts';
import { settle } from './settle.ts';
import type { HfEffect, HfEvent, HfState, RemoveReason, SaveReason } from './types.ts';
import type { TrainerStateLog } from './trainerState.ts';

export interface TrainerSimulation {
  /** the arguments simulated (max_steps from the log unless the arguments set it) */
  readonly args: ResolvedArgs;
  readonly loop: { readonly maxSteps: number; readonly stepsPerEpoch: number; readonly lastStep: number; readonly ended: boolean };
  readonly saved: readonly { readonly folder: string; readonly step: number; readonly reason: SaveReason }[];
  readonly removed: readonly { readonly folder: string; readonly atStep: number; readonly reason: RemoveReason }[];
  /** checkpoint-* folders left in output_dir, in step order */
  readonly kept: readonly string[];
  /** the most checkpoint-* folders output_dir held between two events (after each save's rotation): the disk the run needs at rest */
  readonly mostFolders: number;
  /** the best as the policy tracks it; null when no metric is tracked */
  readonly best: {
    readonly metric: string;
    readonly value: number | null;
    readonly step: number | null;
    /** best_model_checkpoint's folder name */
    readonly checkpoint: string | null;
    /** the folder of the best evaluation was saved at some point */
    readonly bestStepSaved: boolean;
    readonly survives: boolean;
  } | null;
  /** transformers raised (training would have stopped here) */
  readonly error: { readonly type: string; readonly message: string; readonly atStep: number } | null;
  readonly undetermined: readonly string[];
  readonly assumptions: readonly string[];
}

export const ASSUMPTIONS: readonly string[] = [
  'output_dir held no checkpoint-* folders from other runs when this run started',
  "each checkpoint folder's mtime is the time of its save, at least a second after the previous save (rotation then orders by step, as on a local disk; copied or touched folders can rotate otherwise)",
  "the loop's length (max_steps) and epoch size come from the trainer_state.json, not from num_train_epochs in the arguments",
];

/** Optimizer steps per epoch as the log shows them (step / epoch of the latest entry with an epoch). */
export function stepsPerEpoch(log: TrainerStateLog): number | null {
  const points: Array<[number, number]> = log.logHistory.filter((e) => e.epoch !== null && e.epoch > 0 && e.step > 0).map((e) => [e.step, e.epoch!]);
  if (log.epoch !== null && log.epoch > 0 && log.globalStep > 0) points.push([log.globalStep, log.epoch]);
  if (points.length === 0) return null;
  const [s, ep] = points.reduce((a, b) => (b[0] >= a[0] ? b : a));
  // whole epochs give the exact size; otherwise the ratio (epochs are logged with ~15 digits)
  return Math.max(1, Number.isInteger(ep) ? s / ep : Math.round(s / ep));
}

/** The policy `args` on the run `log`; `fixes` opt into the fixes of fixes.ts. */
export function simulateTrainerState(log: TrainerStateLog, args0: ResolvedArgs, fixes: HfFixes = {}): TrainerSimulation {
  const undetermined: string[] = [];
  const maxSteps = args0.max_steps > 0 ? args0.max_steps : log.maxSteps ?? log.globalStep;
  if (args0.max_steps <= 0 && log.maxSteps === null) undetermined.push(`max_steps: not in ${log.source}; taken as global_step ${log.globalStep}`);
  const spe0 = stepsPerEpoch(log);
  if (spe0 === null) undetermined.push(`steps per epoch: no log entry has an epoch; taken as max_steps (${maxSteps}), one epoch`);
  const spe = spe0 ?? Math.max(maxSteps, 1);
  const args: ResolvedArgs = { ...args0, max_steps: maxSteps };
  const cwd = '';
  const world = new Map<string, { kind: 'dir' | 'file'; mtime: number }>();
  const listing = (): FileEntry[] => [...world].map(([path, e]) => (e.kind === 'dir' ? { path, kind: e.kind, mtime: e.mtime } : { path, kind: e.kind }));
  const mkdirs = (p: string, t: number): void => {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const q = parts.slice(0, i).join('/');
      if (q === '' || world.has(q)) continue;
      world.set(q, { kind: 'dir', mtime: t });
    }
  };
  const rmtree = (p: string): void => {
    for (const k of [...world.keys()]) if (k === p || k.startsWith(p + '/')) world.delete(k);
  };

  const earlyStoppingState = log.statefulCallbacks?.['EarlyStoppingCallback'] as { args?: Record<string, number> } | undefined;
  const earlyStopping = earlyStoppingState?.args?.['early_stopping_patience'] !== undefined
    ? { patience: earlyStoppingState.args['early_stopping_patience'], threshold: earlyStoppingState.args['early_stopping_threshold'] ?? 0 }
    : null;
  let [state, fx0] = init(args, { cwd, files: [], trainBatches: spe * args.gradient_accumulation_steps, hasEvalDataset: true, earlyStopping });
  const saved: Array<{ folder: string; step: number; reason: SaveReason }> = [];
  const removed: Array<{ folder: string; atStep: number; reason: RemoveReason }> = [];
  let error: TrainerSimulation['error'] = null;
  // evaluations of the log by step, consumed in order
  const evals = new Map<number, Array<Readonly<Record<string, number>>>>();
  for (const e of log.logHistory) if (e.kind === 'eval') evals.set(e.step, [...(evals.get(e.step) ?? []), e.metrics]);
  const missingEvals: number[] = [];
  const metricKey = args.metric_for_best_model === null ? null : args.metric_for_best_model.startsWith('eval_') ? args.metric_for_best_model : `eval_${args.metric_for_best_model}`;

  let time = 0;
  const carryOut = (f: HfEffect): HfEvent | null => {
    switch (f.type) {
      case 'mkdir':
        mkdirs(listingKey(f.path, cwd), time);
        return null;
      case 'evaluate': {
        const queue = evals.get(state.globalStep);
        const metrics = queue?.shift();
        if (metrics) return { type: 'evaluated', metrics };
        missingEvals.push(state.globalStep);
        // not in the log: the metric is unknown; NaN never wins a comparison, and the best is reported undetermined
        return { type: 'evaluated', metrics: metricKey === null ? {} : { [metricKey]: NaN } };
      }
      case 'save': {
        const p = listingKey(f.path, cwd);
        mkdirs(p, time);
        for (const n of f.files) world.set(`${p}/${n}`, { kind: 'file', mtime: time });
        saved.push({ folder: baseName(f.path), step: state.globalStep, reason: f.reason });
        return { type: 'checkpointSaved', path: f.path, time, files: listing() };
      }
      case 'writeTrainerState':
        world.set(listingKey(f.path, cwd), { kind: 'file', mtime: time });
        return null;
      case 'remove':
        rmtree(listingKey(f.path, cwd));
        removed.push({ folder: baseName(f.path), atStep: state.globalStep, reason: f.reason });
        return null;
      case 'error':
        error = { type: f.errorType, message: f.message, atStep: state.globalStep };
        return null;
      case 'control':
      case 'bestMetric':
      case 'sort':
      case 'load':
      case 'log':
      case 'readTrainerState':
        return null;
      default:
        return absurd(f);
    }
  };
  const outputKey = listingKey(args.output_dir, cwd);
  const checkpointDirs = (): string[] =>
    [...world].filter(([p, e]) => e.kind === 'dir' && /^checkpoint-\d+$/.test(baseName(p)) && outputKey === parentOf(p)).map(([p]) => baseName(p));
  let mostFolders = 0;
  const run = (ev: HfEvent): void => {
    // carryOut reads the state each effect came from
    state = settle(state, ev, (f, now) => ((state = now), carryOut(f)), (s, e) => reduceWithFixes(s, e, fixes));
    mostFolders = Math.max(mostFolders, checkpointDirs().length);
  };
  for (const f of fx0) carryOut(f);

  const lastStep = Math.min(log.globalStep, maxSteps);
  let ended = false;
  if (error === null) {
    run({ type: 'trainBegan', time, files: listing(), resumeFromCheckpoint: null });
    for (let s = 1; s <= lastStep && error === null; s++) {
      time = s;
      const e = Math.floor((s - 1) / spe);
      const epoch = e + (s - e * spe) / spe;
      run({ type: 'stepEnded', globalStep: s, epoch, time });
      const stop = state.control.trainingStop;
      if (error === null && (s % spe === 0 || stop)) run({ type: 'epochEnded', globalStep: s, epoch, time });
      if (error === null && (stop || state.control.trainingStop)) {
        run({ type: 'trainEnded', time, files: listing() });
        ended = true;
        break;
      }
    }
  }
  if (!ended && error === null && lastStep < maxSteps)
    undetermined.push(`the log ends at step ${lastStep} of ${maxSteps}: what the run saved or deleted after it, and the end-of-training clean-up, are not in ${log.source}`);
  if (missingEvals.length > 0)
    undetermined.push(
      `the policy evaluates at step${missingEvals.length > 1 ? 's' : ''} ${summarise(missingEvals)}, where the log has no evaluation: ${metricKey === null ? 'nothing is tracked, so no decision depends on it' : `${metricKey} there is unknown (taken as no new best), so the best may differ`}`,
    );
  const kept = checkpointDirs().sort((a, b) => Number(a.slice(11)) - Number(b.slice(11)));
  const best = bestOf(state, kept, saved, metricKey);
  return { args, loop: { maxSteps, stepsPerEpoch: spe, lastStep, ended }, saved, removed, kept, mostFolders, best, error, undetermined, assumptions: ASSUMPTIONS };
}

function bestOf(s: HfState, kept: readonly string[], saved: ReadonlyArray<{ folder: string }>, metricKey: string | null): TrainerSimulation['best'] {
  if (metricKey === null) return null;
  const checkpoint = s.bestModelCheckpoint === null ? null : baseName(s.bestModelCheckpoint);
  const bestStepSaved = s.bestGlobalStep !== null ? saved.some((x) => x.folder === `checkpoint-${s.bestGlobalStep}`) : checkpoint !== null;
  return { metric: metricKey, value: s.bestMetric, step: s.bestGlobalStep, checkpoint, bestStepSaved, survives: checkpoint !== null && kept.includes(checkpoint) };
}

const parentOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

/** 500, 1000, …, 9000 (18 steps) for long lists. */
function summarise(steps: readonly number[]): string {
  return steps.length <= 6 ? steps.join(', ') : `${steps.slice(0, 3).join(', ')}, …, ${steps[steps.length - 1]} (${steps.length} steps)`;
}

function absurd(x: never): never {
  throw new Error(`unhandled effect ${JSON.stringify(x)}`);
}
