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
