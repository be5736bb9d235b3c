/**
 * The audit commands as a user runs them, on inputs that are wrong in the ways users met: a policy
 * file written for `ckpt simulate`, a file that is not a decision log, a storage folder that is
 * not there. Each gets the documented status and exit code (docs/audit.md), never a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/core/config.ts';
import { fitEvents } from '../src/core/loop.ts';
import { drive } from '../src/audit/drive.ts';
import { openDecisionLog } from '../src/audit/writer.ts';
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

/** A closed decision log of a short top-2 run saving into `dir`. */
function decisionLog(path: string, dir: string): string {
  const log = openDecisionLog(path);
  drive(log, parseConfig({ dirpath: dir, monitor: 'val_loss', save_top_k: 2 }), [...fitEvents({ epochs: 4, batchesPerEpoch: 3, valMetrics: (e) => ({ val_loss: [0.9, 0.5, 0.7, 0.3][e]! }) })], { cwd: '/' });
  log.close();
  return path;
}

test('audit verify: a file that is not a decision log is unreadable (exit 2); an edited log stays tampered (exit 1)', () => {
  const csv = join(root, 'test/fixtures/logs/tiny-val.csv');
  const r = ckpt(['audit', 'verify', csv]);
  assert.equal(r.code, 2, r.stdout);
  assert.equal(r.stdout, `unreadable: ${csv}: not a decision log: no line is a record (a JSON object ending in a "hash" field); record 1: not valid JSON (Unexpected token 'e', "epoch,step"... is not valid JSON)\n`);
  // loop events (what explain --policy reads) are JSON lines, but not records
  const events = join(tmp, 'loop-events.jsonl');
  writeFileSync(events, [...fitEvents({ epochs: 1, batchesPerEpoch: 2 })].map(encodeLoopEvent).join('\n') + '\n');
  const ev = ckpt(['audit', 'verify', '--json', events]);
  assert.equal(ev.code, 2);
  assert.match((JSON.parse(ev.stdout) as { unreadable: string }).unreadable, /: not a decision log: no line is a record .*; record 1: hash: expected a "hash" field \(64 hex digits\) at the end of the line, found none$/);
  // every record edited (a search and replace over the file) is still tampering, not "unreadable"
  const log = decisionLog(join(tmp, 'edited.jsonl'), '/ckpts');
  writeFileSync(log, readFileSync(log, 'utf8').replaceAll('"/ckpts', '"/elsewhere'));
  const t = ckpt(['audit', 'verify', log]);
  assert.equal(t.code, 1, t.stdout);
  assert.match(t.stdout, /^chain broken: record 1: hash: expected [0-9a-f]{12}… \(recomputed from the record\), found [0-9a-f]{12}…: the record was changed after it was written/m);
  assert.match(t.stdout, /^result: tampered$/m);
  for (const x of [r, ev, t]) assert.doesNotMatch(x.stdout + x.stderr, STACK);
});

test('audit storage: a checkpoint folder that does not exist (or is a file) is unreadable (exit 2), and is not created', () => {
  const missing = join(tmp, 'no-such-ckpts');
  const log = decisionLog(join(tmp, 'storage.jsonl'), missing);
  const r = ckpt(['audit', 'storage', log, missing]);
  assert.equal(r.code, 2, r.stdout);
  assert.equal(r.stdout, `unreadable: cannot read the checkpoint folder ${missing}: no such folder\nresult: unreadable\n`);
  assert.equal(existsSync(missing), false);
  const j = ckpt(['audit', 'storage', '--json', log, missing]);
  assert.equal(j.code, 2);
  assert.deepEqual(JSON.parse(j.stdout), { log, location: missing, status: 'unreadable', exitCode: 2, unreadable: `cannot read the checkpoint folder ${missing}: no such folder` });
  const f = ckpt(['audit', 'storage', log, log]);
  assert.equal(f.code, 2);
  assert.equal(f.stdout, `unreadable: ${log} is not a folder (give the checkpoint folder the log's saves went to)\nresult: unreadable\n`);
  // the folder there and empty: drift (every saved file missing), as before
  mkdirSync(missing);
  const d = ckpt(['audit', 'storage', log, missing]);
  assert.equal(d.code, 1, d.stdout);
  assert.match(d.stdout, /^missing +epoch=3-step=12\.ckpt: saved by record \d+/m);
});
