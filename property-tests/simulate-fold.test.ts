/**
 * Simulation properties, over random training loops:
 * - the CSV Lightning would log for a loop, simulated with the loop's facts, gives exactly the
 *   decisions the loop's own events give when folded through the reducer (validation monitors,
 *   which the log always holds); with no facts at all (Lightning's default validation schedule),
 *   the same files, unless the output says what it could not determine;
 * - simulating a log equals folding its (reconstructed or recorded) events through the reducer;
 * - `compare` with one policy among others gives that policy exactly what `simulate` gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { parseConfig, triggers, type PolicyConfig } from '../src/core/config.ts';
import type { Effect } from '../src/core/effects.ts';
import type { LoopEvent, Metrics } from '../src/core/events.ts';
import { init, reduce } from '../src/core/reduce.ts';
import { lightningStateDict } from '../src/core/state.ts';
import { encodeLoopEvent } from '../src/sources/jsonl.ts';
import { fitFacts, runFactsFrom, type RunFacts } from '../src/sources/loopFacts.ts';
import { openLog } from '../src/sources/open.ts';
import { readCsvLog } from '../src/sources/csv.ts';
import { LoopReconstructor } from '../src/sources/reconstruct.ts';
import { metricRoles } from '../src/sources/roles.ts';
import { simulate } from '../src/simulate/run.ts';
import { templateKeys } from '../src/core/format/template.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-simprop-'));
const CWD = '/sim';
let fileNo = 0;

interface Plan {
  epochs: number;
  batches: number;
  logEvery: number;
  /** null: once per epoch (val_check_interval=1.0); else every n batches */
  valEvery: number | null;
  cve: number;
  seed: number;
}

const planArb: fc.Arbitrary<Plan> = fc
  .record({
    epochs: fc.integer({ min: 1, max: 6 }),
    batches: fc.integer({ min: 1, max: 9 }),
    logEvery: fc.integer({ min: 1, max: 4 }),
    valEveryRaw: fc.option(fc.integer({ min: 1, max: 9 }), { nil: null }),
    cve: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer({ min: 0, max: 1e6 }),
  })
  .map(({ valEveryRaw, ...p }) => ({ ...p, valEvery: valEveryRaw === null ? null : Math.min(valEveryRaw, p.batches) }));

/** A value on a coarse grid (ties happen), float32 like Lightning's. */
function value(seed: number, name: string, g: number): number {
  const x = Math.sin(seed * 0.37 + g * 12.9898 + name.length * 78.233) * 43758.5453;
  return Math.fround(Math.round((x - Math.floor(x)) * 20) / 20 + 0.05);
}

/** A loop's events as Lightning's hooks would see them, and the metrics.csv its CSVLogger would write. */
function lightningLoop(p: Plan): { events: LoopEvent[]; csv: string } {
  const rows: string[] = ['epoch,step,train_loss,val_acc,val_loss'];
  const events: LoopEvent[] = [];
  const metrics: Record<string, number> = {};
  const trainer = { checkValEveryNEpoch: p.cve, valCheckInterval: p.valEvery ?? 1.0, enableValidation: true };
  const view = (epoch: number, g: number, isLast: boolean, valHasRun: boolean) => ({ epoch, globalStep: g, isLastBatch: isLast, valLoopHasRun: valHasRun, numValBatches: [1], metrics: { ...metrics } as Metrics });
  events.push({ type: 'setup', stage: 'fit', trainer, files: [], view: { epoch: 0, globalStep: 0 } });
  events.push({ type: 'trainStarted', view: view(0, 0, false, false) });
  let g = 0;
  let valHasRun = false;
  for (let e = 0; e < p.epochs; e++) {
    for (let b = 1; b <= p.batches; b++) {
      g++;
      metrics.train_loss = value(p.seed, 'train_loss', g);
      if (g % p.logEvery === 0) rows.push(`${e},${g - 1},${metrics.train_loss},,`);
      const isLast = b === p.batches;
      events.push({ type: 'trainBatchEnded', batchIdx: b - 1, view: view(e, g, isLast, valHasRun) });
      const valEpoch = (e + 1) % p.cve === 0;
      if (valEpoch && (p.valEvery === null ? isLast : b % p.valEvery === 0)) {
        metrics.val_acc = value(p.seed, 'val_acc', g);
        metrics.val_loss = value(p.seed, 'val_loss', g);
        rows.push(`${e},${g - 1},,${metrics.val_acc},${metrics.val_loss}`);
        valHasRun = true;
        events.push({ type: 'validationEnded', view: view(e, g, isLast, true) });
      }
    }
    events.push({ type: 'trainEpochEnded', view: view(e, g, true, valHasRun) });
  }
  events.push({ type: 'trainEnded', view: view(p.epochs, g, false, valHasRun) });
  return { events, csv: rows.join('\r\n') + '\r\n' };
}

const policyArb: fc.Arbitrary<PolicyConfig> = fc
  .record({
    monitor: fc.constantFrom('val_loss', 'val_acc', null),
    mode: fc.constantFrom('min', 'max'),
    save_top_k: fc.constantFrom(-1, 0, 1, 2, 3),
    save_last: fc.constantFrom(true, false, 'link'),
    trigger: fc.oneof(fc.constant({}), fc.record({ every_n_epochs: fc.integer({ min: 1, max: 3 }) }), fc.record({ every_n_train_steps: fc.integer({ min: 1, max: 7 }) })),
    filename: fc.constantFrom(null, '{epoch}', '{epoch}-{step}-{val_loss:.2f}'),
  })
  .map(({ trigger, ...o }) => {
    const opts = { dirpath: 'ckpts', ...o, ...trigger, save_top_k: o.monitor === null && o.save_top_k > 1 ? 1 : o.save_top_k };
    return parseConfig(opts);
  });

function facts(p: Plan): RunFacts {
  const r = runFactsFrom(
    { max_epochs: p.epochs, num_training_batches: p.batches, log_every_n_steps: p.logEvery, check_val_every_n_epoch: p.cve, val_check_interval: p.valEvery ?? 1.0, num_val_batches: 1 },
    null,
  );
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  // the YAML-free path cannot tell 1.0 from 1: say it explicitly
  return { ...r.right, fits: r.right.fits.map((f) => ({ ...f, valCheckInterval: p.valEvery === null ? { kind: 'fraction', value: 1 } : { kind: 'batches', value: p.valEvery } })) };
}

/** save/link/remove effects of folding events through the reducer */
function fold(config: PolicyConfig, events: readonly LoopEvent[]): { effects: Effect[]; state: ReturnType<typeof lightningStateDict> } {
  let [state, effects] = init(config, { cwd: CWD });
  const all: Effect[] = [...effects];
  for (const e of events) {
    [state, effects] = reduce(state, e);
    all.push(...effects);
  }
  return { effects: all, state: lightningStateDict(state) };
}

const decisionsOf = (effects: readonly unknown[]) =>
  (effects as Effect[]).filter((e) => e.type === 'save' || e.type === 'remove' || e.type === 'link' || e.type === 'error').map((e) => JSON.stringify(e));

function writeLog(text: string, ext: string): string {
  const p = join(tmp, `log-${fileNo++}.${ext}`);
  writeFileSync(p, text);
  return p;
}

test("the CSV of a loop, simulated with the loop's facts, decides exactly as the loop's own events", async () => {
  await fc.assert(
    fc.asyncProperty(planArb, policyArb, async (plan, config) => {
      const { events, csv } = lightningLoop(plan);
      const truth = fold(config, events);
      const r = await simulate({ policies: [{ name: 'p', config }], logs: openLog(writeLog(csv, 'csv')), run: facts(plan), cwd: CWD, keepEffects: true });
      const p = r.policies[0]!;
      // step triggers with a validation monitor read its last logged value: always in the log
      assert.deepEqual(p.undetermined, []);
      assert.deepEqual(decisionsOf(p.effects!), decisionsOf(truth.effects));
    }),
    { numRuns: 150 },
  );
});

test("with Lightning's default validation schedule and no loop facts at all: the same files, or it says what it could not determine", async () => {
  const files = (es: readonly unknown[]) => (es as Effect[]).filter((e) => e.type === 'save' || e.type === 'remove' || e.type === 'link' || e.type === 'error').map((e) => `${e.type} ${'path' in e ? e.path : ''}`);
  await fc.assert(
    fc.asyncProperty(
      planArb.map((p) => ({ ...p, valEvery: null, cve: 1 })),
      policyArb,
      async (plan, config) => {
        const { events, csv } = lightningLoop(plan);
        const truth = fold(config, events);
        const r = await simulate({ policies: [{ name: 'p', config }], logs: openLog(writeLog(csv, 'csv')), cwd: CWD, keepEffects: true });
        const p = r.policies[0]!;
        if (p.undetermined.length === 0) assert.deepEqual(files(p.effects!), files(truth.effects));
      },
    ),
    { numRuns: 150 },
  );
});

test('simulating a CSV log equals folding the events reconstructed from it through the reducer', async () => {
  await fc.assert(
    fc.asyncProperty(planArb, policyArb, async (plan, config) => {
      const { csv } = lightningLoop(plan);
      const path = writeLog(csv, 'csv');
      const run = facts(plan);
      // the events, reconstructed on their own
      const rec = new LoopReconstructor({
        facts: fitFacts(run, 0),
        given: run.given,
        role: metricRoles(),
        stepTriggers: [triggers(config).everyNTrainSteps].filter((n) => n > 0),
        watch: [...(config.monitor ? [config.monitor] : []), ...templateKeys(config.filename)],
      });
      const events: LoopEvent[] = [];
      let trainer = {};
      const take = (items: ReturnType<LoopReconstructor['push']>) => {
        for (const it of items) {
          if (it.kind === 'begin') {
            trainer = it.trainer;
            events.push({ type: 'setup', stage: 'fit', trainer: { ...trainer, loggers: [{ saveDir: '/', name: '', version: 'tmp' }], defaultRootDir: CWD, ckptPath: null }, files: [], view: { epoch: 0, globalStep: 0 } });
          } else if (it.kind === 'event') events.push(it.event);
        }
      };
      for await (const b of readCsvLog(path)) take(rec.push(b));
      take(rec.end());
      const folded = fold(config, events);
      const r = await simulate({ policies: [{ name: 'p', config }], logs: openLog(path), run, cwd: CWD, keepEffects: true, loggerDir: '/tmp' });
      const p = r.policies[0]!;
      assert.deepEqual(p.effects, folded.effects);
    }),
    { numRuns: 100 },
  );
});

test('simulating a JSONL event log equals folding its events through the reducer', async () => {
  await fc.assert(
    fc.asyncProperty(planArb, policyArb, async (plan, config) => {
      const { events } = lightningLoop(plan);
      const path = writeLog(events.map(encodeLoopEvent).join('\n') + '\n', 'jsonl');
      const truth = fold(config, events);
      const r = await simulate({ policies: [{ name: 'p', config }], logs: openLog(path), cwd: CWD, keepEffects: true });
      assert.deepEqual(r.policies[0]!.effects, truth.effects);
    }),
    { numRuns: 100 },
  );
});

test('compare: a policy simulated beside others gets exactly what it gets alone', async () => {
  await fc.assert(
    fc.asyncProperty(planArb, fc.array(policyArb, { minLength: 2, maxLength: 4 }), fc.nat(), async (plan, configs, pick) => {
      const { csv } = lightningLoop(plan);
      const path = writeLog(csv, 'csv');
      const i = pick % configs.length;
      const policies = configs.map((config, k) => ({ name: `p${k}`, config }));
      const together = await simulate({ policies, logs: openLog(path), run: facts(plan), cwd: CWD, ckptSize: 1000 });
      const alone = await simulate({ policies: [policies[i]!], logs: openLog(path), run: facts(plan), cwd: CWD, ckptSize: 1000 });
      assert.deepEqual(together.policies[i], alone.policies[0]);
    }),
    { numRuns: 60 },
  );
});
