/**
 * Where two JSON values first differ: the path (`answer.output.ops[1].path`) and the value on each
 * side, compared as the log encodes them (NaN, infinities and -0 as their strings, key order
 * ignored). A replay names the field that differs, not just the record.
 */
import { canonicalJson } from './canonical.ts';

export interface JsonDifference {
  readonly path: string;
  readonly expected: unknown;
  readonly recorded: unknown;
}

const ABSENT = '(absent)';

/** null when equal. */
export function firstDifference(expected: unknown, recorded: unknown, path: string): JsonDifference | null {
  // through the canonical text: numbers the log writes as strings compare as the log holds them
  const a = canonicalJson(expected);
  const b = canonicalJson(recorded);
  if (a === b) return null;
  return walk(JSON.parse(a), JSON.parse(b), path);
}

function walk(a: unknown, b: unknown, path: string): JsonDifference {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return { path: `${path}[${i}]`, expected: i < a.length ? a[i] : ABSENT, recorded: i < b.length ? b[i] : ABSENT };
      if (canonicalJson(a[i]) !== canonicalJson(b[i])) return walk(a[i], b[i], `${path}[${i}]`);
    }
  } else if (isObj(a) && isObj(b)) {
    for (const k of [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))]) {
      if (!(k in a) || !(k in b)) return { path: `${path}.${k}`, expected: k in a ? a[k] : ABSENT, recorded: k in b ? b[k] : ABSENT };
      if (canonicalJson(a[k]) !== canonicalJson(b[k])) return walk(a[k], b[k], `${path}.${k}`);
    }
  }
  return { path, expected: a, recorded: b };
}
