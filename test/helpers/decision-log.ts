/** Reading, rewriting and forging decision-log files in tests. */
import { readFileSync, writeFileSync } from 'node:fs';
import { sealRecord } from '../../src/audit/canonical.ts';

export type Rec = Record<string, any>;

export const readRecords = (path: string): Rec[] => readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Rec);
export const writeRecords = (path: string, recs: readonly Rec[]) => writeFileSync(path, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');

/** What a forger with the code does: renumber the records and recompute every hash. */
export function rechain(recs: readonly Rec[]): Rec[] {
  let prev: string | null = null;
  return recs.map((r, i) => {
    const { hash: _drop, ...body } = r;
    const sealed = sealRecord({ ...body, n: i + 1, prev });
    prev = sealed.hash;
    return JSON.parse(sealed.line) as Rec;
  });
}
