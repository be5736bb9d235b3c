/** The opt-in fixes of Orbax's checkpoint-losing behaviours: off, the dialect does what Orbax does; on, nothing is lost. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { start, reduce, type Call, type CallOutput, type Clock, type ManagerState } from '../src/dialects/orbax/manager.ts';
import { decodeFixes, type OrbaxFixes } from '../src/dialects/orbax/fixes.ts';

const SYNC: Clock = { save_seconds: 0.5 };
const ASYNC: Clock = { async_blocking_seconds: 0.5, async_write_seconds: 3 };

function drive(options: unknown, calls: Call[], fixes?: OrbaxFixes, clock: Clock = SYNC): { s: ManagerState; outs: CallOutput[] } {
  const [s0, init] = start({ options, clock, t: 0, entries: [], ...(fixes ? { fixes } : {}) });
  assert.equal(init.error, null);
  let s = s0!;
  const outs: CallOutput[] = [];
  for (const c of calls) {
    const [n, out] = reduce(s, c);
    s = n;
    outs.push(out);
  }
  return { s, outs };
}

const stepDirs = (s: ManagerState) => s.entries.filter((e) => /^ckpt\/\d+$/.test(e.path)).map((e) => Number(e.path.slice(5)));

test('a save that deletes the step it just wrote: reproduced by default, kept with keep_just_written', () => {
  const options = { best_fn: { metric: 'loss' }, best_mode: 'min', max_to_keep: 2, enable_async_checkpointing: false };
  const losses = [0.1, 0.2, 0.9, 0.05];
  const calls: Call[] = losses.map((loss, step) => ({ call: 'save', step, t: 10 + step, metrics: { loss } }));

  const orbax = drive(options, calls);
  assert.equal(orbax.outs[2]!.result, true);
  assert.deepEqual(orbax.outs[2]!.preservation?.remove, [2]);
  assert.ok(orbax.outs[2]!.ops.some((o) => o.op === 'remove' && o.path === 'ckpt/2'));
  assert.deepEqual(orbax.outs[2]!.kept, [0, 1]);
  assert.equal(orbax.outs[2]!.fixed, undefined);

  const fixed = drive(options, calls, { keep_just_written: true });
  assert.equal(fixed.outs[2]!.result, true);
  assert.deepEqual(fixed.outs[2]!.kept, [0, 1, 2]);
  assert.deepEqual(fixed.outs[2]!.preservation?.remove, []);
  assert.deepEqual(fixed.outs[2]!.fixed, [{ fix: 'keep_just_written', step: 2 }]);
  assert.ok(!fixed.outs[2]!.ops.some((o) => o.op === 'remove'));
  // the next save's retention removes it like any other checkpoint outside the best 2
  assert.deepEqual(fixed.outs[3]!.kept, [0, 3]);
  assert.deepEqual(stepDirs(fixed.s), [0, 3]);
  assert.equal(fixed.outs[3]!.fixed, undefined);
});

test('max_to_keep=0 deletes every save in Orbax; keep_just_written keeps the newest only', () => {
  const options = { max_to_keep: 0, enable_async_checkpointing: false };
  const calls: Call[] = [0, 1, 2].map((step) => ({ call: 'save', step, t: step }));
  assert.deepEqual(drive(options, calls).outs.map((o) => o.kept), [[], [], []]);
  const fixed = drive(options, calls, { keep_just_written: true });
  assert.deepEqual(fixed.outs.map((o) => o.kept), [[0], [1], [2]]);
  assert.deepEqual(stepDirs(fixed.s), [2]);
});

test('keep_just_written with async writes: the directory of the new step survives its commit', () => {
  const options = { best_fn: { metric: 'loss' }, best_mode: 'min', max_to_keep: 1 };
  const calls: Call[] = [
    { call: 'save', step: 0, t: 0, metrics: { loss: 0.1 } },
    { call: 'save', step: 1, t: 10, metrics: { loss: 0.5 } },
    { call: 'wait_until_finished', t: 20 },
  ];
  assert.deepEqual(stepDirs(drive(options, calls, undefined, ASYNC).s), [0]);
  const fixed = drive(options, calls, { keep_just_written: true }, ASYNC);
  assert.deepEqual(fixed.outs[1]!.kept, [0, 1]);
  assert.deepEqual(stepDirs(fixed.s), [0, 1]);
});

test('a stuck in-progress flag: under ContinuousCheckpointingPolicy Orbax never saves again; clear_in_progress_on_error saves', () => {
  const options = { save_decision_policy: { type: 'ContinuousCheckpointingPolicy' }, enable_async_checkpointing: false };
  const calls: Call[] = [
    { call: 'save', step: 1, t: 1 },
    { call: 'save', step: 1, t: 2, force: true }, // StepAlreadyExistsError after in_progress was set
    { call: 'save', step: 2, t: 3 },
    { call: 'save', step: 3, t: 4 },
  ];
  const orbax = drive(options, calls);
  assert.equal(orbax.outs[1]!.error?.type, 'StepAlreadyExistsError');
  assert.equal(orbax.outs[1]!.in_progress, true);
  assert.deepEqual(orbax.outs.slice(2).map((o) => o.result), [false, false]);
  assert.deepEqual(orbax.s.checkpoints.map((c) => c.step), [1]);

  const fixed = drive(options, calls, { clear_in_progress_on_error: true });
  assert.equal(fixed.outs[1]!.error?.type, 'StepAlreadyExistsError', 'the error is still reported');
  assert.equal(fixed.outs[1]!.in_progress, false);
  assert.deepEqual(fixed.outs[1]!.fixed, [{ fix: 'clear_in_progress_on_error', error: 'StepAlreadyExistsError', when: 'now' }]);
  assert.deepEqual(fixed.outs.slice(2).map((o) => o.result), [true, true]);
  assert.deepEqual(fixed.s.checkpoints.map((c) => c.step), [1, 2, 3]);
});

test('clear_in_progress_on_error: a failed write clears the flag; its temporary stays, never listed as a step', () => {
  const options = { save_decision_policy: { type: 'ContinuousCheckpointingPolicy' }, enable_async_checkpointing: false };
  const calls: Call[] = [
    { call: 'save', step: 1, t: 1, fail_write: 'disk full' },
    { call: 'save', step: 2, t: 2 },
  ];
  assert.deepEqual(drive(options, calls).outs.map((o) => [o.error?.type ?? null, o.in_progress]), [['WriteFailure', true], [null, true]]);
  const fixed = drive(options, calls, { clear_in_progress_on_error: true });
  assert.deepEqual(fixed.outs.map((o) => [o.error?.type ?? null, o.result, o.in_progress]), [['WriteFailure', null, false], [null, true, false]]);
  assert.ok(fixed.s.entries.some((e) => e.path === 'ckpt/1.orbax-checkpoint-tmp'));
  assert.deepEqual(stepDirs(fixed.s), [2]);
});

test('clear_in_progress_on_error with a write in flight: the flag clears when that write commits, not before', () => {
  // retention raises (metrics without the key) after the async write started
  const options = { best_fn: { metric: 'loss' }, max_to_keep: 1, save_decision_policy: { type: 'ContinuousCheckpointingPolicy' } };
  const calls: Call[] = [
    { call: 'save', step: 1, t: 0, metrics: { loss: 1 } },
    { call: 'save', step: 2, t: 5, metrics: { acc: 1 } }, // written, then BestN's lookup raises; commits at 8.5
    { call: 'should_save', step: 3, t: 6 },
    { call: 'should_save', step: 3, t: 20 },
  ];
  const orbax = drive(options, calls, undefined, ASYNC);
  assert.equal(orbax.outs[1]!.error?.type, 'KeyError');
  assert.deepEqual(orbax.outs.map((o) => o.in_progress), [true, true, true, true]);
  assert.deepEqual(orbax.outs.slice(2).map((o) => o.result), [false, false]);
  const fixed = drive(options, calls, { clear_in_progress_on_error: true }, ASYNC);
  assert.deepEqual(fixed.outs[1]!.fixed, [{ fix: 'clear_in_progress_on_error', error: 'KeyError', when: 'at_commit' }]);
  assert.deepEqual(fixed.outs.map((o) => o.in_progress), [true, true, true, false]);
  assert.deepEqual(fixed.outs.slice(2).map((o) => o.result), [false, true]);
});

test('an error before the save marked in_progress is not touched by the fix (the flag belongs to the write in flight)', () => {
  const options = { save_interval_steps: 0, enable_async_checkpointing: false };
  const { outs } = drive(options, [{ call: 'save', step: 1, t: 1 }], { clear_in_progress_on_error: true });
  assert.equal(outs[0]!.error?.type, 'ZeroDivisionError');
  assert.equal(outs[0]!.fixed, undefined);
});

test('decodeFixes names the unknown fix and what is allowed', () => {
  assert.deepEqual(decodeFixes(undefined), E.right({}));
  assert.deepEqual(decodeFixes({ keep_just_written: true }), E.right({ keep_just_written: true }));
  assert.deepEqual(decodeFixes({ keep_just_writen: true }), E.left('fixes: unknown fix "keep_just_writen"; allowed: keep_just_written, clear_in_progress_on_error'));
  const bad = decodeFixes({ keep_just_written: 'yes' });
  assert.ok(E.isLeft(bad) && bad.left.startsWith('fixes: {"keep_just_written":"yes"} is not valid'));
  assert.ok(E.isLeft(decodeFixes([1])));
});
