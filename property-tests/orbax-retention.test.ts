/**
 * The Orbax manager's incremental retention (src/dialects/orbax/retentionIndex.ts) against the full
 * evaluation of every policy over the whole list: the same policy wrapped in a second
 * AnyPreservationPolicy (a nested union the index does not take) must answer every call alike —
 * results, errors, ops, kept steps, removals, logs — over saves with NaN, None and missing metrics,
 * forced and out-of-order steps, deletes, reloads, async writes, and states used twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { start, reduce, type Call, type CallOutput, type ManagerState } from '../src/dialects/orbax/manager.ts';

const runs = (n: number) => Math.max(1, Math.round(n * Number(process.env.FC_RUNS_SCALE ?? 1)));
const SEED = Number(process.env.FC_SEED ?? 0x0b0a77);

const childArb = fc.oneof(
  fc.record({ type: fc.constant('LatestN'), n: fc.option(fc.integer({ min: -1, max: 4 })) }),
  fc.record({ type: fc.constant('BestN'), metric: fc.constant('loss'), reverse: fc.boolean(), n: fc.option(fc.integer({ min: -1, max: 4 })), keep_checkpoints_without_metrics: fc.boolean() }),
  fc.record({ type: fc.constant('EveryNSteps'), interval_steps: fc.integer({ min: 1, max: 6 }), max_to_keep: fc.option(fc.integer({ min: 0, max: 2 })) }),
  fc.record({ type: fc.constant('CustomSteps'), steps: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 4 }) }),
  fc.constant({ type: 'PreserveAll' }),
  fc.record({ type: fc.constant('EveryNSeconds'), interval_secs: fc.integer({ min: 1, max: 5 }) }),
);
const policyArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(childArb, { minLength: 1, maxLength: 4 }).map((policies) => ({ type: 'AnyPreservationPolicy', policies })) },
  { weight: 1, arbitrary: childArb },
);

const lossArb = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 5 }).map((x) => x / 4) }, { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) });
const metricsArb = fc.oneof(
  { weight: 12, arbitrary: lossArb.map((loss) => ({ loss })) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant({ other: 1 }) },
);
const callArb = fc.oneof(
  { weight: 10, arbitrary: fc.record({ call: fc.constant('save'), gap: fc.integer({ min: -2, max: 3 }), metrics: metricsArb, force: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ call: fc.constant('delete'), back: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.constant({ call: 'reload' }) },
  { weight: 1, arbitrary: fc.constant({ call: 'wait_until_finished' }) },
  { weight: 1, arbitrary: fc.constant({ call: 'best_step' }) },
);

type Script = Array<{ call: string; gap?: number; metrics?: Record<string, number> | undefined; force?: boolean; back?: number }>;

/** The calls, with absolute steps and times (deletes name a step saved a little earlier). */
function calls(script: Script): Call[] {
  let step = 0;
  let t = 10;
  const saved: number[] = [];
  return script.map((x): Call => {
    t += 1;
    switch (x.call) {
      case 'save': {
        step += x.gap!;
        saved.push(step);
        const metrics = x.metrics === undefined ? {} : { metrics: x.metrics };
        return { call: 'save', step, t, ...metrics, ...(x.force ? { force: true } : {}) };
      }
      case 'delete':
        return { call: 'delete', step: saved[Math.max(0, saved.length - 1 - x.back!)] ?? 0, t };
      default:
        return { call: x.call as 'reload', t };
    }
  });
}

/** What a call answered, as JSON: everything but by_policy, whose shape the wrapping changes. */
function seen(out: CallOutput): unknown {
  const { preservation, ...rest } = out;
  const p = preservation === undefined ? undefined : { checkpoints: preservation.checkpoints, remove: preservation.remove };
  return JSON.parse(JSON.stringify({ ...rest, preservation: p }));
}

function drive(s: ManagerState, cs: readonly Call[]): { s: ManagerState; outs: unknown[] } {
  const outs: unknown[] = [];
  for (const c of cs) {
    const [n, out] = reduce(s, c);
    s = n;
    outs.push(seen(out));
  }
  return { s, outs };
}

test(`orbax: incremental retention answers every call as the full evaluation does (seed ${SEED})`, () => {
  fc.assert(
    fc.property(policyArb, fc.array(callArb, { minLength: 1, maxLength: 40 }), fc.boolean(), fc.nat(), (policy, script, async, forkAt) => {
      const clock = async ? { async_blocking_seconds: 0.25, async_write_seconds: 1.5 } : { save_seconds: 0.5 };
      const base = { best_fn: { metric: 'loss' }, enable_async_checkpointing: async };
      const [fast0] = start({ options: { ...base, preservation_policy: policy }, clock, t: 10, entries: [] });
      const [full0] = start({ options: { ...base, preservation_policy: { type: 'AnyPreservationPolicy', policies: [policy] } }, clock, t: 10, entries: [] });
      const cs = calls(script as Script);
      const fast = drive(fast0!, cs);
      const full = drive(full0!, cs);
      assert.deepEqual(fast.outs, full.outs);
      assert.deepEqual(fast.s.checkpoints, full.s.checkpoints);
      assert.deepEqual(fast.s.entries, full.s.entries);
      // a state used a second time (its successor took its index over) answers the same again
      const cut = forkAt % (cs.length + 1);
      const head = drive(fast0!, cs.slice(0, cut));
      drive(head.s, cs.slice(cut));
      assert.deepEqual(drive(head.s, cs.slice(cut)).outs, full.outs.slice(cut));
    }),
    { seed: SEED, numRuns: runs(400) },
  );
});

test('orbax: a long stream (2·10^4 steps) keeps LatestN ∪ BestN ∪ EveryNSteps(100) exactly (every 100th step, the 3 latest, the 3 best)', () => {
  const options = {
    enable_async_checkpointing: false,
    best_fn: { metric: 'loss' },
    preservation_policy: { type: 'AnyPreservationPolicy', policies: [{ type: 'LatestN', n: 3 }, { type: 'BestN', metric: 'loss', reverse: true, n: 3 }, { type: 'EveryNSteps', interval_steps: 100 }] },
  };
  const N = 20_000;
  const loss = (i: number) => Math.fround(0.5 + 0.4 * Math.sin(i * 12.9898) * Math.cos(i * 78.233));
  let [s] = start({ options, clock: { save_seconds: 0 }, t: 0, entries: [] }) as [ManagerState, unknown];
  for (let i = 0; i < N; i++) s = reduce(s, { call: 'save', step: i, t: i, metrics: { loss: loss(i) } })[0];
  const best = Array.from({ length: N }, (_, i) => i).sort((a, b) => loss(a) - loss(b) || b - a).slice(0, 3);
  const want = [...new Set([...Array.from({ length: N / 100 }, (_, j) => j * 100), N - 3, N - 2, N - 1, ...best])].sort((a, b) => a - b);
  assert.deepEqual(s.checkpoints.map((c) => c.step), want);
  assert.deepEqual(s.entries.filter((e) => /^ckpt\/\d+$/.test(e.path)).map((e) => Number(e.path.slice(5))).sort((a, b) => a - b), want);
});
