/**
 * The Keras dialect's state: one ModelCheckpoint instance's attributes (`best`, `monitor_op`, the
 * batch counter, the current epoch), its configuration, the opt-in fixes, and the save awaiting
 * its outcome. JSON through `encodeState` / `decodeState` (NaN and ±Infinity as strings).
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { KerasConfigCodec, PyFloat } from './options.ts';
import { MonitorOpCodec } from './rules/monitorOp.ts';

/** Opt-in departures from Keras (all off by default: Keras's behaviour is the default). */
export const KerasFixesCodec = t.type({
  /** a NaN is never accepted as `best` (Keras accepts a first NaN and then never saves again) */
  nanSafeBest: t.boolean,
  /** integer save_freq + save_best_only: resolve `mode` at the first batch-level comparison instead of raising TypeError */
  batchMonitorOp: t.boolean,
});
export type KerasFixes = t.TypeOf<typeof KerasFixesCodec>;
export const NO_FIXES: KerasFixes = { nanSafeBest: false, batchMonitorOp: false };

export const KerasStateCodec = t.type({
  config: KerasConfigCodec,
  fixes: KerasFixesCodec,
  /** self.best: null until the first accepted value (or initial_value_threshold); may be NaN */
  best: t.union([PyFloat, t.null]),
  /** set at the first epoch end, never changed afterwards */
  monitorOp: t.union([MonitorOpCodec, t.null]),
  batchesSeenSinceLastSaving: t.number,
  lastBatchSeen: t.union([t.number, t.null]),
  currentEpoch: t.union([t.number, t.null]),
  /** the save asked for and not yet answered: its path and epoch, for the message after it */
  pending: t.union([t.null, t.type({ filepath: t.string, epoch: t.number })]),
});
export type KerasState = t.TypeOf<typeof KerasStateCodec>;

export const encodeState = (s: KerasState): unknown => KerasStateCodec.encode(s);

export function decodeState(json: unknown): KerasState {
  const r = KerasStateCodec.decode(json);
  if (E.isLeft(r)) throw new Error(`not a Keras dialect state: ${PathReporter.report(r).join('; ')}`);
  return r.right;
}
