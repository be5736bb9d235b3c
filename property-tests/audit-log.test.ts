/**
 * Decision log properties, for any event stream (fit, resume and irregular scenarios):
 * - the log written while the policy decides verifies cleanly;
 * - changing any single record (any field, the hash included; a value changed, a field removed or
 *   added) makes verification fail;
 * - even a forger who recomputes the whole chain cannot change what a decision says (its effects
 *   or reasons) without the replay catching it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { canonicalJson, sealRecord } from '../src/audit/canonical.ts';
import { drive } from '../src/audit/drive.ts';
import { formatVerifyReport, verifyLog } from '../src/audit/verify.ts';
import { openDecisionLog } from '../src/audit/writer.ts';
import { CWD, runs, scenarioArb, type Scenario } from './arbitraries.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-audit-prop-'));
let counter = 0;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Rec = { [k: string]: Json };

/** The lines of the log a scenario's decisions write (outcomes: every storage effect done). */
function logLines(sc: Scenario): string[] {
  const path = join(tmp, `p-${++counter}.jsonl`);
  const log = openDecisionLog(path, { now: () => new Date(0) });
  drive(log, sc.config, sc.events, { cwd: CWD });
  log.close();
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  rmSync(path);
  return lines;
}

function verifyLines(lines: readonly string[]) {
  return verifyLog({ kind: 'bytes', name: 'prop.jsonl', data: Buffer.from(lines.join('\n') + '\n') });
}

/** Paths to every leaf of a JSON value, and to every object (for adding a key). */
function paths(v: Json, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (v !== null && typeof v === 'object') {
    if (!Array.isArray(v)) out.push(at);
    const entries: Array<[string | number, Json]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, x] of entries) paths(x, [...at, k], out);
    if (entries.length === 0 && Array.isArray(v)) out.push(at);
  } else out.push(at);
  return out;
}

function get(v: Json, p: ReadonlyArray<string | number>): Json {
  return p.reduce<Json>((x, k) => (x as Record<string | number, Json>)[k]!, v);
}

/** One change at `p`: a different value, the field gone, or a field added; always a real change. */
function mutate(rec: Rec, p: ReadonlyArray<string | number>, how: number): Rec {
  const copy = structuredClone(rec) as Json;
  const parent = p.length === 0 ? null : (get(copy, p.slice(0, -1)) as Record<string | number, Json> | Json[]);
  const key = p.at(-1);
  const v = get(copy, p);
  const changed = (x: Json): Json => {
    if (typeof x === 'number') return x + 1 === x ? x * 2 + 1 : x + 1;
    if (typeof x === 'string') return x + (how % 2 ? 'x' : ' ');
    if (typeof x === 'boolean') return !x;
    if (x === null) return 0;
    if (Array.isArray(x)) return [...x, 0];
    return { ...x, extra: 1 };
  };
  if (how % 3 === 2 && parent !== null && !Array.isArray(parent) && key !== undefined) delete parent[key];
  else if (parent === null) return changed(copy) as Rec;
  else (parent as Record<string | number, Json>)[key!] = changed(v);
  return copy as Rec;
}

/** What a forger with the code does: renumber and reseal every record. */
function rechain(recs: Rec[]): string[] {
  let prev: string | null = null;
  return recs.map((r, i) => {
    const { hash: _h, ...body } = r;
    const sealed = sealRecord({ ...body, n: i + 1, prev });
    prev = sealed.hash;
    return sealed.line;
  });
}

const SEED = Number(process.env.FC_SEED ?? 0xa0d17);

test('for any event stream, the decision log written verifies cleanly', () => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      const lines = logLines(sc);
      const r = verifyLines(lines);
      assert.equal(r.status, 'verified', formatVerifyReport(r).join('\n'));
      assert.ok(r.decisions >= 1 && r.decisions <= sc.events.length);
    }),
    { seed: SEED, numRuns: runs(150) },
  );
});

test('changing any single record (any field, a field removed or added) makes verification fail', () => {
  fc.assert(
    fc.property(scenarioArb, fc.nat(), fc.nat(), fc.nat(), (sc, which, where, how) => {
      const lines = logLines(sc);
      const i = which % lines.length;
      const rec = JSON.parse(lines[i]!) as Rec;
      const ps = paths(rec);
      const p = ps[where % ps.length]!;
      const changed = mutate(rec, p, how);
      fc.pre(canonicalJson(changed) !== canonicalJson(rec));
      const tampered = [...lines];
      tampered[i] = JSON.stringify(changed);
      const r = verifyLines(tampered);
      assert.notEqual(r.exitCode, 0, `record ${i + 1}, ${p.join('.')} changed, yet: ${formatVerifyReport(r).join(' | ')}`);
    }),
    { seed: SEED + 1, numRuns: runs(300) },
  );
});

test('with the chain recomputed, changing what any decision says (effects or reasons) is caught by the replay', () => {
  fc.assert(
    fc.property(scenarioArb, fc.nat(), fc.nat(), fc.nat(), (sc, which, where, how) => {
      const lines = logLines(sc);
      const recs = lines.map((l) => JSON.parse(l) as Rec);
      const decisions = recs.flatMap((r, i) => (r.type === 'decision' ? [i] : []));
      const i = decisions[which % decisions.length]!;
      const rec = recs[i]!;
      const ps = paths(rec).filter((p) => p[0] === 'effects' || p[0] === 'notes');
      const p = ps[where % ps.length]!;
      const changed = mutate(rec, p, how);
      fc.pre(canonicalJson(changed) !== canonicalJson(rec));
      recs[i] = changed;
      const r = verifyLines(rechain(recs));
      assert.equal(r.exitCode, 1, `record ${i + 1}, ${p.join('.')} changed, yet: ${formatVerifyReport(r).join(' | ')}`);
      assert.ok(r.chain === null ? r.divergence?.record === i + 1 : r.chain.record === i + 1, formatVerifyReport(r).join(' | '));
    }),
    { seed: SEED + 2, numRuns: runs(300) },
  );
});

test.after?.(() => rmSync(tmp, { recursive: true, force: true }));
