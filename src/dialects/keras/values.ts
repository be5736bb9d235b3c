/**
 * The values Keras's ModelCheckpoint sees, as Python would see them: what `logs` holds after Keras's
 * `pythonify_logs` (floats, or NumPy arrays it could not reduce to a float), and `str()` of the plain
 * values its constructor accepts (messages print them with Python's `str`).
 */
import * as t from 'io-ts';
import { pyFloatRepr } from '../../core/format/pyformat.ts';

// ---- logs ------------------------------------------------------------------------------------

/** A NumPy array left in `logs` (for example a per-class metric): its values, dtype and shape. */
export const NdArray = t.type({ ndarray: t.array(t.number), dtype: t.string, shape: t.array(t.number) });
export type NdArray = t.TypeOf<typeof NdArray>;

/** One `logs` value: a Python float (a double; NaN and ±Infinity allowed) or a NumPy array. */
export const LogValue = t.union([t.number, NdArray]);
export type LogValue = t.TypeOf<typeof LogValue>;

/** `logs` as the callback receives it. Keys are metric names (`val_` prefixed for validation). */
export const Logs = t.record(t.string, LogValue);
export type Logs = t.TypeOf<typeof Logs>;

export const isArray = (v: LogValue): v is NdArray => typeof v === 'object';

/** `logs.get(key)`: own keys only (a metric called `constructor` is a metric). */
export const logGet = (logs: Logs, key: string): LogValue | undefined => (Object.hasOwn(logs, key) ? logs[key] : undefined);

// ---- Python str() of constructor arguments -------------------------------------------------------

/** A JSON scalar standing for the Python value passed to the constructor (null is None). */
export type PyScalar = string | number | boolean | null;

/** Python's `str(x)`. Whole numbers print as ints: JSON does not keep `1.0` apart from `1`. */
export function pyStr(x: PyScalar): string {
  if (x === null) return 'None';
  if (x === true) return 'True';
  if (x === false) return 'False';
  if (typeof x === 'number') return Number.isInteger(x) && !Object.is(x, -0) ? String(x) : pyFloatRepr(x);
  return x;
}

/** The Python class name of a constructor argument, for TypeError texts. */
export function pyTypeName(x: PyScalar): string {
  if (x === null) return 'NoneType';
  if (typeof x === 'boolean') return 'bool';
  if (typeof x === 'number') return Number.isInteger(x) ? 'int' : 'float';
  return 'str';
}

// ---- NumPy str() of a 1-d float array -----------------------------------------------------------

/** The fewest fraction digits (at most 8, NumPy's default precision) that give back the float32 value. */
function positional(v: number, float32: boolean): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const same = (s: string) => (float32 ? Math.fround(Number(s)) === v : Number(s) === v);
  for (let f = 0; f <= 8; f++) {
    const s = v.toFixed(f);
    if (same(s)) return f === 0 ? s + '.' : s;
  }
  return v.toFixed(8).replace(/0+$/, '');
}

/**
 * `str(np.array([...]))` for a short 1-d float array in NumPy's default print options (maxprec,
 * precision 8): integer parts right-aligned, fraction parts left-aligned and space-padded. The
 * scientific form NumPy switches to for very small or very large values is not modelled (the
 * positional form is printed instead); this text only appears in a warning.
 */
export function numpyStr(a: NdArray): string {
  const float32 = a.dtype === 'float32';
  const parts = a.ndarray.map((v) => positional(v, float32));
  const split = parts.map((s) => {
    const dot = s.indexOf('.');
    return dot < 0 ? [s, ''] : [s.slice(0, dot), s.slice(dot)];
  });
  const left = Math.max(0, ...split.map(([i]) => i!.length));
  const right = Math.max(0, ...split.map(([, f]) => f!.length));
  return '[' + split.map(([i, f]) => i!.padStart(left) + f!.padEnd(right)).join(' ') + ']';
}
