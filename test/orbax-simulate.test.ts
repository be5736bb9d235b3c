/** simulateOrbaxSteps on logs of steps, and the JSONL / TensorBoard readers that feed it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulateOrbaxSteps, OrbaxSimulationError, type OrbaxStep } from '../src/dialects/orbax/simulate.ts';
import { readOrbaxStepsJsonl, readOrbaxStepsTfevents, StepLogError } from '../src/dialects/orbax/stepLogs.ts';
import { fileVersionEvent, scalarEvent } from '../src/sources/tfevents.ts';
import { frameRecord } from '../src/sources/tfrecord.ts';

const LOSS = [5, 4, 9, 1, 7, 3, 8, 2, 6, 0];
const steps = (time?: (i: number) => number): OrbaxStep[] => LOSS.map((loss, i) => ({ step: i, metrics: { loss }, ...(time ? { time: time(i) } : {}) }));

test('legacy options: every other step saved, the two lowest losses kept, best kept vs best observed', () => {
  const r = simulateOrbaxSteps({ save_interval_steps: 2, max_to_keep: 2, best_fn: { metric: 'loss' }, best_mode: 'min' }, steps());
  assert.deepEqual(r.saved, [0, 2, 4, 6, 8]);
  // saved losses 5, 9, 7, 8, 6: the best two are steps 0 and 8
  assert.deepEqual(r.kept, [0, 8]);
  assert.deepEqual(r.deleted, [2, 4, 6]);
  assert.deepEqual(r.best, { metric: 'loss', mode: 'min', kept: { step: 0, value: 5 }, observed: { step: 9, value: 0 } });
  assert.equal(r.undetermined, null);
  assert.equal(r.steps, 10);
  assert.equal(r.errors, 0);
  // step 6 (loss 8) is not among the best two when written: Orbax's save deletes it in the same call
  assert.deepEqual(r.events.find((e) => e.step === 6), { step: 6, saved: true, removed: [6] });
  assert.deepEqual(r.events.find((e) => e.step === 8)?.removed, [4]);
});

test('best_mode defaults to max, as in Orbax: the highest losses are kept', () => {
  const r = simulateOrbaxSteps({ max_to_keep: 2, best_fn: { metric: 'loss' } }, steps());
  assert.deepEqual([...r.kept].sort((a, b) => a - b), [2, 6]);
  assert.deepEqual(r.best?.observed, { step: 2, value: 9 });
});

test('a time-based policy without times is undetermined from the first step lacking one, never guessed', () => {
  const none = simulateOrbaxSteps({ keep_time_interval: 10, max_to_keep: 1 }, steps());
  assert.deepEqual(none.undetermined, { fromStep: 0, reason: 'step 0 has no time and the policy reads the clock: EveryNSeconds(10)' });
  assert.equal(none.steps, 0);
  assert.deepEqual(none.kept, []);
  const partial = steps((i) => i * 4).map((s, i) => (i >= 3 ? { step: s.step, metrics: s.metrics! } : s));
  const p = simulateOrbaxSteps({ preservation_policy: { type: 'LatestDuration', seconds: 5 } }, partial);
  assert.equal(p.undetermined?.fromStep, 3);
  assert.match(p.undetermined!.reason, /LatestDuration\(5\)/);
  assert.equal(p.steps, 3);
  // a policy that never reads the clock needs no times
  assert.equal(simulateOrbaxSteps({ max_to_keep: 3 }, steps()).undetermined, null);
});

test('EveryNSeconds with the logged times, in a union with LatestN(1)', () => {
  const options = { preservation_policy: { type: 'AnyPreservationPolicy', policies: [{ type: 'LatestN', n: 1 }, { type: 'EveryNSeconds', interval_secs: 10 }] } };
  const r = simulateOrbaxSteps(options, steps((i) => 1000 + i * 4));
  // times 1000, 1004, ...: one checkpoint per 10 s from the first kept (0, 3, 6, 9), the latest is 9
  assert.deepEqual(r.kept, [0, 3, 6, 9]);
  assert.deepEqual(r.saved, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(r.best, null, 'no metric to judge by');
});

test("Orbax's errors are results: a step without BestN's metric raises KeyError and the step stays", () => {
  const s: OrbaxStep[] = [{ step: 0, metrics: { loss: 1 } }, { step: 1, metrics: { loss: 2 } }, { step: 2, metrics: { acc: 1 } }];
  const r = simulateOrbaxSteps({ max_to_keep: 1, best_fn: { metric: 'loss' }, best_mode: 'min' }, s);
  assert.equal(r.errors, 1);
  assert.deepEqual(r.events.at(-1), { step: 2, saved: true, removed: [], error: { type: 'KeyError', message: "'loss'" } });
  assert.deepEqual(r.kept, [0, 2]);
});

test('fixes pass through: max_to_keep=0 keeps nothing in Orbax, the newest with keep_just_written', () => {
  assert.deepEqual(simulateOrbaxSteps({ max_to_keep: 0 }, steps()).kept, []);
  const r = simulateOrbaxSteps({ max_to_keep: 0 }, steps(), { fixes: { keep_just_written: true } });
  assert.deepEqual(r.kept, [9]);
  assert.equal(r.events.filter((e) => e.fixed !== undefined).length, 10);
});

test('bad options and steps are errors naming the field, the value and what is allowed', () => {
  assert.throws(() => simulateOrbaxSteps({ max_to_kep: 2 }, []), (e: unknown) => e instanceof OrbaxSimulationError && e.field === 'max_to_kep' && /unknown CheckpointManagerOptions field/.test(e.message));
  assert.throws(() => simulateOrbaxSteps({ best_mode: 'lowest' }, []), /options: ValueError: `CheckpointManagerOptions.best_mode` must be one of None, 'min' or 'max'. Got lowest./);
  assert.throws(() => simulateOrbaxSteps({}, [{ step: 0 }, { step: 1.5 }]), /steps\[1\]\.step: 1\.5 is not valid: expected an integer/);
  assert.throws(() => simulateOrbaxSteps({}, [{ step: 0, time: 5 }, { step: 1, time: 4 }]), /steps\[1\]\.time: 4 is before the previous step's time 5/);
  assert.throws(() => simulateOrbaxSteps({}, [{ step: 0, metrics: { loss: '0.1' as unknown as number } }]), /steps\[0\]\.metrics\.loss: "0\.1" is not valid: expected a number/);
  assert.throws(() => simulateOrbaxSteps({}, [], { fixes: { keep: true } }), /fixes: unknown fix "keep"/);
});

const dir = mkdtempSync(join(tmpdir(), 'orbax-steps-'));

test('JSONL: lines of one step merge, NaN spelled as a string, blank lines skipped', async () => {
  const f = join(dir, 'a.jsonl');
  writeFileSync(f, ['{"step": 0, "time": 1.5, "metrics": {"loss": 0.9}}', '', '{"step": 0, "metrics": {"val_loss": "NaN"}}', '{"step": 5, "metrics": {"loss": 0.5}}'].join('\n'));
  const got = await readOrbaxStepsJsonl(f);
  assert.equal(got.length, 2);
  assert.deepEqual(got[0]!.time, 1.5);
  assert.equal(got[0]!.metrics!['loss'], 0.9);
  assert.ok(Number.isNaN(got[0]!.metrics!['val_loss']));
  assert.deepEqual(got[1], { step: 5, metrics: { loss: 0.5 } });
});

test('JSONL: errors name the file, the line, the field and what is allowed', async () => {
  const bad = async (name: string, text: string, re: RegExp) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    await assert.rejects(readOrbaxStepsJsonl(f), (e: unknown) => e instanceof StepLogError && re.test(e.message));
  };
  await bad('back.jsonl', '{"step": 7}\n{"step": 5}\n', /back\.jsonl:2: step: 5 after step 7: steps must not decrease/);
  await bad('metric.jsonl', '{"step": 1, "metrics": {"loss": "low"}}\n', /metric\.jsonl:1: metrics\.loss: "low" is not valid: expected a number/);
  await bad('field.jsonl', '{"step": 1, "epoch": 0}\n', /field\.jsonl:1: epoch: unknown field; allowed: step, time, metrics/);
  await bad('json.jsonl', '{"step": 1,\n', /json\.jsonl:1: not JSON/);
  await bad('step.jsonl', '{"step": "1"}\n', /step\.jsonl:1: step: "1" is not valid: expected an integer/);
  await bad('long.jsonl', 'x'.repeat(3 << 20), /line longer than 1048576 bytes/);
  await assert.rejects(readOrbaxStepsJsonl(join(dir, 'missing.jsonl')), /missing\.jsonl: cannot be read \(ENOENT\)/);
});

test('TensorBoard: the existing reader groups the scalars per step; the wall time is the latest of the step', async () => {
  const f = join(dir, 'events.out.tfevents.1');
  const frames = [fileVersionEvent(100), scalarEvent('loss', 0.5, 10, 101), scalarEvent('acc', 0.25, 10, 102), scalarEvent('loss', 0.25, 20, 110)].map(frameRecord);
  writeFileSync(f, Buffer.concat(frames));
  const got = await readOrbaxStepsTfevents(f);
  assert.deepEqual(got, [
    { step: 10, metrics: { loss: 0.5, acc: 0.25 }, time: 102 },
    { step: 20, metrics: { loss: 0.25 }, time: 110 },
  ]);
  const r = simulateOrbaxSteps({ keep_time_interval: 5, max_to_keep: 1 }, got);
  assert.equal(r.undetermined, null);
  assert.deepEqual(r.kept, [10, 20]);
  const notEvents = join(dir, 'x.tfevents');
  writeFileSync(notEvents, 'step,loss\n1,0.5\n');
  await assert.rejects(readOrbaxStepsTfevents(notEvents), /TensorBoard|TFRecord/);
});
