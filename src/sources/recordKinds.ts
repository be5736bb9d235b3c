/**
 * What each logged record is to the loop: a training row, a validation row, epoch aggregates, a
 * test row, or a logger's own row (learning rates, hp_metric), told apart within the records of
 * one step by the roles of their metric names and the order the module writes them in.
 */
import { isLoggerOnly, type MetricRole } from './roles.ts';
import { namesOf, type LogRecord } from './records.ts';
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

/** What a record's names say, as bits: any validation, test or training name, and only `*_epoch` names. */
const VAL = 1;
const TEST = 2;
const TRAIN = 4;
const ALL_EPOCH = 8;

function nameBits(names: readonly string[], role: (name: string) => MetricRole): number {
  let bits = names.length > 0 ? ALL_EPOCH : 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (isLoggerOnly(name)) continue;
    const nameRole = role(name);
    bits |= nameRole === 'val' ? VAL : nameRole === 'test' ? TEST : TRAIN;
    if (!name.endsWith('_epoch')) bits &= ~ALL_EPOCH;
  }
  return bits;
}

// the last names array kindOf was asked about and its bits: a CSV's rows share their names arrays
let lastNames: readonly string[] | null = null;
let lastRole: ((name: string) => MetricRole) | null = null;
let lastBits = 0;

/** A record's kind, given whether one of the module's rows came before it at its step. */
function kindOf(r: LogRecord, sawModule: boolean, role: (name: string) => MetricRole): RecordKind {
  if (r.epoch === null) return 'other';
  const names = namesOf(r);
  let bits: number;
  if (names === lastNames && role === lastRole) bits = lastBits;
  else {
    bits = nameBits(names, role);
    lastNames = names;
    lastRole = role;
    lastBits = bits;
  }
  const train = (bits & TRAIN) !== 0;
  const test = (bits & TEST) !== 0;
  if ((bits & VAL) !== 0) return 'val';
  if (test && !train) return 'test';
  if (!train && !test) return 'other';
  return sawModule || (bits & ALL_EPOCH) !== 0 ? 'epoch' : 'train';
}

/** The kinds of a group of one record: shared, as most steps log one row. */
const ONE: Readonly<Record<RecordKind, readonly RecordKind[]>> = {
  train: ['train'],
  val: ['val'],
  epoch: ['epoch'],
  test: ['test'],
  other: ['other'],
};

/** Each record's kind, by index; within one step the module writes: training row, validation row, epoch aggregates. */
export function kindsOf(g: Group, role: (name: string) => MetricRole): readonly RecordKind[] {
  const rs = g.records;
  if (rs.length === 1) return ONE[kindOf(rs[0]!, false, role)];
  const out: RecordKind[] = [];
  let sawModule = false;
  for (const r of rs) {
    const kind = kindOf(r, sawModule, role);
    if (kind === 'train' || kind === 'val' || kind === 'epoch') sawModule = true;
    out.push(kind);
  }
  return out;
}

/** Each record with its kind (kindsOf, paired up). */
export function classify(g: Group, role: (name: string) => MetricRole): Classified[] {
  const kinds = kindsOf(g, role);
  return kinds.map((kind, i) => ({ record: g.records[i]!, kind }));
}

/** The epoch of the module's rows (training, validation, epoch aggregates) among records of these kinds; null for logger-only and test rows. */
export function moduleEpochOf(g: Group, kinds: readonly RecordKind[]): number | null {
  for (let i = 0; i < kinds.length; i++) {
    const k = kinds[i];
    if (k === 'train' || k === 'val' || k === 'epoch') return g.records[i]!.epoch;
  }
  return null;
}
