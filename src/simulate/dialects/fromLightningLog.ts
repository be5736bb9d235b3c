/**
 * A Lightning log (metrics.csv or TensorBoardLogger event files) mapped onto the other frameworks'
 * loops, for comparing their policies with a Lightning one on the same run:
 *
 * - Keras: one `on_epoch_end` per Lightning epoch, whose logs are the latest value of every metric
 *   logged in that epoch (train and validation rows; test metrics and rows without an epoch, like
 *   LearningRateMonitor's, left out), under the names the log writes.
 * - Orbax: one `save(step, metrics)` per logged step, the step being Lightning's global step after
 *   the batch (the logged step + 1: the step checkpoint names carry), with every metric logged at it.
 * - transformers: a trainer_state.json whose evaluations are the validation rows, at the same
 *   global step, each `val_x` (val/, valid_, validation_ prefixes alike) as `eval_x`.
 *
 * Nothing else is invented: the steps per epoch come from the log's epoch ends (or
 * --num-training-batches), and what cannot be told is left unknown for the adapters to report.
 */
import { openLog, readRecords } from '../../sources/open.ts';
import type { LogRecord } from '../../sources/records.ts';
import { isLoggerOnly, metricRoles, type RoleOptions } from '../../sources/roles.ts';
import type { KerasLog, KerasLogEpoch } from '../../dialects/keras/log.ts';
import type { OrbaxStep } from '../../dialects/orbax/simulate.ts';
import type { LogEntry, TrainerStateLog } from '../../dialects/transformers/trainerState.ts';

export interface MappedStep extends OrbaxStep {
  readonly epoch: number;
}

export interface LightningLogView {
  readonly file: string;
  readonly records: number;
  /** Keras's epochs, with the global step each ends at */
  readonly keras: KerasLog;
  readonly epochEndStep: ReadonlyMap<number, number>;
  readonly steps: readonly MappedStep[];
  readonly trainer: TrainerStateLog;
  /** optimizer steps per epoch, when the log (or --num-training-batches) tells */
  readonly stepsPerEpoch: number | null;
}

const VAL_PREFIX = /^(val|valid|validation)[_/\-.]/i;

/** `val_loss` -> `eval_loss`: the Trainer's metric_key_prefix on the validation metric's own name. */
export const evalKey = (name: string): string => `eval_${name.replace(VAL_PREFIX, '')}`;

/** Reads the whole log once (records of one fit are small: a number per metric per row). */
export async function readLightningLog(path: string, opts: { roles?: RoleOptions; numTrainingBatches?: number | null } = {}): Promise<LightningLogView> {
  const role = metricRoles(opts.roles);
  const fits = openLog(path);
  const records: LogRecord[] = [];
  for (const fit of fits) {
    if (fit.kind === 'jsonl') throw new Error('loop events are read by the Lightning simulator only');
    for await (const batch of readRecords(fit)) records.push(...batch);
  }
  const file = fits[0]?.path ?? path;
  // Keras epochs
  const epochs = new Map<number, { logs: Record<string, number>; line: number }>();
  const epochEndStep = new Map<number, number>();
  for (const r of records) {
    if (r.epoch === null) continue;
    const e = epochs.get(r.epoch) ?? { logs: {}, line: r.origin.line ?? r.origin.record ?? 0 };
    for (const [k, v] of r.metrics) if (role(k) !== 'test' && !isLoggerOnly(k)) e.logs[k] = v;
    epochs.set(r.epoch, e);
    if (![...r.metrics.keys()].every((k) => role(k) === 'test')) epochEndStep.set(r.epoch, Math.max(epochEndStep.get(r.epoch) ?? 0, r.step + 1));
  }
  const kerasEpochs: KerasLogEpoch[] = [...epochs.entries()]
    .filter(([, e]) => Object.keys(e.logs).length > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([epoch, e]) => ({ fit: 0, epoch, logs: e.logs, at: { file, line: e.line } }));
  const keras: KerasLog = { file, format: 'Lightning metrics.csv', metrics: [...new Set(kerasEpochs.flatMap((e) => Object.keys(e.logs)))], epochs: kerasEpochs };
  // Orbax steps: rows of one step merged, in step order (a step going back would be a resumed run)
  const bySteps = new Map<number, { epoch: number; metrics: Record<string, number> }>();
  for (const r of records) {
    const names = [...r.metrics.keys()].filter((k) => role(k) !== 'test' && !isLoggerOnly(k));
    if (names.length === 0) continue;
    const s = bySteps.get(r.step + 1) ?? { epoch: r.epoch ?? 0, metrics: {} };
    for (const k of names) s.metrics[k] = r.metrics.get(k)!;
    if (r.epoch !== null) s.epoch = r.epoch;
    bySteps.set(r.step + 1, s);
  }
  const steps: MappedStep[] = [...bySteps.entries()].sort((a, b) => a[0] - b[0]).map(([step, s]) => ({ step, epoch: s.epoch, metrics: s.metrics }));
  const spe = opts.numTrainingBatches ?? stepsPerEpochOf(epochEndStep);
  // the Trainer's evaluations
  const history: LogEntry[] = [];
  for (const s of steps) {
    const evals = Object.entries(s.metrics ?? {}).filter(([k]) => role(k) === 'val');
    if (evals.length === 0) continue;
    history.push({ kind: 'eval', step: s.step, epoch: spe === null ? null : s.step / spe, metrics: Object.fromEntries(evals.map(([k, v]) => [evalKey(k), v])) });
  }
  const lastStep = steps.at(-1)?.step ?? 0;
  const trainer: TrainerStateLog = {
    source: file,
    globalStep: lastStep,
    epoch: spe === null ? null : lastStep / spe,
    // the log's end is the fit's end, as the Lightning simulator takes it
    maxSteps: lastStep,
    numTrainEpochs: null,
    evalSteps: null,
    saveSteps: null,
    loggingSteps: null,
    trainBatchSize: null,
    bestMetric: null,
    bestGlobalStep: null,
    bestModelCheckpoint: null,
    statefulCallbacks: null,
    logHistory: history,
  };
  return { file, records: records.length, keras, epochEndStep, steps, trainer, stepsPerEpoch: spe };
}

/**
 * Steps per epoch from the epochs' last steps: every whole epoch (all but the last) ends `d` steps
 * after the previous one, and the first ends at `d`. Null when the log does not show that.
 */
function stepsPerEpochOf(ends: ReadonlyMap<number, number>): number | null {
  const es = [...ends.entries()].sort((a, b) => a[0] - b[0]);
  if (es.length < 2 || es[0]![0] !== 0) return null;
  const d = es[0]![1];
  for (let i = 1; i < es.length - 1; i++) if (es[i]![0] !== i || es[i]![1] - es[i - 1]![1] !== d) return null;
  return d > 0 ? d : null;
}
