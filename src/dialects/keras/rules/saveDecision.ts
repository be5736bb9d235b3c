/**
 * Whether this decision point saves (ModelCheckpoint._should_save_model). Without save_best_only
 * every decision point saves. With it: a monitored key missing from `logs` warns and saves anyway;
 * an array warns and saves (Keras falls back to save_best_only=False); a number saves when it
 * improves on `best` (then becomes `best`), compared in float32 (./improvement.ts).
 */
import { formatValue } from '../../../core/format/pyformat.ts';
import type { KerasConfig, KerasMessage, PyError } from '../options.ts';
import { isArray, logGet, numpyStr, type Logs } from '../values.ts';
import { compare, compareNanSafe } from './improvement.ts';
import type { MonitorOp } from './monitorOp.ts';
import { verboseOn } from './verbose.ts';

/** Why a checkpoint is written. */
export type SaveReason =
  | { readonly kind: 'always' } // save_best_only=False
  | { readonly kind: 'improved'; readonly monitor: string; readonly current: number; readonly previous: number | null }
  | { readonly kind: 'monitorMissing'; readonly monitor: string | null }
  | { readonly kind: 'monitorNotScalar'; readonly monitor: string };

/** Why one is not. */
export type SkipReason = { readonly kind: 'notImproved'; readonly monitor: string; readonly current: number; readonly best: number };

export type SaveDecision =
  | { readonly _tag: 'Save'; readonly reason: SaveReason; readonly messages: readonly KerasMessage[]; readonly best: number | null }
  | { readonly _tag: 'Skip'; readonly reason: SkipReason; readonly messages: readonly KerasMessage[] }
  | { readonly _tag: 'Fail'; readonly error: PyError; readonly messages: readonly KerasMessage[] };

export interface DecisionInput {
  readonly config: KerasConfig;
  readonly best: number | null;
  readonly monitorOp: MonitorOp | null;
  readonly epoch: number;
  readonly logs: Logs;
  readonly filepath: string;
  /** the opt-in fix: NaN never becomes best */
  readonly nanSafe: boolean;
}

const warn = (message: string): KerasMessage => ({ level: 'warning', category: 'UserWarning', message });
const print = (message: string): KerasMessage => ({ level: 'print', message });
const f5 = (x: number) => formatValue({ type: 'float', value: x }, '.5f');

export function decideSave(d: DecisionInput): SaveDecision {
  const { config, epoch, filepath } = d;
  const verbose = () => verboseOn(config.verbose);
  if (!config.save_best_only) {
    const v = verbose();
    if (typeof v !== 'boolean') return { _tag: 'Fail', error: v, messages: [] };
    return { _tag: 'Save', reason: { kind: 'always' }, best: d.best, messages: v ? [print(`\nEpoch ${epoch + 1}: saving model to ${filepath}`)] : [] };
  }
  const monitor = config.monitor;
  const current = monitor === null ? undefined : logGet(d.logs, monitor);
  if (current === undefined) {
    return { _tag: 'Save', reason: { kind: 'monitorMissing', monitor }, best: d.best, messages: [warn(`Can save best model only with ${monitor ?? 'None'} available.`)] };
  }
  if (isArray(current) && current.shape.length > 0) {
    const msg = `Can save best model only when \`monitor\` is a scalar value. Received: ${numpyStr(current)}. Falling back to \`save_best_only=False\`.`;
    return { _tag: 'Save', reason: { kind: 'monitorNotScalar', monitor: monitor! }, best: d.best, messages: [warn(msg)] };
  }
  const value = isArray(current) ? current.ndarray[0]! : current; // a 0-d array compares as its one value
  const bestStr = d.best === null ? 'None' : f5(d.best);
  const cmp = (d.nanSafe ? compareNanSafe : compare)(d.monitorOp, value, d.best);
  if (cmp._tag === 'NoMonitorOp') return { _tag: 'Fail', error: { type: 'TypeError', message: "'NoneType' object is not callable" }, messages: [] };
  if (cmp._tag === 'NoReference' || cmp.improved) {
    const v = verbose();
    if (typeof v !== 'boolean') return { _tag: 'Fail', error: v, messages: [] };
    const messages = v ? [print(`\nEpoch ${epoch + 1}: ${monitor} improved from ${bestStr} to ${f5(value)}, saving model to ${filepath}`)] : [];
    return { _tag: 'Save', reason: { kind: 'improved', monitor: monitor!, current: value, previous: d.best }, best: value, messages };
  }
  const v = verbose();
  if (typeof v !== 'boolean') return { _tag: 'Fail', error: v, messages: [] };
  return {
    _tag: 'Skip',
    reason: { kind: 'notImproved', monitor: monitor!, current: value, best: d.best! },
    messages: v ? [print(`\nEpoch ${epoch + 1}: ${monitor} did not improve from ${bestStr}`)] : [],
  };
}
