/**
 * The manager's checkpoint list (Orbax's `_checkpoints`) as a persistent value: list order is the
 * order of appending (a forced older step goes at the end, as in Orbax), each checkpoint numbered
 * by a sequence number when it joins; a lookup by step finds it. Appending and removing a step
 * cost O(log n) and leave the list they came from as it was.
 */
import type { CheckpointInfo } from './checkpointInfo.ts';
import { SortedMap, numberOrder } from './sortedMap.ts';

/** A checkpoint with its place in the list. */
export interface Listed {
  readonly seq: number;
  readonly c: CheckpointInfo;
}

export interface CheckpointList {
  readonly bySeq: SortedMap<number, CheckpointInfo>;
  /** step → the sequence numbers listing it (one, unless a listing named a step twice) */
  readonly byStep: SortedMap<number, readonly number[]>;
  readonly nextSeq: number;
}

export const EMPTY_LIST: CheckpointList = { bySeq: SortedMap.empty(numberOrder), byStep: SortedMap.empty(numberOrder), nextSeq: 0 };

export function fromArray(cps: readonly CheckpointInfo[]): [CheckpointList, Listed[]] {
  let list = EMPTY_LIST;
  const listed: Listed[] = [];
  for (const c of cps) {
    listed.push({ seq: list.nextSeq, c });
    list = push(list, c);
  }
  return [list, listed];
}

/** `c` at the end of the list. */
export function push(list: CheckpointList, c: CheckpointInfo): CheckpointList {
  const seq = list.nextSeq;
  return { bySeq: list.bySeq.set(seq, c), byStep: list.byStep.set(c.step, [...(list.byStep.get(c.step) ?? []), seq]), nextSeq: seq + 1 };
}

/** The list without the checkpoints of `steps`, and those checkpoints in list order. */
export function withoutSteps(list: CheckpointList, steps: Iterable<number>): [CheckpointList, Listed[]] {
  let { bySeq, byStep } = list;
  const gone: Listed[] = [];
  for (const step of new Set(steps)) {
    const seqs = byStep.get(step);
    if (seqs === undefined) continue;
    for (const seq of seqs) {
      gone.push({ seq, c: bySeq.get(seq)! });
      bySeq = bySeq.delete(seq);
    }
    byStep = byStep.delete(step);
  }
  if (gone.length === 0) return [list, gone];
  gone.sort((a, b) => a.seq - b.seq);
  return [{ bySeq, byStep, nextSeq: list.nextSeq }, gone];
}

export const hasStep = (list: CheckpointList, step: number): boolean => list.byStep.has(step);
export const lastOf = (list: CheckpointList): CheckpointInfo | undefined => list.bySeq.last()?.[1];

const ARRAYS = new WeakMap<CheckpointList, readonly CheckpointInfo[]>();
/** The list as an array (built once per list value: O(n), for the outputs and rules that read it whole). */
export function toArray(list: CheckpointList): readonly CheckpointInfo[] {
  let a = ARRAYS.get(list);
  if (a === undefined) ARRAYS.set(list, (a = list.bySeq.values()));
  return a;
}

/** The last `n` checkpoints, in list order. */
export const tail = (list: CheckpointList, n: number): CheckpointInfo[] => list.bySeq.values(list.bySeq.size - n);
