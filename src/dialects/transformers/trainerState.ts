/**
 * A Trainer run's `trainer_state.json` as a log: its `log_history` (train entries with `loss`,
 * evaluations with `eval_*`, the end-of-training summary) and the loop facts TrainerState holds.
 * Read with the bare `NaN`/`Infinity` Python writes (pyJson.ts); every problem names the file,
 * the line and column, and what is wrong. Files of every format in the wild are read: older ones
 * lack `eval_steps`/`save_steps`/`logging_steps`/`best_global_step` (null here). Pure: readTrainerStateFile.ts
 * reads it from disk.
 */
import { parsePyJson, PyJsonError, type JsonPosition, type Positions } from './pyJson.ts';

export type LogEntry =
  /** a training log: `loss` (TRL and others log more keys, kept in `values`) */
  | { readonly kind: 'train'; readonly step: number; readonly epoch: number | null; readonly loss: number; readonly values: Readonly<Record<string, number>> }
  /** an evaluation: every `eval_*` number, in the file's key order */
  | { readonly kind: 'eval'; readonly step: number; readonly epoch: number | null; readonly metrics: Readonly<Record<string, number>> }
  /** the entry train() logs at its end (`train_runtime`, `train_loss`, ...) */
  | { readonly kind: 'summary'; readonly step: number; readonly epoch: number | null; readonly values: Readonly<Record<string, number>> }
  /** anything else a callback logged */
  | { readonly kind: 'other'; readonly step: number; readonly epoch: number | null; readonly values: Readonly<Record<string, number>> };

export interface TrainerStateLog {
  readonly source: string;
  readonly globalStep: number;
  readonly epoch: number | null;
  readonly maxSteps: number | null;
  readonly numTrainEpochs: number | null;
  readonly evalSteps: number | null;
  readonly saveSteps: number | null;
  readonly loggingSteps: number | null;
  readonly trainBatchSize: number | null;
  readonly bestMetric: number | null;
  readonly bestGlobalStep: number | null;
  readonly bestModelCheckpoint: string | null;
  /** the callback names under `stateful_callbacks` (null in files older than them) */
  readonly statefulCallbacks: Readonly<Record<string, unknown>> | null;
  readonly logHistory: readonly LogEntry[];
}

export class TrainerStateError extends Error {
  constructor(readonly source: string, readonly position: JsonPosition | null, readonly field: string | null, readonly problem: string) {
    super(`${position ? `${source}:${position.line}:${position.col}` : source}: ${field ? `${field}: ` : ''}${problem}`);
    this.name = 'TrainerStateError';
  }
}

const isNum = (v: unknown): v is number => typeof v === 'number';
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses trainer_state.json text; `source` names it in errors. */
export function parseTrainerState(text: string, source: string): TrainerStateLog {
  let parsed;
  try {
    parsed = parsePyJson(text, source);
  } catch (e) {
    if (e instanceof PyJsonError) throw new TrainerStateError(source, e.position, null, e.problem);
    throw e;
  }
  const { value: root, positions } = parsed;
  if (!isObj(root)) throw new TrainerStateError(source, { line: 1, col: 1 }, null, 'expected an object (TrainerState), found ' + describe(root));
  const at = (obj: object, key: string | number): JsonPosition | null => (positions as Positions).get(obj)?.get(key) ?? null;
  const bad = (obj: object, key: string | number, field: string, allowed: string, v: unknown): never => {
    throw new TrainerStateError(source, at(obj, key), field, `${allowed}, found ${describe(v)}`);
  };
  const optInt = (key: string, allowed = 'a whole number or null'): number | null => {
    const v = root[key];
    if (v === undefined || v === null) return null;
    if (!isNum(v) || !Number.isInteger(v)) return bad(root, key, key, allowed, v);
    return v;
  };
  const optNum = (key: string): number | null => {
    const v = root[key];
    if (v === undefined || v === null) return null;
    if (!isNum(v)) return bad(root, key, key, 'a number or null', v);
    return v;
  };
  if (!('global_step' in root)) throw new TrainerStateError(source, null, 'global_step', 'missing: this is not a trainer_state.json (TrainerState always has global_step)');
  const globalStep = optInt('global_step', 'a whole number');
  if (globalStep === null || globalStep < 0) return bad(root, 'global_step', 'global_step', 'a whole number, at least 0', root['global_step']);
  const bmc = root['best_model_checkpoint'];
  if (bmc !== undefined && bmc !== null && typeof bmc !== 'string') bad(root, 'best_model_checkpoint', 'best_model_checkpoint', 'a path string or null', bmc);
  const sc = root['stateful_callbacks'];
  if (sc !== undefined && sc !== null && !isObj(sc)) bad(root, 'stateful_callbacks', 'stateful_callbacks', 'an object or null', sc);
  const history = root['log_history'];
  if (history === undefined) throw new TrainerStateError(source, null, 'log_history', 'missing: a trainer_state.json holds a list of log entries under log_history');
  if (!Array.isArray(history)) return bad(root, 'log_history', 'log_history', 'a list of log entries', history);
  const logHistory: LogEntry[] = history.map((raw, n): LogEntry => {
    const field = `log_history[${n}]`;
    if (!isObj(raw)) return bad(history, n, field, 'an object (one log entry)', raw);
    const step = raw['step'];
    if (!isNum(step) || !Number.isInteger(step) || step < 0) return bad(raw, 'step', `${field}.step`, 'a whole number, at least 0', step);
    const ep = raw['epoch'];
    if (ep !== undefined && ep !== null && !isNum(ep)) return bad(raw, 'epoch', `${field}.epoch`, 'a number or null', ep);
    const epoch = isNum(ep) ? ep : null;
    // numbers only: TRL and callbacks may log strings or lists besides, which no policy reads
    const nums: Record<string, number> = {};
    for (const [k, v] of Object.entries(raw)) if (k !== 'step' && k !== 'epoch' && isNum(v)) nums[k] = v;
    if (Object.keys(nums).some((k) => k.startsWith('eval_'))) {
      const metrics: Record<string, number> = {};
      for (const [k, v] of Object.entries(nums)) if (k.startsWith('eval_')) metrics[k] = v;
      return { kind: 'eval', step, epoch, metrics };
    }
    if ('train_runtime' in nums) return { kind: 'summary', step, epoch, values: nums };
    const loss = raw['loss'];
    if (loss !== undefined) {
      if (!isNum(loss)) return bad(raw, 'loss', `${field}.loss`, 'a number (NaN and Infinity included)', loss);
      return { kind: 'train', step, epoch, loss, values: nums };
    }
    return { kind: 'other', step, epoch, values: nums };
  });
  return {
    source,
    globalStep,
    epoch: optNum('epoch'),
    maxSteps: optInt('max_steps'),
    numTrainEpochs: optNum('num_train_epochs'),
    evalSteps: optNum('eval_steps'),
    saveSteps: optNum('save_steps'),
    loggingSteps: optNum('logging_steps'),
    trainBatchSize: optInt('train_batch_size'),
    bestMetric: optNum('best_metric'),
    bestGlobalStep: optInt('best_global_step'),
    bestModelCheckpoint: typeof bmc === 'string' ? bmc : null,
    statefulCallbacks: isObj(sc) ? sc : null,
    logHistory,
  };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return String(v);
}
