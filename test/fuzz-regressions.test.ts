/**
 * Bugs the fuzz suite found (property-tests/fuzz), each pinned by its failing input or a reduced
 * form of it, run as a user would (the CLI in its own process, under a heap limit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
