/**
 * Lightning's CSVLogger `metrics.csv`, streamed: columns are found by name (newer Lightning sorts
 * them, older keeps first-appearance order); an empty cell means "not logged in this row", `nan`
 * is a NaN; `epoch` may be blank (LearningRateMonitor, hp_metric) or absent; `step` is required.
 */
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { parse, type CsvError, type Options as CsvParseOptions } from 'csv-parse';
import { handleBad, SourceError, type BadInputPolicy, type LogRecord, type ProgressFn } from './records.ts';
import { headBytes, notTextProblem, quoteText, shortText } from './text.ts';

export interface CsvReadOptions {
  readonly bad?: BadInputPolicy;
  readonly progress?: ProgressFn;
  /** bytes per read (default 64 KiB) */
  readonly chunkSize?: number;
}

/** Python's float repr of non-finite values, and the spellings other writers use. */
const NON_FINITE = new Map<string, number>([
  ['nan', NaN],
  ['-nan', NaN],
  ['inf', Infinity],
  ['+inf', Infinity],
  ['-inf', -Infinity],
  ['infinity', Infinity],
  ['+infinity', Infinity],
  ['-infinity', -Infinity],
]);

/** A metric cell: a number, or NaN/inf as Python writes them; undefined when the text is not a number. */
export function parseMetricCell(text: string): number | undefined {
  const v = Number(text);
  // Number('') and Number(' ') are 0: only a 0 needs the text checked
  if (!Number.isNaN(v) && (v !== 0 || text.trim() !== '')) return v;
  return NON_FINITE.get(text.trim().toLowerCase());
}

function parseCount(text: string): number | undefined {
  const v = Number(text);
  return Number.isInteger(v) && v >= 0 && (v !== 0 || text.trim() !== '') ? v : undefined;
}

interface Header {
  readonly names: readonly string[];
  readonly stepCol: number;
  readonly epochCol: number;
  /** indices of metric columns (everything but step and epoch) */
  readonly metricCols: readonly number[];
}

function readHeader(names: readonly string[], line: number, file: string): Header {
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw new SourceError({ file, line }, 'header', `column '${shortText(name)}' appears twice (columns ${prev + 1} and ${i + 1}); a CSVLogger header names each metric once`);
    }
    seen.set(name, i);
  });
  const stepCol = seen.get('step');
  if (stepCol === undefined) {
    throw new SourceError(
      { file, line },
      'header',
      `no 'step' column (columns: ${names.slice(0, 8).map((n) => shortText(n)).join(', ')}${names.length > 8 ? ', ...' : ''}); expected a Lightning CSVLogger metrics.csv, whose header always has 'step'`,
    );
  }
  const epochCol = seen.get('epoch') ?? -1;
  const metricCols: number[] = [];
  names.forEach((_, i) => {
    if (i !== stepCol && i !== epochCol) metricCols.push(i);
  });
  return { names, stepCol, epochCol, metricCols };
}

/** One data row as a record, or a SourceError naming the line and column. */
function toRecord(f: readonly string[], line: number, h: Header, file: string): LogRecord | SourceError {
  const origin = { file, line };
  if (f.length !== h.names.length) {
    return new SourceError(origin, null, `${f.length} cells where the header has ${h.names.length} columns`);
  }
  const stepText = f[h.stepCol]!;
  const step = parseCount(stepText);
  if (step === undefined) {
    return new SourceError(origin, 'step', `expected a non-negative integer, got ${quoteText(stepText)}`);
  }
  let epoch: number | null = null;
  if (h.epochCol >= 0) {
    const t = f[h.epochCol]!;
    if (t !== '') {
      const e = parseCount(t);
      if (e === undefined) return new SourceError(origin, 'epoch', `expected a non-negative integer or an empty cell, got ${quoteText(t)}`);
      epoch = e;
    }
  }
  const metrics = new Map<string, number>();
  for (const i of h.metricCols) {
    const t = f[i]!;
    if (t === '') continue;
    const v = parseMetricCell(t);
    if (v === undefined) return new SourceError(origin, h.names[i]!, `expected a number (or nan/inf), got ${quoteText(t)}`);
    metrics.set(h.names[i]!, v);
  }
  return { step, epoch, metrics, origin };
}

/** Rows handed on at a time: a promise per batch, not per row, and batches small enough to die young. */
const BATCH = 1024;

/**
 * csv-parse's options for what Python's `csv` module writes (RFC 4180). Row ends may be CRLF, LF or
 * CR, mixed. Blank lines come through as `['']` rather than being skipped, so that each row's line
 * number can be counted here (csv-parse's per-row `info` costs more than the parse itself). Quotes
 * are relaxed as Python's reader is (a `"` inside an unquoted cell is a character), so the only
 * error left is a quote never closed, which csv-parse reports at the end, through `on_skip`, after
 * every row before it.
 */
const CSV_OPTIONS: CsvParseOptions = {
  bom: true,
  delimiter: ',',
  quote: '"',
  record_delimiter: ['\r\n', '\n', '\r'],
  skip_empty_lines: false,
  relax_column_count: true,
  relax_quotes: true,
  skip_records_with_error: true,
};

/** Line breaks inside a row's quoted cells (CRLF counts once), to keep line numbers true after it. */
function lineBreaksIn(fields: readonly string[]): number {
  let n = 0;
  for (const f of fields) {
    if (f.indexOf('\n') === -1 && f.indexOf('\r') === -1) continue;
    for (let i = 0; i < f.length; i++) {
      const c = f.charCodeAt(i);
      if (c === 10 || (c === 13 && f.charCodeAt(i + 1) !== 10)) n++;
    }
  }
  return n;
}

/** Reads one metrics.csv as records, in file order, in batches (cheaper than a promise per row). */
export async function* readCsvLog(file: string, opts: CsvReadOptions = {}): AsyncGenerator<LogRecord[]> {
  // a binary file would otherwise come back as a "header" of raw bytes
  const notText = notTextProblem(headBytes(file), 'CSV');
  if (notText !== null) throw new SourceError({ file }, null, `${notText}; expected a Lightning CSVLogger metrics.csv`);
  const total = safeSize(file);
  const source = createReadStream(file, { highWaterMark: opts.chunkSize ?? 1 << 16 });
  /** what csv-parse reported through on_skip: a quoted field that the file never closes */
  const skipped: { error: CsvError | null } = { error: null };
  const parser = parse({
    ...CSV_OPTIONS,
    on_skip: (error) => {
      skipped.error ??= error ?? null;
      return undefined;
    },
  });
  source.on('error', (e) => parser.destroy(e));
  source.pipe(parser);
  let header: Header | null = null;
  /** the line the last row ended on */
  let line = 0;
  let batch: LogRecord[] = [];
  try {
    for await (const rows of drain<string[]>(parser)) {
      for (const fields of rows) {
        const at = line + 1;
        line += 1 + lineBreaksIn(fields);
        if (fields.length === 1 && fields[0] === '') continue; // a blank line
        if (header === null) {
          header = readHeader(fields, at, file);
          continue;
        }
        const r = toRecord(fields, at, header, file);
        if (r instanceof SourceError) handleBad(opts.bad, r);
        else batch.push(r);
      }
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
        opts.progress?.(source.bytesRead, total);
      }
    }
    if (batch.length > 0) yield batch;
    opts.progress?.(source.bytesRead, total);
    if (skipped.error !== null) {
      const what = skipped.error.code === 'CSV_QUOTE_NOT_CLOSED' ? `a quoted field opened on line ${line + 1} is never closed` : skipped.error.message;
      throw new SourceError({ file, line: line + 1 }, null, what);
    }
    if (header === null) throw new SourceError({ file, line: 1 }, 'header', 'the file is empty; expected a CSVLogger header (epoch, step, metric names)');
  } finally {
    source.destroy();
    parser.destroy();
  }
}

/**
 * The objects a readable stream holds, drained a buffer at a time: one promise per chunk the
 * parser takes in rather than one per row, as `for await` over the stream would cost.
 */
async function* drain<T>(stream: Readable): AsyncGenerator<T[]> {
  const state: { ended: boolean; error: Error | null; wake: (() => void) | null } = { ended: false, error: null, wake: null };
  const notify = () => {
    const wake = state.wake;
    state.wake = null;
    wake?.();
  };
  stream.on('readable', notify);
  stream.on('end', () => {
    state.ended = true;
    notify();
  });
  stream.on('error', (error: Error) => {
    state.error = error;
    notify();
  });
  while (true) {
    const items: T[] = [];
    for (let x = stream.read() as T | null; x !== null; x = stream.read() as T | null) items.push(x);
    if (items.length > 0) yield items;
    if (state.error !== null) throw state.error;
    if (state.ended) return;
    await new Promise<void>((resolve) => (state.wake = resolve));
  }
}

function safeSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
