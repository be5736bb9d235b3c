/**
 * A Keras training log as the simulation reads it: the epochs Keras's `on_epoch_end` saw, each with
 * the 0-based index Keras passed and its `logs`, grouped into `fit` calls. Readers: csvLogger.ts
 * (`keras.callbacks.CSVLogger`) and history.ts (`History.history` dumped as JSON).
 */
import type { Logs } from './values.ts';

/** Where an epoch came from: the file, and its 1-based line (CSV row; for History, the line of its first key). */
export interface LogPlace {
  readonly file: string;
  readonly line: number;
}

export interface KerasLogEpoch {
  /** which `fit` call, 0-based: a CSVLogger file with `append=True` holds several, its epoch counter restarting */
  readonly fit: number;
  /** the index Keras passed to `on_epoch_end` (0-based; `{epoch}` in a filepath is this + 1) */
  readonly epoch: number;
  /** the epoch's logs; a key the writer marked as missing (CSVLogger's `NA`) is absent */
  readonly logs: Logs;
  readonly at: LogPlace;
}

export interface KerasLog {
  readonly file: string;
  /** the writer; TensorBoard (Keras's callback) and a Lightning metrics.csv mapped to epochs come from src/simulate/dialects/ */
  readonly format: 'CSVLogger' | 'History' | 'TensorBoard' | 'Lightning metrics.csv';
  /** the metric names, in the file's order (CSVLogger: its header without `epoch`; History: its keys) */
  readonly metrics: readonly string[];
  readonly epochs: readonly KerasLogEpoch[];
}

/** A Keras log that cannot be read: names the file, the line (when there is one), the field and what is wrong. */
export class KerasLogError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly field: string | null,
    readonly problem: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${field === null ? '' : `${field}: `}${problem}`);
    this.name = 'KerasLogError';
  }
}
