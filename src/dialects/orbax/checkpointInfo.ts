/**
 * A checkpoint as the manager's list holds it (Orbax's CheckpointInfo), JSON-encodable: time in
 * seconds since the epoch (timezone-aware in Orbax) or 'datetime.min' (naive, from
 * `lightweight_initialize`); metrics as recorded, non-finite numbers as strings.
 */
import { pyError } from './pyerror.ts';
import type { PyScalar } from './pyvalue.ts';

export type MetricValue = number | string | null;
export type Metrics = Readonly<Record<string, MetricValue>> | null;
export type CkptTime = number | 'datetime.min';

export interface CheckpointInfo {
  readonly step: number;
  readonly time: CkptTime;
  readonly metrics: Metrics;
}

/** `a - b` in microseconds (Orbax's datetime resolution); naive minus aware raises like Python. */
export function timeDiffMicros(a: CkptTime, b: CkptTime): number {
  if (a === 'datetime.min' && b === 'datetime.min') return 0;
  if (a === 'datetime.min' || b === 'datetime.min') throw pyError('TypeError', "can't subtract offset-naive and offset-aware datetimes");
  return Math.round(a * 1e6) - Math.round(b * 1e6);
}

export function metricScalar(v: MetricValue): PyScalar {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string') return null;
  return v;
}

/** `lambda metrics: metrics[key]`: KeyError with Python's repr of the key when it is missing. */
export function lookupMetric(metrics: NonNullable<Metrics>, key: string): PyScalar {
  if (!Object.prototype.hasOwnProperty.call(metrics, key)) throw pyError('KeyError', pyRepr(key));
  return metricScalar(metrics[key]!);
}

function pyRepr(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
