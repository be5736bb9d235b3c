/**
 * Lightning's messages in a simulated or replayed run are labelled as simulated: "Checkpoint
 * directory ckpts exists and is not empty." is about the run being replayed, not the user's folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitEvents } from '../src/core/loop.ts';
import { encodeLoopEvent } from '../src/sources/jsonl.ts';
import { ckpt, root } from './helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-labels-'));

test('simulate: the resumed fit of run 022 warns, as Lightning did, labelled as the simulation\'s', () => {
  const dir = join(root, 'test/fixtures/lightning-runs/runs/022-resume-from-last-new-version');
  const r = ckpt(['simulate', '--policy', '{dirpath: ckpts, monitor: val_loss, save_top_k: 2, save_last: true}', '--num-training-batches', '8', '--log-every-n-steps', '2', '--resumed-log', 'logs/tb/version_1', 'logs/tb/version_0'], dir);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(lines.includes('simulated Lightning warning: Checkpoint directory ckpts exists and is not empty.'), r.stdout);
  assert.deepEqual(lines.filter((l) => l.includes('exists and is not empty')), ['simulated Lightning warning: Checkpoint directory ckpts exists and is not empty.']);
});

test('explain of loop events through a policy labels the policy\'s log lines as simulated', () => {
  const events = join(tmp, 'events.jsonl');
  writeFileSync(events, [...fitEvents({ epochs: 2, batchesPerEpoch: 3, files: [{ path: '/runs/ck/old.ckpt', kind: 'file' }], valMetrics: (e) => ({ val_loss: [0.5, 0.4][e]! }) })].map(encodeLoopEvent).join('\n') + '\n');
  const r = ckpt(['explain', events, '--policy', '{dirpath: /runs/ck, monitor: val_loss}']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout.split('\n')[0], 'line 1: simulated Lightning warning: Checkpoint directory /runs/ck exists and is not empty.');
});
