/**
 * Orbax's resume: split a step stream anywhere, restart a new manager from the directory listing, and
 * the decisions equal an uninterrupted run. Holds with synchronous writes for step rules, BestN with
 * best_fn (metrics reach the disk) and time rules given the times (commit time = in-memory time when
 * the write is synchronous). Does not hold, as Orbax's traces show: BestN without best_fn (metrics lost
 * at restart), async writes (times become commit times; removals pending at a crash come back).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { start, reduce, type ManagerState } from '../src/dialects/orbax/manager.ts';

const runs = (n: number) => Math.max(1, Math.round(n * Number(process.env.FC_RUNS_SCALE ?? 1)));
const SEED = Number(process.env.FC_SEED ?? 0x0b0a01);

const policyArb = fc.oneof(
  fc.record({ n: fc.integer({ min: 0, max: 4 }), mode: fc.constantFrom('min', 'max') }).map(({ n, mode }) => ({ best_fn: { metric: 'loss' }, best_mode: mode, max_to_keep: n })),
  fc.record({ latest: fc.integer({ min: 1, max: 3 }), best: fc.integer({ min: 1, max: 3 }), every: fc.integer({ min: 1, max: 7 }) }).map(({ latest, best, every }) => ({
    best_fn: { metric: 'loss' },
    preservation_policy: { type: 'AnyPreservationPolicy', policies: [{ type: 'LatestN', n: latest }, { type: 'BestN', metric: 'loss', reverse: true, n: best }, { type: 'EveryNSteps', interval_steps: every }] },
  })),
  fc.record({ secs: fc.integer({ min: 1, max: 20 }), keep: fc.integer({ min: 1, max: 3 }) }).map(({ secs, keep }) => ({ keep_time_interval: secs, max_to_keep: keep })),
  fc.integer({ min: 1, max: 30 }).map((s) => ({ preservation_policy: { type: 'AnyPreservationPolicy', policies: [{ type: 'LatestN', n: 1 }, { type: 'EveryNSeconds', interval_secs: s }] } })),
);
const streamArb = fc.array(fc.record({ gap: fc.integer({ min: 1, max: 3 }), dt: fc.integer({ min: 0, max: 9 }), loss: fc.integer({ min: 0, max: 6 }) }), { minLength: 1, maxLength: 30 });

test(`orbax: restarting from the listing decides like an uninterrupted sync run, BestN and time rules included (seed ${SEED})`, () => {
  fc.assert(
    fc.property(policyArb, streamArb, fc.nat(), fc.integer({ min: 1, max: 3 }), (policy, stream, splitAt, interval) => {
      const options = { ...policy, save_interval_steps: interval, enable_async_checkpointing: false };
      const clock = { save_seconds: 0.5 };
      let step = 0;
      let t = 100;
      const calls = stream.map((x) => ((step += x.gap), (t += x.dt), { call: 'save' as const, step, t, metrics: { loss: x.loss / 4 } }));
      const run = (s: ManagerState, cs: typeof calls) => {
        const got: Array<[boolean | number | null, number[]]> = [];
        for (const c of cs) {
          const [n, out] = reduce(s, c);
          s = n;
          got.push([out.result, out.kept]);
        }
        return { s, got };
      };
      const [s0] = start({ options, clock, t: 100, entries: [] });
      const whole = run(s0!, calls);
      const cut = splitAt % (calls.length + 1);
      const first = run(s0!, calls.slice(0, cut));
      const [s1, init] = start({ options, clock, t: calls[cut]?.t ?? t, entries: first.s.entries });
      assert.equal(init.error, null);
      assert.deepEqual(init.kept, first.s.checkpoints.map((c) => c.step));
      const rest = run(s1!, calls.slice(cut));
      assert.deepEqual([...first.got, ...rest.got], whole.got);
    }),
    { seed: SEED, numRuns: runs(300) },
  );
});

test(`orbax: BestN without best_fn does not survive a restart (metrics stay in memory), as Orbax's traces record (seed ${SEED + 1})`, () => {
  const options = { preservation_policy: { type: 'BestN', metric: 'loss', reverse: true, n: 1 }, enable_async_checkpointing: false };
  const clock = { save_seconds: 0 };
  const [s0] = start({ options, clock, t: 0, entries: [] });
  let s = s0!;
  for (const [step, loss] of [[1, 0.5], [2, 0.1]] as const) s = reduce(s, { call: 'save', step, t: step, metrics: { loss } })[0];
  const [after] = reduce(s, { call: 'save', step: 3, t: 3, metrics: { loss: 0.9 } });
  assert.deepEqual(after.checkpoints.map((c) => c.step), [2]);
  const [r] = start({ options, clock, t: 2.5, entries: s.entries });
  const [resumed] = reduce(r!, { call: 'save', step: 3, t: 3, metrics: { loss: 0.9 } });
  // the resumed manager has no metrics for step 2: kept without metrics, and 3 is the only ranked one
  assert.deepEqual(resumed.checkpoints.map((c) => c.step), [2, 3]);
});
