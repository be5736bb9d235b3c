/**
 * Properties of the Keras log readers and the simulation.
 * - Simulating a log equals folding its events through the reducer: for random logs (one to three
 *   `fit` calls, values including NaN, ±Infinity, float32 ties, missing keys) and random
 *   ModelCheckpoint calls, simulateKerasLog's per-epoch writes and files at the end are what a
 *   plain fold of on_train_begin / on_epoch_begin / on_epoch_end / on_train_end gives.
 * - A CSVLogger file written here from random epochs, as Python's csv module writes it (CRLF, or
 *   \r\r\n from a Windows text-mode file; floats as repr or as 17 digits; NA for a missing key;
 *   the epoch counter restarting for append=True), reads back to the same epochs, values and fits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseOptions, type Construction } from '../src/dialects/keras/options.ts';
import { init, reduce } from '../src/dialects/keras/reduce.ts';
import type { KerasEvent } from '../src/dialects/keras/events.ts';
import type { KerasState } from '../src/dialects/keras/state.ts';
import { simulateKerasLog } from '../src/dialects/keras/simulate.ts';
import { readCsvLoggerFile } from '../src/dialects/keras/csvLogger.ts';
import type { KerasLog, KerasLogEpoch } from '../src/dialects/keras/log.ts';
import { pyFloatRepr } from '../src/core/format/pyformat.ts';
import { runs } from './arbitraries.ts';

const METRICS = ['loss', 'val_accuracy', 'val_loss'] as const;
const special = fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 0.5, Math.fround(0.1), 0.1);
const value = fc.oneof(fc.float({ noNaN: false }).map(Math.fround), fc.double(), special, fc.constantFrom(0.25, 0.5, 0.75));

/** Epoch logs of one fit: each metric present or missing (CSVLogger's NA). */
const epochLogs = fc.record({ loss: fc.option(value, { nil: undefined }), val_accuracy: fc.option(value, { nil: undefined }), val_loss: fc.option(value, { nil: undefined }) }).map(
  (r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Record<string, number>,
);
/** One fit: its first epoch index (initial_epoch) and its epochs' logs. */
const fitArb = fc.record({ start: fc.nat(3), epochs: fc.array(epochLogs, { minLength: 1, maxLength: 8 }) });

function logOf(fits: readonly { start: number; epochs: readonly Record<string, number>[] }[]): KerasLog {
  const epochs: KerasLogEpoch[] = [];
  fits.forEach((f, fit) => f.epochs.forEach((logs, i) => epochs.push({ fit, epoch: f.start + i, logs, at: { file: 'random.csv', line: epochs.length + 2 } })));
  return { file: 'random.csv', format: 'CSVLogger', metrics: [...METRICS], epochs };
}

const callArb = fc.record({
  filepath: fc.constantFrom('best.keras', 'e{epoch:02d}.keras', 'm-{loss:.1f}.h5'),
  monitor: fc.constantFrom('val_loss', 'val_accuracy', 'loss'),
  mode: fc.constantFrom('auto', 'min', 'max', undefined),
  save_best_only: fc.boolean(),
  initial_value_threshold: fc.option(fc.constantFrom(0.5, NaN, 1), { nil: undefined }),
}).map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)));

/** The fold: one callback instance, each Save answered as written; per epoch the path written or null. */
function fold(call: Record<string, unknown>, log: KerasLog): { perEpoch: (string | null)[]; files: Map<string, string>; raised: boolean } {
  let [state] = init(parseOptions(call) as Extract<Construction, { _tag: 'Constructed' }>) as [KerasState, unknown];
  // the compiled metric objects a model with metrics=['accuracy'] has: mode='auto' reads them
  const metrics = [{ name: 'accuracy', direction: 'up' as const }];
  const perEpoch: (string | null)[] = [];
  const files = new Map<string, string>();
  const step = (first: KerasEvent): string | null | 'raised' => {
    let wrote: string | null = null;
    const queue = [first];
    for (let ev = queue.shift(); ev; ev = queue.shift()) {
      const [next, effects] = reduce(state, ev);
      state = next;
      for (const e of effects) {
        if (e._tag === 'Raise') return 'raised';
        if (e._tag === 'Save') (wrote = e.filepath), queue.push({ _tag: 'SaveCompleted' });
      }
    }
    return wrote;
  };
  let fit = -1;
  for (const e of log.epochs) {
    if (e.fit !== fit) {
      if (fit >= 0) step({ _tag: 'TrainEnded', logs: {} });
      step({ _tag: 'TrainBegan' });
      fit = e.fit;
    }
    step({ _tag: 'EpochBegan', epoch: e.epoch });
    const w = step({ _tag: 'EpochEnded', epoch: e.epoch, logs: e.logs, metrics });
    if (w === 'raised') return { perEpoch, files, raised: true };
    perEpoch.push(w);
    if (w !== null) files.set(w, `${e.fit}:${e.epoch}`);
  }
  return { perEpoch, files, raised: false };
}

test('keras logs: simulating a log equals folding its events through the reducer (seed 0x4e7b01)', () => {
  fc.assert(
    fc.property(callArb, fc.array(fitArb, { minLength: 1, maxLength: 3 }), (call, fits) => {
      const log = logOf(fits);
      const sim = simulateKerasLog(call, log);
      const folded = fold(call, log);
      assert.equal(sim._tag, 'Simulated');
      if (sim._tag !== 'Simulated') return;
      assert.equal(sim.stopped !== null, folded.raised);
      assert.deepEqual(sim.epochs.map((e) => (e.action._tag === 'NotSaved' ? null : e.action.filepath)), folded.perEpoch);
      assert.deepEqual(new Map(sim.files.map((f) => [f.filepath, `${f.fit}:${f.epoch}`])), folded.files);
      // a write is an overwrite exactly when its path was written before
      const seen = new Set<string>();
      for (const e of sim.epochs) {
        if (e.action._tag === 'NotSaved') continue;
        assert.equal(e.action._tag === 'Overwrote', seen.has(e.action.filepath));
        seen.add(e.action.filepath);
      }
    }),
    { seed: Number(process.env.FC_SEED ?? 0x4e7b01), numRuns: runs(500) },
  );
});

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-keras-csv-prop-'));

/** A float as Python's csv module writes it (str() is repr), or as 17 significant digits (some writers). */
function cell(v: number, style: 'repr' | 'digits'): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return style === 'repr' ? pyFloatRepr(v) : Object.is(v, -0) ? '-0.0' : v.toPrecision(17); // JS drops the sign of -0 there
}

test('keras logs: a CSVLogger file written from random epochs reads back to the same epochs (seed 0x4e7b02)', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fitArb, { minLength: 1, maxLength: 3 }),
      fc.constantFrom('\r\n', '\r\r\n'),
      fc.constantFrom('repr' as const, 'digits' as const),
      async (fits, eol, style) => {
        // append=True: each later fit restarts at 0 (a counter that grows across fits would be one fit)
        const restarted = fits.map((f, i) => (i === 0 ? f : { ...f, start: 0 }));
        const log = logOf(restarted);
        const lines = [['epoch', ...METRICS].join(',')];
        for (const e of log.epochs) lines.push([String(e.epoch), ...METRICS.map((m) => (m in e.logs ? cell(e.logs[m] as number, style) : 'NA'))].join(','));
        const file = join(tmp, `run-${n++}.csv`);
        writeFileSync(file, lines.join(eol) + eol);
        const back = await readCsvLoggerFile(file);
        assert.deepEqual(back.metrics, [...METRICS]);
        assert.equal(back.epochs.length, log.epochs.length);
        back.epochs.forEach((e, i) => {
          const want = log.epochs[i]!;
          assert.deepEqual([e.fit, e.epoch, e.at.line], [want.fit, want.epoch, i + 2]);
          assert.deepEqual(Object.keys(e.logs).sort(), Object.keys(want.logs).sort());
          for (const [k, v] of Object.entries(want.logs)) assert.ok(Object.is(e.logs[k], v), `${k}: ${String(e.logs[k])} vs ${v}`);
        });
      },
    ),
    { seed: Number(process.env.FC_SEED ?? 0x4e7b02), numRuns: runs(200) },
  );
});
