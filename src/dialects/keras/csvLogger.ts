/**
 * `keras.callbacks.CSVLogger` files, read into a KerasLog. What CSVLogger writes (Keras 3, and
 * tf.keras 2 the same way): a header `epoch,<the first epoch's log keys, sorted>` (validation keys
 * carry `val_`), then one row per epoch end, through Python's `csv` module (CRLF row ends, RFC 4180
 * quoting; `\r\r\n` when the file was opened in Windows text mode, read as one row end). `epoch` is the 0-based index Keras passed; a key missing at an epoch is `NA`; an
 * array value is written `"[v, v, ...]"` (quotes included). With `append=True` several `fit` calls
 * share one file, and the only trace of that is the epoch counter going back: a row whose epoch
 * does not exceed the previous one starts a new `fit`. An empty file is what CSVLogger leaves when
 * the run ends before its first epoch does: a log with no epochs.
 *
 * Streamed through csv-parse; a row is limited to MAX_ROW_BYTES so that a file that is not a
 * CSVLogger file (one enormous line) fails fast instead of filling memory. The epochs read are
 * kept: memory grows with the file's epochs, a few hundred bytes each.
 */
import { createReadStream, statSync } from 'node:fs';
import { parse, CsvError } from 'csv-parse';
import { parseMetricCell } from '../../sources/csv.ts';
import { headBytes, notTextProblem, quoteText, shortText } from '../../sources/text.ts';
import { KerasLogError, type KerasLog, type KerasLogEpoch } from './log.ts';
import type { LogValue } from './values.ts';

export interface CsvLoggerReadOptions {
  /** CSVLogger's `separator` (default ',') */
  readonly separator?: string;
}

/** The longest row accepted, in characters (a CSVLogger row is well under 1 KiB per few dozen metrics). */
export const MAX_ROW_BYTES = 1 << 20;

const WHAT = "a keras.callbacks.CSVLogger file (header 'epoch,<metrics>')";

/** Line breaks inside a row's quoted cells (CRLF counts once), to keep line numbers true after it. */
function lineBreaksIn(fields: readonly string[]): number {
  let n = 0;
  for (const f of fields) {
    for (let i = 0; i < f.length; i++) {
      const c = f.charCodeAt(i);
      if (c === 10 || (c === 13 && f.charCodeAt(i + 1) !== 10)) n++;
    }
  }
  return n;
}

function checkHeader(names: readonly string[], file: string, line: number, separator: string): string[] {
  if (names[0] !== 'epoch' || names.includes('step')) {
    const hint = names.includes('step')
      ? "; it has a 'step' column, so it looks like Lightning's metrics.csv (ckpt simulate reads those)"
      : names.length === 1 && /[;\t|]/.test(names[0]!)
        ? `; it is one column: was it written with another separator than ${JSON.stringify(separator)}?`
        : '';
    throw new KerasLogError(file, line, 'header', `expected ${WHAT}, whose first column is 'epoch'; got ${names.slice(0, 6).map((n) => shortText(n)).join(separator)}${names.length > 6 ? separator + '...' : ''}${hint}`);
  }
  const metrics = names.slice(1);
  const seen = new Map<string, number>();
  metrics.forEach((m, i) => {
    if (m === '') throw new KerasLogError(file, line, 'header', `column ${i + 2} has no name; CSVLogger names every column after a log key`);
    const prev = seen.get(m);
    if (prev !== undefined || m === 'epoch') throw new KerasLogError(file, line, 'header', `column '${shortText(m)}' appears twice (columns ${(prev ?? -1) + 2} and ${i + 2}); a CSVLogger header names each key once`);
    seen.set(m, i);
  });
  return metrics;
}

/** An array value as CSVLogger writes one (`"[0.5, 0.25]"`, quotes included), or undefined. */
function arrayCell(text: string): LogValue | undefined {
  const inner = text.replace(/^"(.*)"$/s, '$1').trim();
  if (!inner.startsWith('[') || !inner.endsWith(']')) return undefined;
  const body = inner.slice(1, -1).trim();
  const parts = body === '' ? [] : body.split(/\s*,\s*|\s+/);
  const values = parts.map(parseMetricCell);
  if (values.some((v) => v === undefined)) return undefined;
  return { ndarray: values as number[], dtype: 'float32', shape: [values.length] };
}

function toEpoch(fields: readonly string[], metrics: readonly string[], file: string, line: number): { epoch: number; logs: Record<string, LogValue> } {
  if (fields.length !== metrics.length + 1) {
    throw new KerasLogError(file, line, null, `${fields.length} cells where the header has ${metrics.length + 1} columns (epoch, ${metrics.map((m) => shortText(m)).join(', ')})`);
  }
  const epochText = fields[0]!;
  const epoch = Number(epochText);
  if (epochText.trim() === '' || !Number.isInteger(epoch) || epoch < 0) {
    throw new KerasLogError(file, line, 'epoch', `expected the 0-based epoch index (a non-negative integer), got ${quoteText(epochText)}`);
  }
  const logs: Record<string, LogValue> = {};
  metrics.forEach((name, i) => {
    const text = fields[i + 1]!;
    if (text === 'NA') return; // CSVLogger's mark for a key missing at this epoch
    const v = parseMetricCell(text) ?? arrayCell(text);
    if (v === undefined) throw new KerasLogError(file, line, name, `expected a number (nan, inf and NA allowed), got ${quoteText(text)}`);
    logs[name] = v;
  });
  return { epoch, logs };
}

function fileProblem(file: string): string | null {
  try {
    const st = statSync(file);
    return st.isFile() ? null : 'is not a file (a folder?)';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (e as Error).message})`;
  }
}

/** Reads a CSVLogger file. Throws KerasLogError (file, line, column, what is wrong) on anything else. */
export async function readCsvLoggerFile(file: string, opts: CsvLoggerReadOptions = {}): Promise<KerasLog> {
  const separator = opts.separator ?? ',';
  const problem = fileProblem(file);
  if (problem !== null) throw new KerasLogError(file, null, null, problem);
  const notText = notTextProblem(headBytes(file), 'CSV');
  if (notText !== null) throw new KerasLogError(file, null, null, `${notText}; expected ${WHAT}`);
  const source = createReadStream(file, { highWaterMark: 1 << 16 });
  const parser = parse({
    bom: true,
    delimiter: separator,
    quote: '"',
    // '\r\r\n' first: Python's csv module writing to a Windows text-mode file (no newline='') doubles the \r
    record_delimiter: ['\r\r\n', '\r\n', '\n', '\r'],
    skip_empty_lines: false,
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: MAX_ROW_BYTES,
  });
  source.on('error', (e) => parser.destroy(e));
  source.pipe(parser);
  let metrics: string[] | null = null;
  const epochs: KerasLogEpoch[] = [];
  let line = 0;
  let fit = 0;
  try {
    for await (const fields of parser as AsyncIterable<string[]>) {
      const at = line + 1;
      line += 1 + lineBreaksIn(fields);
      if (fields.length === 1 && fields[0] === '') continue; // a blank line
      if (metrics === null) {
        metrics = checkHeader(fields, file, at, separator);
        continue;
      }
      const { epoch, logs } = toEpoch(fields, metrics, file, at);
      const prev = epochs.at(-1);
      if (prev !== undefined && epoch <= prev.epoch) fit++;
      epochs.push({ fit, epoch, logs, at: { file, line: at } });
    }
  } catch (e) {
    if (e instanceof KerasLogError) throw e;
    if (e instanceof CsvError) {
      const where = line + 1;
      const what =
        e.code === 'CSV_MAX_RECORD_SIZE' ? `a row longer than ${MAX_ROW_BYTES} characters; a CSVLogger row is one epoch's metrics`
        : e.code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quoted cell is never closed'
        : e.message;
      throw new KerasLogError(file, where, null, `${what}; expected ${WHAT}`);
    }
    throw new KerasLogError(file, null, null, `cannot be read: ${(e as Error).message}`);
  } finally {
    source.destroy();
    parser.destroy();
  }
  return { file, format: 'CSVLogger', metrics: metrics ?? [], epochs };
}
