/**
 * MonitorCallback._is_improvement: no reference yet is an improvement without any comparison (even
 * for NaN, which then poisons `best`); otherwise `keras.ops.less/greater(current, best)`, which
 * converts both Python numbers to float32 (floatx) before comparing. Strict, so ties are not
 * improvements, and -0.0 ties 0.0. ModelCheckpoint's min_delta is always 0.
 */
import type { MonitorOp } from './monitorOp.ts';

export type Comparison =
  | { readonly _tag: 'NoReference' } // best is None: accepted as is
  | { readonly _tag: 'Compared'; readonly improved: boolean }
  | { readonly _tag: 'NoMonitorOp' }; // monitor_op still None: Keras calls None and raises TypeError

export function compare(op: MonitorOp | null, current: number, best: number | null): Comparison {
  if (best === null) return { _tag: 'NoReference' };
  if (op === null) return { _tag: 'NoMonitorOp' };
  const c = Math.fround(current);
  const b = Math.fround(best);
  return { _tag: 'Compared', improved: op === 'less' ? c < b : c > b };
}

/** The opt-in fix: a NaN never becomes `best`, and a NaN `best` (from a threshold) is beaten by any number. */
export function compareNanSafe(op: MonitorOp | null, current: number, best: number | null): Comparison {
  if (Number.isNaN(current)) return best === null ? { _tag: 'Compared', improved: false } : compare(op, current, best);
  return compare(op, current, best !== null && Number.isNaN(best) ? null : best);
}
