/**
 * `ckpt audit trainer OUTPUT_DIR --args FILE` on output_dirs built in a temp folder (real folders,
 * empty weight files), with trainer_state.json written there or linked from ../shared (not copied).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ckpt, root, STACK } from './helpers/cli.ts';

const DATA = join(root, '..', 'shared', 'data', 'hf-trainer-state');
const skip = existsSync(join(DATA, 'MANIFEST.md')) ? false : `the real trainer_state.json files are not at ${DATA}`;

function outputDir(folders: number[], state: string | { link: string }): { dir: string; args: (a: object | string) => string; done: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'hf-audit-'));
  const dir = join(base, 'out');
  mkdirSync(dir);
  for (const n of folders) {
    mkdirSync(join(dir, `checkpoint-${n}`));
    writeFileSync(join(dir, `checkpoint-${n}`, 'model.safetensors'), '');
  }
  if (typeof state === 'string') writeFileSync(join(dir, 'trainer_state.json'), state);
  else symlinkSync(state.link, join(dir, 'trainer_state.json'));
  return {
    dir,
    args: (a) => {
      const p = join(base, 'args.yaml');
      writeFileSync(p, typeof a === 'string' ? a : JSON.stringify(a));
      return p;
    },
    done: () => rmSync(base, { recursive: true, force: true }),
  };
}

/** A run of 10 steps, eval and save every 2, eval_loss lowest at step 4 (written with a bare NaN at 6). */
const STATE = JSON.stringify({ global_step: 10, max_steps: 10, epoch: 1.0, eval_steps: 2, save_steps: 2, logging_steps: 2, best_metric: null, best_model_checkpoint: null, log_history: [2, 4, 6, 8, 10].map((s) => ({ step: s, epoch: s / 10, eval_loss: s === 4 ? 0.1 : s === 6 ? 'NAN' : 1 + s })) }).replace('"NAN"', 'NaN');

test('clean: save_total_limit=2 with the best protected keeps {best, last}', () => {
  const o = outputDir([4, 10], STATE);
  try {
    const r = ckpt(['audit', 'trainer', o.dir, '--args', o.args('save_total_limit: 2\nmetric_for_best_model: loss\neval_strategy: steps\n')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /should exist: checkpoint-4, checkpoint-10\n/);
    assert.match(r.stdout, /best: eval_loss=0.1 at step 4; best_model_checkpoint checkpoint-4 survived/);
  } finally {
    o.done();
  }
});

test('drift: a missing best folder and an unexpected one; --json', () => {
  const o = outputDir([8, 10], STATE);
  try {
    const r = ckpt(['audit', 'trainer', o.dir, '--args', o.args({ save_total_limit: 2, metric_for_best_model: 'loss', eval_strategy: 'steps' }), '--json']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.deepEqual([rep.status, rep.missing, rep.unexpected, rep.best.checkpoint], ['drift', ['checkpoint-4'], ['checkpoint-8'], 'checkpoint-4']);
  } finally {
    o.done();
  }
});

test('cannot tell: the policy evaluates where the log has no evaluation', () => {
  const o = outputDir([5, 10], STATE);
  try {
    const r = ckpt(['audit', 'trainer', o.dir, '--args', o.args({ save_steps: 5, eval_steps: 5, eval_strategy: 'steps', metric_for_best_model: 'loss', load_best_model_at_end: true })]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /undetermined: the policy evaluates at step 5, where the log has no evaluation/);
  } finally {
    o.done();
  }
});

test('unreadable: bad arguments, a broken trainer_state.json, a missing folder; never a stack trace', () => {
  const o = outputDir([2], '{"global_step": 2,\n "log_history": [nan]}');
  try {
    const cases: Array<[string[], RegExp]> = [
      [['audit', 'trainer', o.dir, '--args', o.args({ save_steps: 2 })], /trainer_state\.json:2:18: expected a value/],
      [['audit', 'trainer', join(o.dir, 'nope'), '--args', o.args({})], /cannot read the output_dir .*nope: no such folder/],
    ];
    for (const [args, re] of cases) {
      const r = ckpt(args);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, re);
      assert.doesNotMatch(r.stdout + r.stderr, STACK);
    }
    writeFileSync(join(o.dir, 'trainer_state.json'), STATE);
    const r = ckpt(['audit', 'trainer', o.dir, '--args', o.args({ save_strategy: 'sometimes' })]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /sometimes is not a valid SaveStrategy/);
  } finally {
    o.done();
  }
});

test('a real run: 14-boostcamp-datacentric with its notebook arguments is clean', { skip }, () => {
  const o = outputDir([4700, 4800], { link: join(DATA, '14-boostcamp-datacentric.json') });
  try {
    const r = ckpt(['audit', 'trainer', o.dir, '--args', o.args({ save_total_limit: 2, load_best_model_at_end: true, metric_for_best_model: 'eval_f1', greater_is_better: true, eval_steps: 100, save_steps: 100 })]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /best: eval_f1=0.8890186804312927 at step 4700; best_model_checkpoint checkpoint-4700 survived/);
  } finally {
    o.done();
  }
});

test('--fix saveNewBest: a run that used the fix is clean against it and drifts against transformers; an unknown fix is exit 2', () => {
  // eval every 2 steps, save every 3: the best (step 4) is not a save step (transformers #39560)
  const o = outputDir([4, 10], STATE);
  try {
    const args = o.args('save_steps: 3\neval_steps: 2\neval_strategy: steps\nsave_total_limit: 2\nmetric_for_best_model: loss\n');
    const fixed = ckpt(['audit', 'trainer', o.dir, '--args', args, '--fix', 'saveNewBest']);
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
    assert.match(fixed.stdout, /should exist: checkpoint-4, checkpoint-10\n/);
    const plain = ckpt(['audit', 'trainer', o.dir, '--args', args]);
    assert.equal(plain.code, 1, plain.stdout + plain.stderr);
    assert.match(plain.stdout, /should exist: checkpoint-9, checkpoint-10\n[^]*checkpoint-4 was never saved: transformers #39560/);
    const bad = ckpt(['audit', 'trainer', o.dir, '--args', args, '--fix', 'keepAll']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--fix unknown fix "keepAll"; allowed: saveNewBest, limitOneKeepsBest/);
    assert.doesNotMatch(bad.stderr, STACK);
  } finally {
    o.done();
  }
});
