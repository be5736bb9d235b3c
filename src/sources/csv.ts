/**
 * Lightning's CSVLogger `metrics.csv`, streamed: columns are found by name (newer Lightning sorts
 * them, older keeps first-appearance order); an empty cell means "not logged in this row", `nan`
 * is a NaN; `epoch` may be blank (LearningRateMonitor, hp_metric) or absent; `step` is required.
 */
import { createReadStream, statSync } from 'node:fs';
import { CsvQuoteError, CsvTokenizer, type CsvRow } from './csvTokens.ts';
import { handleBad, SourceError, type BadInputPolicy, type LogRecord, type ProgressFn } from './records.ts';

export interface CsvReadOptions {
  readonly bad?: BadInputPolicy;
  readonly progress?: ProgressFn;
  /** bytes per read (default 64 KiB: batches small enough to die young keep the garbage collector cheap) */
  readonly chunkSize?: number;
}

/** Python's float repr of non-finite values, and the spellings other writers use. */
const NON_FINITE: Record<string, number> = {
  nan: NaN,
  '-nan': NaN,
  inf: Infinity,
  '+inf': Infinity,
  '-inf': -Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-infinity': -Infinity,
};

/** A metric cell: a number, or NaN/inf as Python writes them; undefined when the text is not a number. */
export function parseMetricCell(text: string): number | undefined {
  const v = Number(text);
  if (!Number.isNaN(v) && text.trim() !== '') return v;
  const nf = NON_FINITE[text.trim().toLowerCase()];
  return nf;
}

function parseCount(text: string): number | undefined {
  const v = Number(text);
  return Number.isInteger(v) && v >= 0 && text.trim() !== '' ? v : undefined;
}

interface Header {
  readonly names: readonly string[];
  readonly stepCol: number;
  readonly epochCol: number;
  /** indices of metric columns (everything but step and epoch) */
  readonly metricCols: readonly number[];
}

function readHeader(row: CsvRow, file: string): Header {
  const names = row.fields;
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw new SourceError({ file, line: row.line }, 'header', `column '${name}' appears twice (columns ${prev + 1} and ${i + 1}); a CSVLogger header names each metric once`);
    }
    seen.set(name, i);
  });
  const stepCol = seen.get('step');
  if (stepCol === undefined) {
    throw new SourceError(
      { file, line: row.line },
      'header',
      `no 'step' column (columns: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''}); expected a Lightning CSVLogger metrics.csv, whose header always has 'step'`,
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
function toRecord(row: CsvRow, h: Header, file: string): LogRecord | SourceError {
  const origin = { file, line: row.line };
  const f = row.fields;
  if (f.length !== h.names.length) {
    return new SourceError(origin, null, `${f.length} cells where the header has ${h.names.length} columns`);
  }
  const stepText = f[h.stepCol]!;
  const step = parseCount(stepText);
  if (step === undefined) {
    return new SourceError(origin, 'step', `expected a non-negative integer, got ${JSON.stringify(stepText)}`);
  }
  let epoch: number | null = null;
  if (h.epochCol >= 0) {
    const t = f[h.epochCol]!;
    if (t !== '') {
      const e = parseCount(t);
      if (e === undefined) return new SourceError(origin, 'epoch', `expected a non-negative integer or an empty cell, got ${JSON.stringify(t)}`);
      epoch = e;
    }
  }
  const metrics = new Map<string, number>();
  for (const i of h.metricCols) {
    const t = f[i]!;
    if (t === '') continue;
    const v = parseMetricCell(t);
    if (v === undefined) return new SourceError(origin, h.names[i]!, `expected a number (or nan/inf), got ${JSON.stringify(t)}`);
    metrics.set(h.names[i]!, v);
  }
  return { step, epoch, metrics, origin };
}

/** Reads one metrics.csv as records, in file order, a batch per chunk read (cheaper than a promise per row). */
export async function* readCsvLog(file: string, opts: CsvReadOptions = {}): AsyncGenerator<LogRecord[]> {
  const total = safeSize(file);
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: opts.chunkSize ?? 1 << 16 });
  const tok = new CsvTokenizer();
  let header: Header | null = null;
  let bytes = 0;
  const handle = (rows: CsvRow[]): LogRecord[] => {
    const out: LogRecord[] = [];
    for (const row of rows) {
      if (header === null) {
        header = readHeader(row, file);
        continue;
      }
      const r = toRecord(row, header, file);
      if (r instanceof SourceError) handleBad(opts.bad, r);
      else out.push(r);
    }
    return out;
  };
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      bytes += Buffer.byteLength(chunk, 'utf8');
      const batch = handle(tok.push(chunk));
      if (batch.length > 0) yield batch;
      opts.progress?.(bytes, total);
    }
    let last: CsvRow[];
    try {
      last = tok.end();
    } catch (e) {
      if (e instanceof CsvQuoteError) throw new SourceError({ file, line: e.line }, null, e.message);
      throw e;
    }
    const batch = handle(last);
    if (batch.length > 0) yield batch;
    if (header === null) throw new SourceError({ file, line: 1 }, 'header', 'the file is empty; expected a CSVLogger header (epoch, step, metric names)');
  } finally {
    stream.destroy();
  }
}

function safeSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
