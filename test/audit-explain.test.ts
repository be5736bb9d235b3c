/**
 * `ckpt explain`: a decision log, or loop events run through a policy, in plain sentences: what
 * was saved or removed and why, and why nothing was. Plus the commands as a user runs them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseConfig } from '../src/core/config.ts';
import type { LoopEvent } from '../src/core/events.ts';
import { fitEvents } from '../src/core/loop.ts';
import { encodeLoopEvent } from '../src/sources/jsonl.ts';
import { drive } from '../src/audit/drive.ts';
import { openDecisionLog } from '../src/audit/writer.ts';
import { runExplain } from '../src/cli/audit.ts';
import { CKPT } from './helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-audit-explain-'));
const OPTIONS = { dirpath: '/runs/ckpts', monitor: 'val_loss', save_top_k: 3, every_n_epochs: 2 };
const losses = [0.5, 0.39, 0.6, 0.395, 0.7, 0.398, 0.8, 0.412];
const events: LoopEvent[] = [...fitEvents({ epochs: losses.length, batchesPerEpoch: 200, valMetrics: (e) => ({ val_loss: losses[e]! }) })];

async function explain(input: string, opts: { policy?: string; all?: boolean } = {}): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runExplain(input, { cwd: '/', ...opts }, (l) => lines.push(l));
  return { code, lines };
}

test('a decision log explained: saves and removals with their reasons, rejections with the k-th value', async () => {
  const path = join(tmp, 'decisions.jsonl');
  const log = openDecisionLog(path);
  drive(log, parseConfig(OPTIONS), events, { cwd: '/' });
  log.close();
  const { code, lines } = await explain(path);
  assert.equal(code, 0);
  assert.equal(lines[0], "#1 run starts (a fresh start) with ModelCheckpoint(dirpath='/runs/ckpts', monitor='val_loss', save_top_k=3, every_n_epochs=2) in /");
  assert.ok(lines.some((l) => /^#\d+ save   \/runs\/ckpts\/epoch=1-step=400\.ckpt: epoch 1, step 400: val_loss 0\.39 entered the top 3 \(fewer than 3 kept\) at the end of the training epoch$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^#\d+ epoch 7, step 1600: val_loss 0\.412 did not enter the top 3 \(3rd best 0\.398\); nothing saved$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^#\d+ epoch 0, step 200: no trigger due: every_n_epochs=2: epoch 0 is not due \(next at epoch 1\); nothing saved$/.test(l)));
  assert.match(lines.at(-1)!, /^\(\d+ routine record\(s\) not shown; --all shows every one\)$/);
  const all = await explain(path, { all: true });
  assert.ok(all.lines.length > lines.length + 1000, 'every batch is explained with --all');
  assert.ok(all.lines.some((l) => /every_n_train_steps or train_time_interval is set, so training batches never trigger a checkpoint/.test(l)));
});

test('loop events explained through a policy file, by line number', async () => {
  const evPath = join(tmp, 'events.jsonl');
  writeFileSync(evPath, events.map(encodeLoopEvent).join('\n') + '\n');
  const policy = join(tmp, 'policy.yaml');
  writeFileSync(policy, 'dirpath: /runs/ckpts\nmonitor: val_loss\nsave_top_k: 3\nevery_n_epochs: 2\n');
  const { code, lines } = await explain(evPath, { policy });
  assert.equal(code, 0);
  const rejected = lines.find((l) => l.includes('did not enter'));
  assert.equal(rejected, `line ${events.length - 1}: epoch 7, step 1600: val_loss 0.412 did not enter the top 3 (3rd best 0.398); nothing saved`);
  // without the policy the events cannot be explained
  const none = await explain(evPath);
  assert.equal(none.code, 2);
  assert.match(none.lines[0]!, /is not a decision log .*give the policy with --policy FILE$/);
  writeFileSync(policy, 'save_top_k: 3\nmonitor: null\n');
  const bad = await explain(evPath, { policy });
  assert.equal(bad.code, 2);
  assert.match(bad.lines[0]!, /^ckpt explain: .*policy\.yaml:1:1: save_top_k: save_top_k=3 is not allowed: without a monitor, save_top_k must be -1, 0 or 1/);
});

test('the ckpt binary: audit verify and explain are registered and exit with their codes', async () => {
  const path = join(tmp, 'cli.jsonl');
  const log = openDecisionLog(path);
  drive(log, parseConfig(OPTIONS), events.slice(0, 30), { cwd: '/' });
  log.close();
  const run = promisify(execFile);
  const ok = await run(process.execPath, [...CKPT, 'audit', 'verify', path]);
  assert.match(ok.stdout, /result: verified\n$/);
  const fails = (args: string[]) =>
    run(process.execPath, [...CKPT, ...args]).then(
      () => assert.fail(`exit 0: ${args.join(' ')}`),
      (e: { code: number; stdout: string }) => e,
    );
  writeFileSync(path, readFileSync(path, 'utf8').replace('"cwd":"/"', '"cwd":"/elsewhere"'));
  const bad = await fails(['audit', 'verify', path]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /chain broken: record 1: hash: expected .* the record was changed after it was written/);
  // no line is a record at all: not a decision log (exit 2), not a tampered one
  writeFileSync(path, '{"type":"head"}\n');
  const notLog = await fails(['audit', 'verify', path]);
  assert.equal(notLog.code, 2);
  assert.match(notLog.stdout, /^unreadable: .*cli\.jsonl: not a decision log: no line is a record \(a JSON object ending in a "hash" field\); record 1: hash: expected a "hash" field/);
});

test.after?.(() => rmSync(tmp, { recursive: true, force: true }));
