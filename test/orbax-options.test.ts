/** Orbax options: both spellings, Orbax's construction errors in its own words, defaults and the policies built from legacy fields. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { constructOptions, decodeOrbaxOptions } from '../src/dialects/orbax/options.ts';
import { shouldPreserve } from '../src/dialects/orbax/preservation.ts';
import { start, reduce, type ManagerState } from '../src/dialects/orbax/manager.ts';

const build = (o: unknown) => {
  const d = decodeOrbaxOptions(o);
  if (E.isLeft(d)) return E.left({ stage: 'decode', type: 'OptionsError', message: d.left.map((i) => i.message).join('; ') });
  return constructOptions(d.right);
};

test('snake_case and camelCase name the same option; the resolved policies follow Orbax defaults', () => {
  const a = build({ max_to_keep: 3, save_interval_steps: 5, best_fn: { metric: 'loss' }, best_mode: 'min' });
  const b = build({ maxToKeep: 3, saveIntervalSteps: 5, bestFn: { metric: 'loss' }, bestMode: 'min' });
  assert.deepEqual(a, b);
  assert.ok(E.isRight(a));
  assert.deepEqual(a.right.resolved.preservation, {
    type: 'AnyPreservationPolicy',
    policies: [{ type: 'BestN', metric: 'loss', reverse: true, n: 3, keep_checkpoints_without_metrics: true }],
  });
  assert.equal(a.right.resolved.async, true);
  assert.deepEqual((a.right.resolved.saveDecision as unknown as { policies: Array<{ type: string }> }).policies.map((p) => p.type), [
    'FixedIntervalPolicy',
    'SpecificStepsPolicy',
    'PreemptionCheckpointingPolicy',
    'InitialSavePolicy',
  ]);
});

test("Orbax's construction errors, with its texts and stages", () => {
  assert.deepEqual(build({ best_mode: 'maximize' }), E.left({ stage: 'options', type: 'ValueError', message: "`CheckpointManagerOptions.best_mode` must be one of None, 'min' or 'max'. Got maximize." }));
  assert.deepEqual(build({ max_to_keep: -1 }), E.left({ stage: 'options', type: 'ValueError', message: 'Setting of `max_to_keep` must be None or non-negative.' }));
  assert.deepEqual(build({ preservation_policy: { type: 'LatestN', n: 2 }, keep_period: 5 }), E.left({ stage: 'manager', type: 'ValueError', message: '`preservation_policy` and `delete options` are mutually exclusive - do not use together.' }));
  // Orbax tests truthiness: a zero max_to_keep beside a policy is silently ignored
  assert.ok(E.isRight(build({ preservation_policy: { type: 'LatestN', n: 2 }, max_to_keep: 0 })));
});

test('keep_time_interval truncates to whole seconds; read_only rewrites with warnings', () => {
  const r = build({ keep_time_interval: 2.5, read_only: true, keep_period: 4 });
  assert.ok(E.isLeft(build({ nope: 1 })));
  assert.ok(E.isRight(r));
  assert.deepEqual(r.right.warnings, ['CheckpointManagerOptions.read_only=True, setting save_interval_steps=0.', 'CheckpointManagerOptions.read_only=True, setting keep_time_interval=None.', 'CheckpointManagerOptions.read_only=True, setting keep_period=None.', 'CheckpointManagerOptions.read_only=True, setting create=False.']);
  const t = build({ keep_time_interval: 2.5 });
  assert.ok(E.isRight(t));
  assert.deepEqual((t.right.resolved.preservation as unknown as { policies: unknown[] }).policies[0], { type: 'EveryNSeconds', interval_secs: 2 });
});

test('bad input names the field, the value and what is allowed; unmodelled options say not supported', () => {
  const d = decodeOrbaxOptions({ max_to_keep: 'three', step_name_format: {} , max_to_kep: 1 });
  assert.ok(E.isLeft(d));
  const text = d.left.map((i) => i.message).join('\n');
  assert.match(text, /max_to_keep: "three" is not valid/);
  assert.match(text, /step_name_format is not supported/);
  assert.match(text, /unknown CheckpointManagerOptions field "max_to_kep"/);
});

const cp = (step: number, loss: number) => ({ step, time: 1000 + step, metrics: { loss } });
test('AnyPreservationPolicy keeps the union of what its children keep', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { maxLength: 30 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 20 }), (steps, n, every) => {
      const cps = steps.sort((a, b) => a - b).map((s, i) => cp(s, (i * 7) % 5));
      const children = [
        { type: 'LatestN' as const, n },
        { type: 'BestN' as const, metric: 'loss', reverse: false, n, keep_checkpoints_without_metrics: true },
        { type: 'EveryNSteps' as const, interval_steps: every, exact_interval: true, max_to_keep: null },
      ];
      const each = children.map((c) => shouldPreserve(c, cps, { now: 0 }));
      const union = shouldPreserve({ type: 'AnyPreservationPolicy', policies: children }, cps, { now: 0 });
      assert.deepEqual(union, cps.map((_, i) => each.some((f) => f[i])));
    }),
  );
});

test('restarting from the directory listing decides like an uninterrupted synchronous run (LatestN, step-only rules)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), (interval, keep, total, split) => {
      const options = { save_interval_steps: interval, max_to_keep: keep, enable_async_checkpointing: false };
      const clock = { save_seconds: 0.5 };
      const run = (s: ManagerState, from: number, to: number) => {
        const got: Array<[boolean | number | null, number[]]> = [];
        for (let step = from; step < to; step++) {
          const [n, out] = reduce(s, { call: 'save', step, t: 2000 + step });
          s = n;
          got.push([out.result, out.kept]);
        }
        return { s, got };
      };
      const [s0] = start({ options, clock, t: 2000, entries: [] });
      const whole = run(s0!, 0, total);
      const cut = Math.min(split, total);
      const first = run(s0!, 0, cut);
      const [s1] = start({ options, clock, t: 3000, entries: first.s.entries });
      const rest = run(s1!, cut, total);
      // decisions agree; kept lists agree because after a restart the list is the sorted listing
      assert.deepEqual([...first.got, ...rest.got], whole.got);
    }),
  );
});
