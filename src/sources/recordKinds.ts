/**
 * What each logged record is to the loop: a training row, a validation row, epoch aggregates, a
 * test row, or a logger's own row (learning rates, hp_metric), told apart within the records of
 * one step by the roles of their metric names and the order the module writes them in.
 */
import { isLoggerOnly, type MetricRole } from './roles.ts';
import type { LogRecord } from './records.ts';
import type { RecordKind } from './timeline.ts';

/** The records logged at one step, in log order. */
export interface Group {
  readonly step: number;
  readonly records: LogRecord[];
}

export interface Classified {
  readonly record: LogRecord;
  readonly kind: RecordKind;
}

/** Each record's kind; within one step the module writes: training row, validation row, epoch aggregates. */
export function classify(g: Group, role: (name: string) => MetricRole): Classified[] {
  const out: Classified[] = [];
  let sawModule = false;
  for (const r of g.records) {
    let kind: RecordKind;
    if (r.epoch === null) kind = 'other';
    else {
      let val = false;
      let test = false;
      let train = false;
      let allEpochSuffix = r.metrics.size > 0;
      for (const name of r.metrics.keys()) {
        if (isLoggerOnly(name)) continue;
        const nameRole = role(name);
        if (nameRole === 'val') val = true;
        else if (nameRole === 'test') test = true;
        else train = true;
        if (!name.endsWith('_epoch')) allEpochSuffix = false;
      }
      if (val) kind = 'val';
      else if (test && !train) kind = 'test';
      else if (!train && !test) kind = 'other';
      else if (sawModule || allEpochSuffix) kind = 'epoch';
      else kind = 'train';
      if (kind === 'train' || kind === 'val' || kind === 'epoch') sawModule = true;
    }
    out.push({ record: r, kind });
  }
  return out;
}

/** The epoch of the module's rows (training, validation, epoch aggregates) among them; null for logger-only and test rows. */
export function moduleEpoch(c: readonly Classified[]): number | null {
  for (const x of c) if (x.kind === 'train' || x.kind === 'val' || x.kind === 'epoch') return x.record.epoch;
  return null;
}
