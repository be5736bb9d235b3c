/**
 * `ckpt recommend` properties (issue 14), over random grids and subsets of the public Lightning
 * runs: no policy on the frontier is dominated by another policy of the grid (within the budget,
 * not raising), every policy left out is dominated by one on it (or ties with it, or is out of
 * budget or raising), and every figure reported for a frontier policy equals what simulating that
 * policy alone on each run gives; and every policy of the grid, on the frontier or not, gets the
 * totals and rows `ckpt compare` gives it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DEFAULT_RUN } from '../src/sources/loopFacts.ts';
import { loadLightningRun } from '../src/simulate/lightningRun.ts';
import { simulate } from '../src/simulate/run.ts';
import type { RunInput } from '../src/simulate/runs.ts';
import { dominates, expandGrid, recommend, type Budget } from '../src/simulate/recommend.ts';
import { simulateRuns } from '../src/simulate/sweep.ts';
import { runs as scaled } from './arbitraries.ts';

const root = fileURLToPath(new URL('../test/fixtures/lightning-runs/runs/', import.meta.url));
const pool: RunInput[] = readdirSync(root)
  .sort()
  .flatMap((name) => {
    const run = loadLightningRun(join(root, name));
    return run.csvLogs.length ? [{ name, logs: run.csvLogs }] : [];
  });

const gridArb = fc.record({
  save_top_k: fc.uniqueArray(fc.integer({ min: -1, max: 4 }), { minLength: 1, maxLength: 4 }),
  every_n_epochs: fc.uniqueArray(fc.constantFrom(null, 1, 2, 3, 5), { minLength: 1, maxLength: 3 }),
  save_last: fc.uniqueArray(fc.constantFrom(null, true), { minLength: 1, maxLength: 2 }),
  keep_latest: fc.uniqueArray(fc.constantFrom(null, 1, 2), { minLength: 1, maxLength: 2 }),
});

const budgetArb: fc.Arbitrary<Budget> = fc.oneof(fc.constant({ kind: 'none' as const }), fc.integer({ min: 1, max: 6 }).map((max) => ({ kind: 'files' as const, max })));

test('the frontier holds no dominated policy, every other policy is dominated or excluded, and its figures equal simulate', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 5, selector: (r) => r.name }), gridArb, budgetArb, fc.boolean(), async (runs, grid, budget, sized) => {
      const size = sized ? 3e8 : null;
      const metric = { name: 'val_loss', mode: 'min' as const };
      const { policies } = expandGrid({ monitor: 'val_loss' }, grid);
      const r = await recommend(runs, { run: DEFAULT_RUN, cwd: '/rec', roles: {}, metric, ckptSize: size, skipBad: false }, policies, budget, { jobs: 2 });
      const eligible = r.candidates.filter((c) => c.withinBudget && !c.raises && c.regret !== null);
      for (const f of r.frontier) {
        assert.ok(eligible.includes(f));
        for (const q of r.candidates) if (q.withinBudget && !q.raises) assert.ok(!dominates(q, f), `${q.policy.name} dominates ${f.policy.name}`);
      }
      for (const c of eligible) {
        if (r.frontier.includes(c)) continue;
        assert.ok(r.frontier.some((f) => dominates(f, c) || (f.storage === c.storage && f.regret === c.regret)), `${c.policy.name} left out but not dominated`);
      }
      // the frontier's figures, from each policy simulated alone on each run
      for (const f of r.frontier) {
        const alone = await Promise.all(runs.map((run) => simulate({ policies: [f.policy], logs: run.logs, run: DEFAULT_RUN, cwd: '/rec', metric, ckptSize: size })));
        const ps = alone.map((a) => a.policies[0]!);
        const regrets = ps.map((p) => p.regret).filter((x): x is number => x !== null);
        assert.equal(f.regret, regrets.reduce((a, b) => a + b, 0) / regrets.length);
        assert.equal(f.totals.maxPeakFiles, Math.max(...ps.map((p) => p.peakFiles)));
        assert.equal(f.storage, size === null ? f.totals.maxPeakFiles : Math.max(...ps.map((p) => p.peakBytes!)));
        assert.equal(f.totals.checkpointsWritten, ps.reduce((a, p) => a + p.checkpointsWritten, 0));
        assert.equal(f.totals.runsLostBest, ps.filter((p) => p.regret !== null && p.regret > 0).length);
        if (budget.kind === 'files') assert.ok(f.totals.maxPeakFiles <= budget.max);
      }
    }),
    { seed: Number(process.env.FC_SEED ?? 0x7ec14), numRuns: scaled(10) },
  );
});

test('every policy of the grid gets the totals ckpt compare gives it: the sweep of that policy alone, in one thread', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 4, selector: (r) => r.name }), gridArb, fc.boolean(), fc.integer({ min: 1, max: 3 }), async (runs, grid, sized, jobs) => {
      const size = sized ? 3e8 : null;
      const settings = { run: DEFAULT_RUN, cwd: '/rec', roles: {}, metric: { name: 'val_loss', mode: 'min' as const }, ckptSize: size, skipBad: false };
      const { policies } = expandGrid({ monitor: 'val_loss' }, grid);
      const r = await recommend(runs, settings, policies, { kind: 'none' }, { jobs });
      assert.equal(r.candidates.length, policies.length);
      for (const [i, c] of r.candidates.entries()) {
        // what `ckpt compare` over these runs computes for the policy (executeSweep: simulateRuns)
        const alone = await simulateRuns(runs, { ...settings, policies: [policies[i]!] }, { jobs: 1 });
        assert.deepEqual(c.totals, alone.totals[0], c.policy.name);
        assert.deepEqual(r.sweep.runs.map((row) => (row.kind === 'simulated' ? row.policies[i] : row)), alone.runs.map((row) => (row.kind === 'simulated' ? row.policies[0] : row)));
      }
    }),
    { seed: Number(process.env.FC_SEED ?? 0xc0e14), numRuns: scaled(6) },
  );
});
