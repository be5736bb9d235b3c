/**
 * Bugs the fuzz suite found (property-tests/fuzz), each pinned by its failing input or a reduced
 * form of it, run as a user would (the CLI in its own process, under a heap limit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CKPT, STACK } from './helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-fuzz-reg-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const ckptUnder = (heapMb: number, args: readonly string[]) => {
  const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, ...CKPT, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28, env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
};

test('csv seed 15 input 87: every step kept (save_top_k=-1, every_n_train_steps=1) simulates 6,000 files in a 256 MB heap', () => {
  // the fuzz input: a per-step metric Lightning logs every 50 steps, so every step's hook sees it and saves;
  // each simulated file built its own best_k_models (all files so far): 9,600 files took 75 s and 3.5 GB
  const rows = ['epoch,step,train_loss'];
  for (let s = 49; s < 6000; s += 50) rows.push(`0,${s},${(1 / (s + 1)).toFixed(6)}`);
  const csv = join(tmp, 'metrics.csv');
  writeFileSync(csv, rows.join('\n') + '\n');
  const r = ckptUnder(256, ['simulate', '--no-progress', '--format', 'json', '--policy', '{"monitor": "train_loss", "save_top_k": -1, "every_n_train_steps": 1}', csv]);
  assert.equal(r.signal, null, 'not killed by the time limit');
  assert.doesNotMatch(r.stderr, STACK);
  assert.equal(r.code, 0, r.stderr.slice(-500));
  const kept = JSON.parse(r.stdout).policies[0].kept as unknown[];
  assert.equal(kept.length, 6000 - 49);
});

test('trainer-state seed 15 input 191: logging_steps 0 in trainer_state.json is named as that file\'s, not blamed on the --args file', () => {
  // the fuzz input turned trainer_state.json's logging_steps into 0; the message named only args.yaml, which has no logging_steps
  const dir = join(tmp, 'out');
  mkdirSync(join(dir, 'checkpoint-10'), { recursive: true });
  const state = { global_step: 10, max_steps: 10, epoch: 1.0, eval_steps: 2, save_steps: 2, logging_steps: 0, best_metric: null, best_model_checkpoint: null, log_history: [2, 4, 6, 8, 10].map((s) => ({ step: s, epoch: s / 10, eval_loss: 1 + s })) };
  writeFileSync(join(dir, 'trainer_state.json'), JSON.stringify(state));
  const args = join(tmp, 'args.yaml');
  writeFileSync(args, 'save_total_limit: 2\n');
  const r = ckptUnder(256, ['audit', 'trainer', dir, '--args', args]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.doesNotMatch(r.stderr, STACK);
  const said = r.stdout + r.stderr;
  assert.match(said, new RegExp(`${join(dir, 'trainer_state.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: logging_steps=0 \\(read from it; give logging_steps in .*args\\.yaml to override\\): .*requires non-zero --logging_steps`), said);
});
