/**
 * What every metric-log reader produces: one record per logger call (a CSV row, a group of
 * TensorBoard scalars written together), in file order, with where it came from.
 */

/** Where a record or a problem sits: a file and a 1-based line (CSV, JSONL) or record number (TFRecord). */
export interface Origin {
  readonly file: string;
  readonly line?: number;
  readonly record?: number;
}

export function originText(o: Origin): string {
  if (o.line !== undefined) return `${o.file}:${o.line}`;
  if (o.record !== undefined) return `${o.file} record ${o.record}`;
  return o.file;
}

/** One `logger.log_metrics(metrics, step)` call as a log stores it. */
export interface LogRecord {
  /** the logger's step: the optimizer steps done before the batch the call belongs to */
  readonly step: number;
  /** trainer.current_epoch for calls from the LightningModule; null for LearningRateMonitor, hp_metric */
  readonly epoch: number | null;
  /** name -> value in logging order; NaN and infinities as they were logged */
  readonly metrics: ReadonlyMap<string, number>;
  readonly origin: Origin;
}

/**
 * A record as this package's readers make it: the metrics as parallel arrays of names and values
 * (the names array shared by every record with the same columns), the Map and the origin made only
 * when asked for. A row is then two small allocations instead of a Map, an origin and a record.
 */
export class ReadRecord implements LogRecord {
  #metrics: ReadonlyMap<string, number> | null = null;
  #origin: Origin | null;

  constructor(
    readonly step: number,
    readonly epoch: number | null,
    /** metric names in logging order, each once */
    readonly names: readonly string[],
    /** the value of each name, at its index */
    readonly values: readonly number[],
    private readonly file: string,
    /** the 1-based line, when no origin is given */
    private readonly line: number,
    origin: Origin | null = null,
  ) {
    this.#origin = origin;
  }

  get metrics(): ReadonlyMap<string, number> {
    if (this.#metrics === null) {
      const m = new Map<string, number>();
      for (let i = 0; i < this.names.length; i++) m.set(this.names[i]!, this.values[i]!);
      this.#metrics = m;
    }
    return this.#metrics;
  }

  get origin(): Origin {
    return (this.#origin ??= { file: this.file, line: this.line });
  }
}

/** A record's metric names in logging order: the reader's array, or the keys of a record made elsewhere. */
export function namesOf(r: LogRecord): readonly string[] {
  return r instanceof ReadRecord ? r.names : [...r.metrics.keys()];
}

/** A record's metric values, in the order of namesOf. */
export function valuesOf(r: LogRecord): readonly number[] {
  return r instanceof ReadRecord ? r.values : [...r.metrics.values()];
}

/** Malformed input: names the place, the field and what was expected there. */
export class SourceError extends Error {
  /** a malformed record that `--skip-bad` would skip (set by handleBad); false for a file that cannot be read at all */
  skippable = false;

  constructor(
    readonly origin: Origin,
    readonly field: string | null,
    readonly problem: string,
  ) {
    super(`${originText(origin)}: ${field === null ? '' : `${field}: `}${problem}`);
    this.name = 'SourceError';
  }
}

/** What a reader does with a malformed record: stop with the error, or count it and go on (`--skip-bad`). */
export interface BadInputPolicy {
  readonly skipBad: boolean;
  /** called once per skipped record */
  readonly onSkip?: (error: SourceError) => void;
}

export function handleBad(policy: BadInputPolicy | undefined, error: SourceError): void {
  error.skippable = true;
  if (!policy?.skipBad) throw error;
  policy.onSkip?.(error);
}

/** Progress of a reader through its input, for progress bars. */
export type ProgressFn = (bytesRead: number, totalBytes: number) => void;
