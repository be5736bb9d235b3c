/**
 * `ckpt recommend` as a user runs it (issue 14): the frontier within the budget, each policy's
 * text pasted back into `ckpt compare` gives the same figures, and bad arguments get clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ckpt, root, STACK } from './helpers/cli.ts';

const fixtures = join(root, 'test/fixtures/lightning-runs/runs');
const picked = ['001-topk1-val-loss', '002-topk3-filename-val-loss', '007-topk2-every3-epochs', '008-val-half-epoch-topk2', '014-nan-val-loss-topk2'];

function lightningLogs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-recommend-'));
  picked.forEach((run, i) => {
    mkdirSync(join(dir, 'lightning_logs', `version_${i}`), { recursive: true });
    copyFileSync(join(fixtures, run, 'logs/csv/version_0/metrics.csv'), join(dir, 'lightning_logs', `version_${i}`, 'metrics.csv'));
  });
  return dir;
}

interface Rec {
  frontier: { text: { yaml: string; python: string }; storage: number; regret: number; totals: { maxPeakFiles: number; checkpointsWritten: number; runsLostBest: number; meanRegret: number } }[];
  candidates: unknown[];
}

test('the frontier within a budget of 2 checkpoints; each policy pasted into ckpt compare gives the same figures', () => {
  const dir = lightningLogs();
  const r = ckpt(['recommend', '--metric', 'val_loss', '--budget', '2', '--format', 'json', 'lightning_logs'], dir);
  assert.equal(r.code, 0, r.stderr);
  const rec = JSON.parse(r.stdout) as Rec;
  assert.equal(rec.candidates.length, 80);
  assert.ok(rec.frontier.length >= 1);
  for (let i = 1; i < rec.frontier.length; i++) {
    // cheaper first, and each step up in storage buys a lower regret (else it would be dominated)
    assert.ok(rec.frontier[i]!.storage > rec.frontier[i - 1]!.storage);
    assert.ok(rec.frontier[i]!.regret < rec.frontier[i - 1]!.regret);
  }
  for (const f of rec.frontier) assert.ok(f.totals.maxPeakFiles <= 2);
  const texts = rec.frontier.map((f) => f.text.yaml);
  const args = texts.length >= 2 ? ['compare', ...texts] : ['compare', texts[0]!, texts[0]!];
  const cmp = ckpt([...args, '--metric', 'val_loss', '--format', 'json', 'lightning_logs'], dir);
  assert.equal(cmp.code, 0, cmp.stderr);
  const totals = (JSON.parse(cmp.stdout) as { totals: { maxPeakFiles: number; checkpointsWritten: number; runsLostBest: number; meanRegret: number }[] }).totals;
  rec.frontier.forEach((f, i) => {
    const t = totals[i]!;
    assert.deepEqual([t.maxPeakFiles, t.checkpointsWritten, t.runsLostBest, t.meanRegret], [f.totals.maxPeakFiles, f.totals.checkpointsWritten, f.totals.runsLostBest, f.totals.meanRegret]);
  });
  const table = ckpt(['recommend', '--metric', 'val_loss', '--budget', '2', '--grid', '{save_top_k: [1, 2], every_n_epochs: [null, 3]}', 'lightning_logs'], dir).stdout;
  assert.match(table, /5 runs, 4 policies; regret on val_loss \(min\); budget: at most 2 checkpoints/);
  assert.match(table, /^1\. ModelCheckpoint\(monitor='val_loss'.*\)$/m);
  assert.match(table, /^ {3}ckpt: '\{monitor: "val_loss".*\}'$/m);
});

test('recommend: clear errors for a missing metric, a byte budget without a size, an empty grid list', () => {
  const dir = lightningLogs();
  const cases: [string[], RegExp][] = [
    [['recommend', 'lightning_logs'], /recommend: give the metric regret is measured on \(--metric val_loss or --metric val_acc:max\)/],
    [['recommend', '--metric', 'val_loss', '--budget', '5GB', 'lightning_logs'], /--budget 5GB: a budget in bytes needs --ckpt-size/],
    [['recommend', '--metric', 'val_loss', '--budget', 'lots', 'lightning_logs'], /--budget: .*give a number of checkpoints \(3\) or a size \(5GB\)/],
    [['recommend', '--metric', 'val_loss', '--grid', '{save_top_k: []}', 'lightning_logs'], /--grid: save_top_k: an empty list leaves no policy to try/],
    [['recommend', '--metric', 'val_loss', '--grid', '[1, 2]', 'lightning_logs'], /--grid: expected a mapping of option names to lists of values/],
  ];
  for (const [args, re] of cases) {
    const r = ckpt(args, dir);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, STACK);
  }
});
