/**
 * The audit commands as a user runs them, on inputs that are wrong in the ways users met: a policy
 * file written for `ckpt simulate`, a file that is not a decision log, a storage folder that is
 * not there. Each gets the documented status and exit code (docs/audit.md), never a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitEvents } from '../src/core/loop.ts';
import { encodeLoopEvent } from '../src/sources/jsonl.ts';
import { ckpt, root, STACK } from './helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-audit-cli-'));

/** Run 001 (top-1 by val_loss) copied to a temp folder, with the file Lightning kept recreated. */
function run001(): string {
  const dir = join(tmp, `001-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(join(root, 'test/fixtures/lightning-runs/runs/001-topk1-val-loss'), dir, { recursive: true });
  mkdirSync(join(dir, 'ckpts'));
  writeFileSync(join(dir, 'ckpts/epoch=9-step=60.ckpt'), '');
  return dir;
}

test('a policy file with a name (as docs/simulate.md writes them) works in simulate, audit lightning and explain alike', () => {
  const dir = run001();
  const policy = join(dir, 'as-run.yaml');
  writeFileSync(policy, 'name: as-run\ndirpath: ckpts\nmonitor: val_loss\nsave_top_k: 1\n');
  const metrics = 'logs/csv/version_0/metrics.csv';
  const sim = ckpt(['simulate', '--policy', policy, '--max-epochs', '15', '--format', 'json', metrics], dir);
  assert.equal(sim.code, 0, sim.stderr);
  assert.deepEqual((JSON.parse(sim.stdout) as { policies: { name: string; kept: { path: string }[] }[] }).policies.map((p) => [p.name, p.kept.map((k) => k.path)]), [['as-run', ['ckpts/epoch=9-step=60.ckpt']]]);
  const audit = ckpt(['audit', 'lightning', '--policy', policy, metrics, 'ckpts'], dir);
  assert.equal(audit.code, 0, audit.stdout + audit.stderr);
  assert.match(audit.stdout, /result: clean/);
  const events = join(dir, 'events.jsonl');
  writeFileSync(events, [...fitEvents({ epochs: 2, batchesPerEpoch: 3, valMetrics: (e) => ({ val_loss: [0.5, 0.4][e]! }) })].map(encodeLoopEvent).join('\n') + '\n');
  const ex = ckpt(['explain', events, '--policy', policy, '--cwd', dir], dir);
  assert.equal(ex.code, 0, ex.stdout + ex.stderr);
  assert.match(ex.stdout, /save +\S*\/ckpts\/epoch=1-step=6\.ckpt: epoch 1, step 6: val_loss 0\.4 entered the top 1/);
  // a mistake is reported as simulate reports it: file, line and column
  writeFileSync(policy, 'name: as-run\nmonitr: val_loss\n');
  const bad = ckpt(['audit', 'lightning', '--policy', policy, metrics, 'ckpts'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stdout, new RegExp(`^unreadable: ${policy}:2:1: monitr: unknown option 'monitr' \\(did you mean 'monitor'\\?\\)`));
  assert.doesNotMatch(bad.stdout + bad.stderr, STACK);
});
