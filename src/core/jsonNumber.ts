/** Doubles that survive JSON, and a nullable codec: shared by the state, event and note codecs. */
import { t } from './deps.cts';

/** A double as JSON: finite numbers as numbers; NaN, the infinities and -0 (which JSON would turn into 0) as strings. */
export function jsonNumber(n: number): number | string {
  if (Object.is(n, -0)) return '-0';
  return Number.isFinite(n) ? n : Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

/** A double that survives JSON (Lightning logs -0.0 per step and formats it as '-0.00'). */
export const JsonNumber = new t.Type<number, number | string, unknown>(
  'JsonNumber',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    if (typeof u === 'number') return t.success(u);
    if (u === 'NaN') return t.success(NaN);
    if (u === '-0') return t.success(-0);
    if (u === 'Infinity') return t.success(Infinity);
    if (u === '-Infinity') return t.success(-Infinity);
    return t.failure(u, c, 'a number or "NaN" / "Infinity" / "-Infinity" / "-0"');
  },
  (n) => jsonNumber(n),
);

export const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null]);
