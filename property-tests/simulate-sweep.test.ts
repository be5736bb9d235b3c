/**
 * Sweep property (issue 14): simulating N runs in parallel (worker threads) equals simulating each
 * run alone, and the whole sweep in one thread (rows and totals), whatever the runs (the public
 * Lightning runs' CSV and TensorBoard logs, any subset, any order, repeats), the policies and the
 * number of threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseConfig } from '../src/core/config.ts';
import { DEFAULT_RUN } from '../src/sources/loopFacts.ts';
import { loadLightningRun } from '../src/simulate/lightningRun.ts';
import { simulate } from '../src/simulate/run.ts';
import type { RunInput } from '../src/simulate/runs.ts';
import { simulateRuns, summarizePolicy } from '../src/simulate/sweep.ts';
import { runs as scaled } from './arbitraries.ts';

const root = fileURLToPath(new URL('../test/fixtures/lightning-runs/runs/', import.meta.url));
const pool: RunInput[] = readdirSync(root)
  .sort()
  .flatMap((name) => {
    const run = loadLightningRun(join(root, name));
    return [
      ...(run.csvLogs.length ? [{ name: `${name} csv`, logs: run.csvLogs }] : []),
      { name: `${name} tb`, logs: run.tbLogs },
    ];
  });

const policyArb = fc
  .record({
    monitor: fc.constantFrom(null, 'val_loss', 'val_acc', 'train_loss'),
    save_top_k: fc.integer({ min: -1, max: 3 }),
    save_last: fc.constantFrom(null, true, 'link' as const),
    every_n_epochs: fc.constantFrom(null, 1, 2, 3),
  })
  .map((o) => (o.monitor === null && o.save_top_k > 1 ? { ...o, save_top_k: -1 } : o))
  .map((o) => ({ name: JSON.stringify(o), config: parseConfig({ ...o, mode: o.monitor === 'val_acc' ? 'max' : 'min' }) }));

test('N runs simulated in parallel equal each run simulated alone', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 10 }),
      fc.array(policyArb, { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 2, max: 3 }),
      async (runs, policies, jobs) => {
        const settings = { policies, run: DEFAULT_RUN, cwd: '/sweep', roles: {}, metric: null, ckptSize: 7, skipBad: false };
        const parallel = await simulateRuns(runs, settings, { jobs });
        assert.equal(parallel.runs.length, runs.length);
        // the same rows and totals as in one thread
        assert.deepEqual(parallel, await simulateRuns(runs, settings, { jobs: 1 }));
        for (const [i, run] of runs.entries()) {
          const alone = await simulate({ policies, logs: run.logs, run: DEFAULT_RUN, cwd: '/sweep', ckptSize: 7 });
          const row = parallel.runs[i]!;
          assert.equal(row.kind, 'simulated');
          assert.equal(row.run, run.name);
          assert.deepEqual(row.kind === 'simulated' ? row.policies : null, alone.policies.map(summarizePolicy));
        }
      },
    ),
    { seed: Number(process.env.FC_SEED ?? 0x5eeb14), numRuns: scaled(12) },
  );
});
