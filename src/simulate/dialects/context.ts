/** What every dialect adapter is given and returns. */
import type { MetricChoice } from '../run.ts';
import type { RoleOptions } from '../../sources/roles.ts';
import type { SeriesPoint } from '../series.ts';
import { sourceName, type LogSource } from './logSource.ts';
import { FRAMEWORK, type DialectName, type DialectPolicyResult, type ReportFit } from './result.ts';

/** A Keras, Orbax or Trainer policy: the framework's options, already checked in its words (src/dialectOptions.ts). */
export interface DialectPolicy {
  readonly dialect: DialectName;
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly source: string;
}

export interface AdapterContext {
  readonly source: LogSource;
  /** the figures' metric (--metric); default each policy's own */
  readonly metric: MetricChoice | null;
  readonly ckptSize: number | null;
  readonly roles: RoleOptions;
  /** --num-training-batches: steps per epoch for the Trainer's loop on a Lightning log */
  readonly numTrainingBatches: number | null;
  /** --trainer for a Trainer policy: the run's TrainingArguments (the policy's keys take precedence) */
  readonly trainingArguments: Readonly<Record<string, unknown>>;
}

export interface AdapterOutput {
  readonly result: DialectPolicyResult;
  readonly fit: ReportFit;
  readonly series: { readonly metric: string; readonly points: readonly SeriesPoint[] } | null;
}

/** A log the dialect cannot read: names the dialect, the log's kind and the kinds it reads. */
export class UnreadableLog extends Error {
  constructor(dialect: DialectName, policy: string, source: LogSource, reads: readonly string[]) {
    super(`${policy} (dialect: ${dialect}): ${source.path} is a ${sourceName(source)}, which ${FRAMEWORK[dialect]} policies cannot be replayed on; the ${dialect} dialect reads ${reads.join(', ')}`);
    this.name = 'UnreadableLog';
  }
}

/** A log a dialect read, for the report's header. */
export function fitOf(path: string, kind: string, records: number): ReportFit {
  return { fit: 0, log: path, kind, facts: null, start: null, end: null, records };
}
