/**
 * JSON as Python's `json` module writes it: standard JSON plus the bare literals `NaN`, `Infinity`
 * and `-Infinity` (transformers writes them for a NaN loss or an infinite grad norm; `JSON.parse`
 * rejects them). A small recursive-descent parser, not eval: every problem names the source, the
 * line and column, and what was expected. Nesting and size are bounded, so no input can exhaust the
 * stack or the memory.
 */

export interface JsonPosition {
  readonly line: number;
  readonly col: number;
}

export class PyJsonError extends Error {
  constructor(readonly source: string, readonly position: JsonPosition, readonly problem: string) {
    super(`${source}:${position.line}:${position.col}: ${problem}`);
    this.name = 'PyJsonError';
  }
}

/** Where each key of an object (or each item of an array) starts; kept for error messages. */
export type Positions = WeakMap<object, Map<string | number, JsonPosition>>;

export interface Parsed {
  readonly value: unknown;
  readonly positions: Positions;
}

/** A trainer_state.json of a million steps logged every step is ~200 MB; refuse beyond this. */
export const MAX_TEXT_CHARS = 512 * 1024 * 1024;
const MAX_DEPTH = 512;

export function parsePyJson(text: string, source: string): Parsed {
  if (text.length > MAX_TEXT_CHARS) throw new PyJsonError(source, { line: 1, col: 1 }, `the text is ${text.length} characters; at most ${MAX_TEXT_CHARS} are read`);
  const positions: Positions = new WeakMap();
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  // line starts, found lazily only for positions that are reported or kept
  let lineStarts: number[] | null = null;
  const posAt = (at: number): JsonPosition => {
    if (lineStarts === null) {
      lineStarts = [0];
      for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) === 10) lineStarts.push(k + 1);
    }
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: at - lineStarts[lo]! + 1 };
  };
  const fail = (at: number, problem: string): never => {
    throw new PyJsonError(source, posAt(at), problem);
  };
  const describe = (at: number): string => (at >= text.length ? 'the end of the text' : `${JSON.stringify(text.slice(at, at + 12))}`);
  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else return;
    }
  };
  const literal = (word: string, value: unknown): unknown => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail(i, `expected a value (a number, string, object, array, true, false, null, NaN or Infinity), found ${describe(i)}`);
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const number = (): number => {
    if (text.startsWith('-Infinity', i)) {
      i += 9;
      return -Infinity;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m || m[0] === '-') return fail(i, `expected a number, found ${describe(i)}`);
    i += m[0].length;
    return Number(m[0]);
  };
  const string = (): string => {
    const start = i;
    i++; // the opening quote
    let out = '';
    let chunk = i;
    for (;;) {
      if (i >= text.length) return fail(start, 'this string is never closed');
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(chunk, i);
        i++;
        return out;
      }
      if (c < 0x20) return fail(i, 'a control character inside a string (write it as an escape, e.g. \\n)');
      if (c !== 92) {
        i++;
        continue;
      }
      out += text.slice(chunk, i);
      const e = text[i + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) {
        out += simple[e];
        i += 2;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else return fail(i, `an unknown escape ${JSON.stringify(text.slice(i, i + 2))} (allowed: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
      chunk = i;
    }
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) return fail(i, `nested more than ${MAX_DEPTH} levels deep`);
    ws();
    const c = text[i];
    switch (c) {
      case '{': {
        i++;
        const obj: Record<string, unknown> = {};
        const where = new Map<string | number, JsonPosition>();
        positions.set(obj, where);
        ws();
        if (text[i] === '}') {
          i++;
          return obj;
        }
        for (;;) {
          ws();
          if (text[i] !== '"') return fail(i, `expected a key in double quotes, found ${describe(i)}`);
          const keyAt = i;
          const key = string();
          if (Object.prototype.hasOwnProperty.call(obj, key)) return fail(keyAt, `the key ${JSON.stringify(key)} appears twice in this object`);
          where.set(key, posAt(keyAt));
          ws();
          if (text[i] !== ':') return fail(i, `expected ':' after the key ${JSON.stringify(key)}, found ${describe(i)}`);
          i++;
          const v = value(depth + 1);
          // '__proto__' as a key is data, never the prototype
          if (key === '__proto__') Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
          else obj[key] = v;
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === '}') {
            i++;
            return obj;
          }
          return fail(i, `expected ',' or '}' in an object, found ${describe(i)}`);
        }
      }
      case '[': {
        i++;
        const arr: unknown[] = [];
        const where = new Map<string | number, JsonPosition>();
        positions.set(arr, where);
        ws();
        if (text[i] === ']') {
          i++;
          return arr;
        }
        for (;;) {
          ws();
          where.set(arr.length, posAt(i));
          arr.push(value(depth + 1));
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === ']') {
            i++;
            return arr;
          }
          return fail(i, `expected ',' or ']' in an array, found ${describe(i)}`);
        }
      }
      case '"':
        return string();
      case 't':
        return literal('true', true);
      case 'f':
        return literal('false', false);
      case 'n':
        return literal('null', null);
      case 'N':
        return literal('NaN', NaN);
      case 'I':
        return literal('Infinity', Infinity);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
        return fail(i, `expected a value (a number, string, object, array, true, false, null, NaN or Infinity), found ${describe(i)}`);
    }
  };
  const v = value(0);
  ws();
  if (i < text.length) fail(i, `unexpected text after the JSON value: ${describe(i)}`);
  return { value: v, positions };
}
