/** `ckpt serve --stdio --store`: the loop's input ends while a decision awaits its payload. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CKPT, STACK, ckpt } from './helpers/cli.ts';

test('each line is answered once when the input ends while a payload is awaited; the save fails, nothing is removed, the log says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-eof-store-'));
  const staging = mkdtempSync(join(tmpdir(), 'ckpt-eof-staging-'));
  const log = join(staging, 'decisions.jsonl');
  writeFileSync(join(staging, 'w0.bin'), 'weights 0');
  const lines = [
    '{"type":"setup"}',
    '{"type":"trainEpochEnded","view":{"epoch":0,"globalStep":4,"metrics":{"val_loss":0.5}}}',
    JSON.stringify({ type: 'payload', file: join(staging, 'w0.bin') }),
    // better: displaces epoch 0, but its payload never comes
    '{"type":"trainEpochEnded","view":{"epoch":1,"globalStep":8,"metrics":{"val_loss":0.4}}}',
  ];
  const r = spawnSync(process.execPath, [...CKPT, 'serve', '--stdio', '--store', dir, '--decision-log', log, '--options', JSON.stringify({ monitor: 'val_loss', save_top_k: 1 })], {
    input: lines.join('\n') + '\n',
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const answers = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { line: number; ok: boolean; awaiting?: string });
  // lines 1, 2 (awaiting), 3 (the payload's outcomes), 4 (awaiting): one answer each
  assert.deepEqual(answers.map((a) => a.line), [1, 2, 3, 4], r.stdout);
  assert.equal(answers[3]!.awaiting, 'payload');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the input ended while the decision of line 4 awaited its payload: its save was not carried out and nothing was removed/);
  assert.doesNotMatch(r.stderr, STACK);
  // the displaced checkpoint is still there: a failed save never causes a deletion
  assert.deepEqual(readdirSync(dir), ['epoch=0-step=4.ckpt']);
  const v = ckpt(['audit', 'verify', '--json', log]);
  const report = JSON.parse(v.stdout) as { status: string; outcomes: number };
  assert.equal(report.status, 'verified', v.stdout);
  const recs = (spawnSync('cat', [log], { encoding: 'utf8' }).stdout as string).trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; cause?: string; effect?: string });
  const outcomes = recs.filter((x) => x.type === 'outcome');
  assert.deepEqual(outcomes.map((o) => `${o.effect} ${o.status}`), ['save done', 'save failed', 'remove failed']);
  assert.match(outcomes[1]!.cause!, /the input ended while a decision awaited its payload/);
});
