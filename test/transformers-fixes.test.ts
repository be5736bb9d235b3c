/**
 * The transformers dialect's opt-in fixes (fixes.ts), beside transformers' own behaviour on the same
 * runs: `limitOneKeepsBest` (save_total_limit=1 leaves one folder) and its names for callers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { parseTrainingArguments } from '../src/dialects/transformers/args.ts';
import { decodeHfFixes, reduceWithFixes, type HfFixes } from '../src/dialects/transformers/fixes.ts';
import { init } from '../src/dialects/transformers/reduce.ts';
import { parseTrainerState } from '../src/dialects/transformers/trainerState.ts';
import { readTrainerStateFile } from '../src/dialects/transformers/readTrainerStateFile.ts';
import { argsFromTrainerState } from '../src/dialects/transformers/runArgs.ts';
import { simulateTrainerState } from '../src/dialects/transformers/simulate.ts';
import type { FileEntry } from '../src/dialects/transformers/files.ts';
import type { HfEffect, HfEvent, HfState } from '../src/dialects/transformers/types.ts';
import { root } from './helpers/cli.ts';

/** A trainer_state.json with one evaluation per step listed (eval_loss), `steps` steps, `perEpoch` a epoch. */
function logOf(steps: number, evals: Record<number, number>, perEpoch = steps) {
  const history = Object.entries(evals).map(([s, v]) => ({ eval_loss: v, step: Number(s), epoch: Number(s) / perEpoch }));
  return parseTrainerState(JSON.stringify({ global_step: steps, epoch: steps / perEpoch, max_steps: steps, log_history: history }), 'mem.json');
}

const LIMIT1 = { output_dir: 'out', eval_strategy: 'steps', eval_steps: 2, save_steps: 2, save_total_limit: 1, load_best_model_at_end: true, metric_for_best_model: 'loss', logging_steps: 1 };

test('limitOneKeepsBest: one folder after every rotation (transformers holds two while the best is not the newest); the run ends with the same folder', () => {
  // best at step 4, then worse: transformers keeps checkpoint-4 beside each newer save
  const log = logOf(10, { 2: 0.9, 4: 0.2, 6: 0.5, 8: 0.6, 10: 0.7 });
  const args = parseTrainingArguments(LIMIT1);
  const hf = simulateTrainerState(log, args);
  const fixed = simulateTrainerState(log, args, { limitOneKeepsBest: true });
  assert.equal(hf.mostFolders, 2);
  assert.equal(fixed.mostFolders, 1);
  assert.deepEqual(hf.kept, ['checkpoint-4']); // transformers' end-of-training clean-up
  assert.deepEqual(fixed.kept, hf.kept);
  assert.deepEqual([fixed.best?.checkpoint, fixed.best?.survives], ['checkpoint-4', true]);
  // every save that is not the best is removed by its own rotation, with the fix's reason
  assert.deepEqual(fixed.removed.map((r) => [r.folder, r.atStep]), [['checkpoint-2', 4], ['checkpoint-6', 6], ['checkpoint-8', 8], ['checkpoint-10', 10]]);
  assert.ok(fixed.removed.every((r) => r.reason.rule === 'saveTotalLimit' && r.reason.limit === 1));
  assert.ok(hf.removed.some((r) => r.reason.rule === 'saveTotalLimit' && r.reason.limit === 2));
});

test('limitOneKeepsBest changes nothing when transformers already keeps one: no metric, limit 2, or the best is always the newest', () => {
  const improving = logOf(8, { 2: 0.9, 4: 0.8, 6: 0.7, 8: 0.6 });
  const worsening = logOf(8, { 2: 0.1, 4: 0.8, 6: 0.9, 8: 1.0 });
  for (const [given, log] of [
    [{ ...LIMIT1, load_best_model_at_end: false, metric_for_best_model: null }, worsening],
    [{ ...LIMIT1, save_total_limit: 2 }, worsening],
    [LIMIT1, improving],
  ] as const) {
    const args = parseTrainingArguments(given);
    const hf = simulateTrainerState(log, args);
    const fixed = simulateTrainerState(log, args, { limitOneKeepsBest: true });
    assert.deepEqual([fixed.kept, fixed.removed, fixed.mostFolders], [hf.kept, hf.removed, hf.mostFolders], JSON.stringify(given));
  }
});

test('limitOneKeepsBest stays off with a step-end save and an epoch-end evaluation: the folder just saved may become the best', () => {
  // saves every 2 steps at the step end, evaluations at each epoch end (2 steps): the best (0.1) is found at step 4 after checkpoint-4's rotation
  const log = logOf(6, { 2: 0.5, 4: 0.1, 6: 0.9 }, 2);
  const args = parseTrainingArguments({ output_dir: 'out', save_steps: 2, eval_strategy: 'epoch', metric_for_best_model: 'loss', save_total_limit: 1 });
  const hf = simulateTrainerState(log, args);
  const fixed = simulateTrainerState(log, args, { limitOneKeepsBest: true });
  assert.deepEqual([hf.kept, hf.best?.checkpoint], [['checkpoint-4'], 'checkpoint-4']);
  // removing checkpoint-4 at its own save would have lost the best: the fix leaves this case to transformers
  assert.deepEqual([fixed.kept, fixed.best?.checkpoint, fixed.mostFolders], [hf.kept, hf.best?.checkpoint, hf.mostFolders]);
});

/** Drive the fixed reducer: saves succeed unless `failAt` names the step, whose save fails with OSError. */
function drive(given: Record<string, unknown>, losses: readonly number[], fixes: HfFixes, failAt: number | null = null) {
  let files: FileEntry[] = [{ path: 'out', kind: 'dir', mtime: 0 }];
  let [state] = init(parseTrainingArguments(given), { cwd: '', files, trainBatches: losses.length, hasEvalDataset: true });
  const effects: HfEffect[] = [];
  const after: string[][] = [];
  const step = (ev: HfEvent) => {
    const queue = [ev];
    for (let e = queue.shift(); e; e = queue.shift()) {
      let fx: HfEffect[];
      [state, fx] = reduceWithFixes(state, e, fixes) as [HfState, HfEffect[]];
      effects.push(...fx);
      for (const f of fx) {
        if (f.type === 'evaluate') queue.push({ type: 'evaluated', metrics: { eval_loss: losses[state.globalStep - 1]! } });
        if (f.type === 'save' && state.globalStep === failAt) queue.push({ type: 'checkpointSaveFailed', path: f.path, error: { type: 'OSError', message: '[Errno 28] No space left on device' } });
        else if (f.type === 'save') {
          files = [...files, { path: f.path.replace(/^\.\//, ''), kind: 'dir', mtime: 10 * state.globalStep }];
          queue.push({ type: 'checkpointSaved', path: f.path, time: 10 * state.globalStep, files });
        }
        if (f.type === 'remove') files = files.filter((x) => x.path !== f.path);
      }
    }
    after.push(files.filter((f) => f.path.startsWith('out/')).map((f) => f.path));
  };
  step({ type: 'trainBegan', time: 0, files, resumeFromCheckpoint: null });
  for (let s = 1; s <= losses.length && state.waiting === 'none'; s++) step({ type: 'stepEnded', globalStep: s, epoch: s / losses.length, time: 10 * s });
  return { state, effects, after };
}

test("limitOneKeepsBest: output_dir='./out' keeps one folder too (transformers compares the path strings and keeps two)", () => {
  const given = { ...LIMIT1, output_dir: './out' };
  const losses = [0.9, 0.8, 0.7, 0.6];
  assert.deepEqual(drive(given, losses, {}).after.at(-1), ['out/checkpoint-2', 'out/checkpoint-4']);
  assert.deepEqual(drive(given, losses, { limitOneKeepsBest: true }).after.at(-1), ['out/checkpoint-4']);
});

test('limitOneKeepsBest: a failed save deletes nothing; the best stays', () => {
  const r = drive(LIMIT1, [0.9, 0.2, 0.5, 0.6, 0.7, 0.8], { limitOneKeepsBest: true }, 6);
  assert.equal(r.state.waiting, 'failed');
  assert.deepEqual(r.after.at(-1), ['out/checkpoint-2']);
  const removes = r.effects.filter((f) => f.type === 'remove').map((f) => (f as { path: string }).path);
  assert.deepEqual(removes, ['out/checkpoint-4']);
  const said = r.effects.flatMap((f) => (f.type === 'log' && f.message.startsWith('Deleting') ? [f.message] : []));
  assert.deepEqual(said, ['Deleting checkpoint [out/checkpoint-4]: save_total_limit=1 keeps one folder (fix limitOneKeepsBest)']);
});

test('limitOneKeepsBest with saveNewBest: the best of misaligned evaluations is saved and is the one folder kept', () => {
  const given = { output_dir: 'out', eval_strategy: 'steps', eval_steps: 1, save_steps: 3, save_total_limit: 1, metric_for_best_model: 'loss', logging_steps: 1 };
  const r = drive(given, [0.9, 0.1, 0.5, 0.6, 0.7, 0.8], { limitOneKeepsBest: true, saveNewBest: true });
  assert.ok(r.after.every((a) => a.length <= 1), JSON.stringify(r.after));
  assert.deepEqual(r.after.at(-1), ['out/checkpoint-2']);
  assert.equal(r.state.bestModelCheckpoint, 'out/checkpoint-2');
});

test('fix names: decoded for callers (CLI, sidecar); an unknown name or a wrong type is refused, naming it and what is allowed', () => {
  assert.deepEqual(decodeHfFixes({ limitOneKeepsBest: true }), E.right({ limitOneKeepsBest: true }));
  assert.deepEqual(decodeHfFixes(undefined), E.right({}));
  assert.deepEqual(decodeHfFixes({ keepBest: true }), E.left('fixes: unknown fix "keepBest"; allowed: saveNewBest, limitOneKeepsBest'));
  const bad = decodeHfFixes({ saveNewBest: 'yes' });
  assert.ok(E.isLeft(bad) && /saveNewBest/.test(bad.left) && /"yes"/.test(bad.left), JSON.stringify(bad));
  assert.ok(E.isLeft(decodeHfFixes([true])));
});

const DATA = join(root, '..', 'shared', 'data', 'hf-trainer-state');
const skip = existsSync(join(DATA, 'MANIFEST.md')) ? false : `the real trainer_state.json files are not at ${DATA}`;

test('06-pegasus-samsum with save_total_limit=1: transformers holds two folders at once on the way, the fix one, and both end with the best', { skip }, () => {
  const log = readTrainerStateFile(join(DATA, '06-pegasus-samsum.json'));
  const a = argsFromTrainerState(log, { output_dir: 'out', save_total_limit: 1, load_best_model_at_end: true });
  assert.ok(a.ok);
  const hf = simulateTrainerState(log, a.args);
  const fixed = simulateTrainerState(log, a.args, { limitOneKeepsBest: true });
  assert.deepEqual([hf.mostFolders, fixed.mostFolders], [2, 1]);
  assert.deepEqual(fixed.kept, hf.kept);
  assert.deepEqual(fixed.kept, ['checkpoint-3000']);
});
