/**
 * Python's `<` on the values a metric can hold (float, None) and Python's `sorted`, so that
 * ranking by a metric, NaN and None included, orders exactly as Orbax's `sorted` call does.
 */
import { pyError } from './pyerror.ts';

/** A metric value once decoded: a double (NaN/±Infinity included) or Python's None. */
export type PyScalar = number | null;

const typeName = (v: PyScalar): string => (v === null ? 'NoneType' : 'float');

/** `a < b` in Python: TypeError when either side is None. */
export function pyLt(a: PyScalar, b: PyScalar): boolean {
  if (a === null || b === null) throw pyError('TypeError', `'<' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
  return a < b;
}

/**
 * CPython 3.11's `list.sort(key=..., reverse=...)` for the stored keys: reverse first when
 * asked, find the leading run, binary-insert the rest, reverse back. Below 64 items this is the
 * exact sequence of comparisons CPython makes, which is what decides where a NaN lands (NaN
 * compares false both ways). Above 64 CPython would merge runs; the result is the same for
 * NaN-free keys, and the docs say NaN placement is only exact below 64.
 */
export function pySortedIndices(keys: readonly PyScalar[], reverse: boolean): number[] {
  // keys without NaN or None are totally ordered: any stable sort gives CPython's order, in O(n log n)
  if (keys.length >= 64 && keys.every((k) => k !== null && !Number.isNaN(k))) return stableOrder(keys as readonly number[], reverse);
  const idx = keys.map((_, i) => i);
  const ks = [...keys];
  if (reverse) {
    idx.reverse();
    ks.reverse();
  }
  const n = ks.length;
  if (n >= 2) {
    let run = 2;
    if (pyLt(ks[1]!, ks[0]!)) {
      while (run < n && pyLt(ks[run]!, ks[run - 1]!)) run++;
      reverseRange(ks, 0, run);
      reverseRange(idx, 0, run);
    } else {
      while (run < n && !pyLt(ks[run]!, ks[run - 1]!)) run++;
    }
    for (let start = run; start < n; start++) {
      const pivot = ks[start]!;
      const pivotIdx = idx[start]!;
      let l = 0;
      let r = start;
      do {
        const p = l + ((r - l) >> 1);
        if (pyLt(pivot, ks[p]!)) r = p;
        else l = p + 1;
      } while (l < r);
      for (let j = start; j > l; j--) {
        ks[j] = ks[j - 1]!;
        idx[j] = idx[j - 1]!;
      }
      ks[l] = pivot;
      idx[l] = pivotIdx;
    }
  }
  if (reverse) idx.reverse();
  return idx;
}

/** Ascending (descending when reverse), equal keys in list order: CPython's stable sort on a total order. */
function stableOrder(keys: readonly number[], reverse: boolean): number[] {
  const idx = keys.map((_, i) => i);
  // Array.prototype.sort is stable (ES2019); CPython's reverse=True keeps equal keys in list order too
  return idx.sort(reverse ? (a, b) => keys[b]! - keys[a]! : (a, b) => keys[a]! - keys[b]!);
}

function reverseRange<T>(a: T[], lo: number, hi: number): void {
  for (let i = lo, j = hi - 1; i < j; i++, j--) {
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** Python's `round(x)` for a float: to the nearest integer, halves to even. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Python's `%` on ints: the sign of the divisor; ZeroDivisionError on 0. */
export function pyMod(a: number, b: number): number {
  if (b === 0) throw pyError('ZeroDivisionError', 'integer modulo by zero');
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}
