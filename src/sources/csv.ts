/**
 * Lightning's CSVLogger `metrics.csv`, streamed: columns are found by name (newer Lightning sorts
 * them, older keeps first-appearance order); an empty cell means "not logged in this row", `nan`
 * is a NaN; `epoch` may be blank (LearningRateMonitor, hp_metric) or absent; `step` is required.
 */
import { statSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { CsvError, Options as CsvParseOptions } from 'csv-parse';
import { openChunks } from './chunks.ts';
import { handleBad, ReadRecord, SourceError, type BadInputPolicy, type LogRecord, type ProgressFn } from './records.ts';
import { headBytes, notTextProblem, quoteText, shortText } from './text.ts';

export interface CsvReadOptions {
  readonly bad?: BadInputPolicy;
  readonly progress?: ProgressFn;
  /** bytes per read (default 64 KiB) */
  readonly chunkSize?: number;
  /** false: csv-parse reads every line, quoted or not (the reference the fast path is tested against) */
  readonly splitLines?: boolean;
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
  /** the names of a row's non-empty metric cells by their bits (bit j: metricCols[j]), shared by the rows alike */
  readonly namesByMask: Map<number, readonly string[]>;
  /** a row's values as they are read, copied out at its end (one exact-size array per row) */
  readonly scratch: number[];
}

/** Rows with more metric columns than bits in a mask get a names array of their own. */
const MASK_BITS = 30;

const NO_NUMBERS: readonly number[] = [];

/** The names of the metric cells whose bits are set in `mask`, made once per mask. */
function namesOfMask(h: Header, mask: number): readonly string[] {
  let names = h.namesByMask.get(mask);
  if (names === undefined) {
    const out: string[] = [];
    for (let j = 0; j < h.metricCols.length; j++) if ((mask & (1 << j)) !== 0) out.push(h.names[h.metricCols[j]!]!);
    h.namesByMask.set(mask, (names = out));
  }
  return names;
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
  return { names, stepCol, epochCol, metricCols, namesByMask: new Map(), scratch: Array.from({ length: metricCols.length }, () => 0) };
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
  const names: string[] = [];
  const values: number[] = [];
  for (const i of h.metricCols) {
    const t = f[i]!;
    if (t === '') continue;
    const v = parseMetricCell(t);
    if (v === undefined) return new SourceError(origin, h.names[i]!, `expected a number (or nan/inf), got ${quoteText(t)}`);
    names.push(h.names[i]!);
    values.push(v);
  }
  return new ReadRecord(step, epoch, names, values, file, line, origin);
}

/** A cell of digits only (no sign, no space), as an integer; -1 otherwise. Exact up to 15 digits. */
function digitsAt(text: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * The record of one unquoted line, read in place (no array of cells); null when the line is not a
 * plain well-formed row (blank, wrong cell count, a cell that does not parse): `toRecord` then
 * reads it again and says what is wrong, so the messages stay its own.
 */
function fastRow(text: string, from: number, end: number, line: number, h: Header, file: string): ReadRecord | null {
  const n = h.names.length;
  let step = -1;
  let epoch: number | null = null;
  const scratch = h.scratch;
  const wide = h.metricCols.length > MASK_BITS;
  let k = 0; // values read
  let j = -1; // metric column
  let mask = 0;
  let start = from;
  for (let i = 0; i < n; i++) {
    const comma = text.indexOf(',', start);
    const last = i === n - 1;
    if (last ? comma !== -1 && comma < end : comma === -1 || comma >= end) return null; // more or fewer cells than columns
    const stop = last ? end : comma;
    if (i === h.stepCol) {
      step = digitsAt(text, start, stop);
      if (step < 0) return null;
    } else if (i === h.epochCol) {
      if (stop > start) {
        const e = digitsAt(text, start, stop);
        if (e < 0) return null;
        epoch = e;
      }
    } else {
      j++;
      if (stop > start) {
        const v = parseMetricCell(text.slice(start, stop));
        if (v === undefined) return null;
        scratch[k++] = v;
        if (!wide) mask |= 1 << j;
      }
    }
    start = stop + 1;
  }
  const values = k === 0 ? NO_NUMBERS : k === 1 ? [scratch[0]!] : scratch.slice(0, k);
  return new ReadRecord(step, epoch, wide ? wideNames(text, from, end, h) : namesOfMask(h, mask), values, file, line);
}

/** The names of a wide row's non-empty metric cells (the row is known to be well formed). */
function wideNames(text: string, from: number, end: number, h: Header): string[] {
  const out: string[] = [];
  let start = from;
  for (let i = 0; i < h.names.length; i++) {
    const comma = text.indexOf(',', start);
    const stop = comma === -1 || comma >= end ? end : comma;
    if (stop > start && i !== h.stepCol && i !== h.epochCol) out.push(h.names[i]!);
    start = stop + 1;
  }
  return out;
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

/**
 * Reads one metrics.csv as records, in file order, in batches (cheaper than a promise per row).
 *
 * Lines without a quote, which is every line Lightning writes unless a metric's name holds a comma
 * or a quote, are split here: a cell is the text between commas, as csv-parse reads it. From the
 * first line with a `"` on, the rest of the file goes through csv-parse, which knows RFC 4180's
 * quoting; splitting by hand costs a fifth of what csv-parse takes per row.
 */
export async function* readCsvLog(file: string, opts: CsvReadOptions = {}): AsyncGenerator<LogRecord[]> {
  // a binary file would otherwise come back as a "header" of raw bytes
  const head = headBytes(file);
  const notText = notTextProblem(head, 'CSV');
  if (notText !== null) throw new SourceError({ file }, null, `${notText}; expected a Lightning CSVLogger metrics.csv`);
  const total = safeSize(file);
  const chunks = openChunks(file, opts.chunkSize ?? 1 << 16);
  let header: Header | null = null;
  /** the line the last row ended on */
  let line = 0;
  let batch: LogRecord[] = [];
  const take = (fields: readonly string[], at: number) => {
    if (fields.length === 1 && fields[0] === '') return; // a blank line
    if (header === null) {
      header = readHeader(fields, at, file);
      return;
    }
    const r = toRecord(fields, at, header, file);
    if (r instanceof SourceError) handleBad(opts.bad, r);
    else batch.push(r);
  };
  /** text of whole lines, the last one ended by the end of the text: each line a row */
  const takeLines = (text: string) => {
    let from = 0;
    let lf = text.indexOf('\n');
    let cr = text.indexOf('\r');
    for (;;) {
      if (lf !== -1 && lf < from) lf = text.indexOf('\n', from);
      if (cr !== -1 && cr < from) cr = text.indexOf('\r', from);
      const end = lf === -1 ? (cr === -1 ? text.length : cr) : cr === -1 ? lf : Math.min(lf, cr);
      ++line;
      const r = header === null ? null : fastRow(text, from, end, line, header, file);
      if (r !== null) batch.push(r);
      else take(text.slice(from, end).split(','), line);
      if (end === text.length) return;
      from = end + (end === cr && lf === cr + 1 ? 2 : 1);
    }
  };
  let rest: Buffer | null = null;
  let crPending = false;
  let quoted: Buffer | null = null;
  try {
    // UTF-16 (which csv-parse would detect from its BOM) is left to csv-parse whole
    const utf16 = head !== null && head.length >= 2 && head[0] === 0xff && head[1] === 0xfe;
    let first = !utf16;
    if (utf16 || opts.splitLines === false) quoted = Buffer.alloc(0);
    while (quoted === null) {
      const next = await chunks.next();
      if (next.done) break;
      let data: Buffer = rest === null ? next.value : Buffer.concat([rest, next.value]);
      rest = null;
      if (first && data.length >= 3) {
        if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
        first = false;
      } else if (first) {
        rest = data; // too short to tell a BOM yet
        continue;
      }
      if (crPending && data.length > 0) {
        if (data[0] === 0x0a) data = data.subarray(1); // the CR ending the last line was a CRLF
        crPending = false;
      }
      const q = data.indexOf(0x22);
      const upto = q === -1 ? data.length : q;
      // the last line break before `upto`: the lines before it are whole
      const lf = data.lastIndexOf(0x0a, upto - 1);
      const cr = data.lastIndexOf(0x0d, upto - 1);
      const k = upto === 0 ? -1 : Math.max(lf, cr);
      if (q !== -1) {
        if (k !== -1) takeLines(data.toString('utf8', 0, k > 0 && data[k] === 0x0a && data[k - 1] === 0x0d ? k - 1 : k));
        quoted = data.subarray(k + 1);
        break;
      }
      if (k === -1) {
        rest = data;
        continue;
      }
      takeLines(data.toString('utf8', 0, data[k] === 0x0a && k > 0 && data[k - 1] === 0x0d ? k - 1 : k));
      if (data[k] === 0x0d && k === data.length - 1) crPending = true;
      else if (k + 1 < data.length) rest = data.subarray(k + 1);
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
        opts.progress?.(chunks.bytesRead, total);
      }
    }
    // the last line, with no line break after it
    if (quoted === null && rest !== null && rest.length > 0) {
      if (rest.includes(0x22)) quoted = rest;
      else takeLines(rest.toString('utf8'));
    }
    /** what csv-parse reported through on_skip: a quoted field that the file never closes */
    const skipped: { error: CsvError | null } = { error: null };
    if (quoted !== null) {
      for await (const rows of quotedRows(quoted, chunks, skipped)) {
        for (const fields of rows) {
          const at = line + 1;
          line += 1 + lineBreaksIn(fields);
          take(fields, at);
        }
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
          opts.progress?.(chunks.bytesRead, total);
        }
      }
    }
    if (batch.length > 0) yield batch;
    opts.progress?.(chunks.bytesRead, total);
    if (skipped.error !== null) {
      const what = skipped.error.code === 'CSV_QUOTE_NOT_CLOSED' ? `a quoted field opened on line ${line + 1} is never closed` : skipped.error.message;
      throw new SourceError({ file, line: line + 1 }, null, what);
    }
    if (header === null) throw new SourceError({ file, line: 1 }, 'header', 'the file is empty; expected a CSVLogger header (epoch, step, metric names)');
  } finally {
    chunks.close();
  }
}

/**
 * The rows csv-parse reads from `head` (the bytes from the start of a line) and the rest of the
 * file's chunks. A quoted field the file never closes is reported through on_skip, after every
 * row before it, into `skipped`.
 */
async function* quotedRows(head: Buffer, chunks: AsyncIterator<Buffer>, skipped: { error: CsvError | null }): AsyncGenerator<string[][]> {
  // loaded by the first quoted line: Lightning's own logs have none
  const { parse } = await import('csv-parse');
  const parser = parse({
    ...CSV_OPTIONS,
    on_skip: (error) => {
      skipped.error ??= error ?? null;
      return undefined;
    },
  });
  const input = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      for (let c = await chunks.next(); !c.done; c = await chunks.next()) yield c.value;
    })(),
    { objectMode: false },
  );
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);
  try {
    yield* drain<string[]>(parser);
  } finally {
    input.destroy();
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
