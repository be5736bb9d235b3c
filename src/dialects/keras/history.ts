/**
 * `History.history` dumped as JSON (`json.dump(history.history, f)`), read into a KerasLog: an
 * object of one list per log key, position = epoch (0-based; History stores no epoch numbers).
 * Python's `json` writes NaN and infinities as the bare words `NaN`, `Infinity`, `-Infinity`, which
 * JSON.parse refuses: they are read as those numbers. Lists of different lengths are refused (with
 * `validation_freq > 1` the `val_` lists are shorter, and which epochs they belong to is lost).
 *
 * The whole file is parsed at once, so files over MAX_HISTORY_BYTES are refused before reading
 * (a History of 100 epochs and 4 metrics is 8 KB).
 */
import { readFileSync, statSync } from 'node:fs';
import { headBytes, notTextProblem, quoteText, shortText } from '../../sources/text.ts';
import { KerasLogError, type KerasLog, type KerasLogEpoch } from './log.ts';
import type { LogValue } from './values.ts';

export const MAX_HISTORY_BYTES = 64 << 20;

const WHAT = 'a JSON dump of keras History.history ({"loss": [...], "val_loss": [...], ...})';

/** Python's non-finite words, outside strings, as strings JSON.parse keeps (same length or longer; no new lines). */
function quoteNonFinite(text: string): string {
  return text.replace(/("(?:[^"\\\n]|\\.)*")|(-?Infinity|NaN)/g, (m, str: string | undefined) => (str !== undefined ? m : `"\\u0000${m}"`));
}
const NON_FINITE: Record<string, number> = { '\u0000NaN': NaN, '\u0000Infinity': Infinity, '\u0000-Infinity': -Infinity };

const lineAt = (text: string, index: number) => text.slice(0, Math.max(0, index)).split('\n').length;

/** The 1-based line where `"key":` first appears (the place to point at for a problem with that key). */
function keyLine(text: string, key: string): number {
  const i = text.indexOf(JSON.stringify(key));
  return i < 0 ? 1 : lineAt(text, i);
}

/** Parses the text of a History dump; `file` names it in errors. */
export function parseHistoryJson(text: string, file: string): KerasLog {
  let root: unknown;
  try {
    root = JSON.parse(quoteNonFinite(text.replace(/^\uFEFF/, '')));
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? lineAt(text, Number(pos[1])) : /end of JSON/.test(msg) ? lineAt(text, text.length) : null;
    throw new KerasLogError(file, line, null, `not JSON (${msg.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '').replace(/, ".*" is not valid JSON$/s, '')}); expected ${WHAT}`);
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new KerasLogError(file, 1, null, `the top level is ${Array.isArray(root) ? 'a list' : JSON.stringify(root)?.slice(0, 20) ?? typeof root}; expected ${WHAT}`);
  }
  const entries = Object.entries(root);
  let length: { key: string; n: number } | null = null;
  for (const [key, list] of entries) {
    if (!Array.isArray(list)) throw new KerasLogError(file, keyLine(text, key), shortText(key), `expected a list of per-epoch values, got ${shortText(JSON.stringify(list) ?? String(list))}`);
    if (length === null) length = { key, n: list.length };
    else if (list.length !== length.n) {
      throw new KerasLogError(
        file,
        keyLine(text, key),
        shortText(key),
        `${list.length} values where '${shortText(length.key)}' has ${length.n}; History cannot say which epochs a shorter list belongs to (validation_freq > 1?)`,
      );
    }
  }
  const n = length?.n ?? 0;
  const epochs: KerasLogEpoch[] = [];
  for (let epoch = 0; epoch < n; epoch++) {
    const logs: Record<string, LogValue> = {};
    for (const [key, list] of entries) {
      const v = (list as unknown[])[epoch];
      const num = typeof v === 'number' ? v : typeof v === 'string' ? NON_FINITE[v] : undefined;
      if (num === undefined) {
        const shown = typeof v === 'string' ? quoteText(v.replace(/^\u0000/, '')) : quoteText(JSON.stringify(v) ?? String(v));
        throw new KerasLogError(file, keyLine(text, key), shortText(key), `value ${epoch} (epoch ${epoch}) is ${shown}; expected a number (NaN and Infinity allowed)`);
      }
      logs[key] = num;
    }
    epochs.push({ fit: 0, epoch, logs, at: { file, line: entries.length > 0 ? keyLine(text, entries[0]![0]) : 1 } });
  }
  return { file, format: 'History', metrics: entries.map(([k]) => k), epochs };
}

/** Reads a History JSON dump. Throws KerasLogError (file, line, key, what is wrong). */
export function readHistoryFile(file: string): KerasLog {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new KerasLogError(file, null, null, 'is not a file (a folder?)');
    size = st.size;
  } catch (e) {
    if (e instanceof KerasLogError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new KerasLogError(file, null, null, code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (e as Error).message})`);
  }
  if (size > MAX_HISTORY_BYTES) throw new KerasLogError(file, null, null, `${size} bytes, more than the ${MAX_HISTORY_BYTES} a History dump is read into memory with; expected ${WHAT}`);
  const notText = notTextProblem(headBytes(file), 'JSON');
  if (notText !== null) throw new KerasLogError(file, null, null, `${notText}; expected ${WHAT}`);
  return parseHistoryJson(readFileSync(file, 'utf8'), file);
}
