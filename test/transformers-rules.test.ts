/** The transformers dialect's rules one by one: arguments, flow, best metric, rotation, resume. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainingArguments, resolveArgs, TrainingArgumentsError } from '../src/dialects/transformers/args.ts';
import { init, reduce } from '../src/dialects/transformers/reduce.ts';
import { rotate, sortedCheckpoints } from '../src/dialects/transformers/rotation.ts';
import { decodeState, encodeState, type HfEffect, type HfState } from '../src/dialects/transformers/types.ts';
import type { FileEntry } from '../src/dialects/transformers/files.ts';

test('defaults and derived values: eval_steps from logging_steps, metric defaulted to loss, greater_is_better inferred', () => {
  const a = parseTrainingArguments({ output_dir: 'out', eval_strategy: 'steps', logging_steps: 10, load_best_model_at_end: true, save_steps: 20 });
  assert.equal(a.eval_steps, 10);
  assert.equal(a.metric_for_best_model, 'loss');
  assert.equal(a.greater_is_better, false);
  assert.equal(parseTrainingArguments({ metricForBestModel: 'perplexity' }).greater_is_better, true); // camelCase; a transformers trap
  assert.equal(parseTrainingArguments({}).output_dir, 'trainer_output');
});

test("transformers' error texts, and our own for what it would not accept", () => {
  const err = (input: unknown) => {
    const r = resolveArgs(input);
    assert.ok(!r.ok);
    return r.issues[0]!;
  };
  assert.equal(err({ save_steps: 2.5 }).transformers?.message, '--save_steps must be an integer if bigger than 1: 2.5');
  assert.equal(err({ save_strategy: 'sometimes' }).transformers?.message, "sometimes is not a valid SaveStrategy, please select one of ['no', 'steps', 'epoch', 'best']");
  assert.equal(err({ load_best_model_at_end: true, eval_strategy: 'steps', save_steps: 0.4, eval_steps: 0.3 }).transformers?.message, '--load_best_model_at_end requires the saving steps to be a multiple of the evaluation steps, but found 0.4, which is not a multiple of 0.3.');
  const unknown = err({ save_total_limt: 2 });
  assert.equal(unknown.field, 'save_total_limt');
  assert.match(unknown.message, /not supported.*did you mean 'save_total_limit'/);
  const typed = err({ save_total_limit: 'two' });
  assert.match(typed.message, /save_total_limit must be an integer or null, got "two"/);
  assert.throws(() => parseTrainingArguments({ logging_steps: 0 }), TrainingArgumentsError);
});

const dir = (path: string, mtime: number): FileEntry => ({ path, kind: 'dir', mtime });

test('rotation: mtime order, numeric fallback under a second, the best kept at second-to-last, limit 1 raised to 2', () => {
  const files = [dir('out', 0), dir('out/checkpoint-2', 100), dir('out/checkpoint-10', 50), dir('out/checkpoint-4', 200)];
  assert.deepEqual(sortedCheckpoints(files, 'out', '', null, true).calls.map((c) => c.result), [['out/checkpoint-10', 'out/checkpoint-2', 'out/checkpoint-4']]);
  const fast = files.map((f) => ({ ...f, mtime: 7 }));
  const s = sortedCheckpoints(fast, 'out', '', null, true);
  assert.equal(s.warned, true);
  assert.deepEqual(s.calls.map((c) => c.result), [['out/checkpoint-2', 'out/checkpoint-4', 'out/checkpoint-10'], ['out/checkpoint-2', 'out/checkpoint-4', 'out/checkpoint-10']]);
  // the best (oldest) is protected and the limit of 1 keeps two
  assert.deepEqual(rotate(files, 'out', '', 'out/checkpoint-10', 1)!.remove, ['out/checkpoint-2']);
  // './out' is not 'out' for the limit-1 rule: two folders kept although the best is the newest
  assert.deepEqual(rotate(files, './out', '', './out/checkpoint-4', 1)!.remove, ['out/checkpoint-10']);
  assert.deepEqual(rotate(files, 'out', '', 'out/checkpoint-4', 1)!.remove, ['out/checkpoint-10', 'out/checkpoint-2']);
  assert.equal(rotate(files, 'out', '', null, 0), null);
});

/** Drive the reducer over a run where every request is answered at once; returns all effects. */
function drive(args: unknown, losses: number[], perEpoch: number): { state: HfState; effects: HfEffect[] } {
  let files: FileEntry[] = [];
  let t = 0;
  let [state, effects] = init(parseTrainingArguments(args), { cwd: '', files, trainBatches: perEpoch, hasEvalDataset: true });
  const all: HfEffect[] = [...effects];
  const step = (ev: Parameters<typeof reduce>[1]) => {
    const queue = [ev];
    for (let e = queue.shift(); e; e = queue.shift()) {
      const [s, fx] = reduce(state, e);
      state = s;
      all.push(...fx);
      for (const f of fx) {
        if (f.type === 'evaluate') queue.push({ type: 'evaluated', metrics: { eval_loss: losses[state.globalStep - 1]!, epoch: state.epoch ?? 0 } });
        if (f.type === 'save') {
          files = [...files.filter((x) => x.path !== f.path), dir(f.path, (t += 10))];
          queue.push({ type: 'checkpointSaved', path: f.path, time: t, files });
        }
        if (f.type === 'remove') files = files.filter((x) => x.path !== f.path);
      }
    }
  };
  step({ type: 'trainBegan', time: 0, files, resumeFromCheckpoint: null });
  for (let s = 1; s <= losses.length; s++) step({ type: 'stepEnded', globalStep: s, epoch: s / perEpoch, time: s });
  step({ type: 'trainEnded', time: 99, files });
  return { state, effects: all };
}

test('misaligned eval and save steps (transformers #39560): the best step is never saved, best_model_checkpoint stays None', () => {
  const { state, effects } = drive({ output_dir: 'out', eval_strategy: 'steps', eval_steps: 3, save_strategy: 'steps', save_steps: 2, metric_for_best_model: 'loss', logging_steps: 1 }, [0.9, 0.8, 0.1, 0.5, 0.6, 0.7], 6);
  assert.equal(state.bestGlobalStep, 3);
  assert.equal(state.bestModelCheckpoint, null);
  assert.deepEqual(effects.filter((e) => e.type === 'save').map((e) => (e as { path: string }).path), ['out/checkpoint-2', 'out/checkpoint-4', 'out/checkpoint-6']);
});

test('save_strategy="best" saves exactly on a new best and never sets best_model_checkpoint; state is JSON with non-finite floats', () => {
  const { state, effects } = drive({ output_dir: 'out', eval_strategy: 'steps', eval_steps: 1, save_strategy: 'best', metric_for_best_model: 'loss', logging_steps: 1 }, [0.5, 0.5, 0.4, NaN, 0.7], 5);
  assert.deepEqual(effects.filter((e) => e.type === 'save').map((e) => (e as { path: string }).path), ['out/checkpoint-1', 'out/checkpoint-3']);
  assert.equal(state.bestModelCheckpoint, null);
  const round = decodeState(JSON.parse(JSON.stringify(encodeState({ ...state, bestMetric: Infinity }))));
  assert.equal(round.bestMetric, Infinity);
});
