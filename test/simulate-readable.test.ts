/**
 * Readable output (issue 14): kept lists in step order, the best observed step as checkpoint names
 * write it with the log's own step beside it, one chart panel per metric, and a documented exit
 * code when the simulated Lightning would have raised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/core/config.ts';
import { openLog } from '../src/sources/open.ts';
import { simulate } from '../src/simulate/run.ts';
import { chartSpec } from '../src/report/chart.ts';
import { EXIT_FRAMEWORK_RAISED } from '../src/cli/simulate.ts';
import { ckpt, root } from './helpers/cli.ts';

const run001 = join(root, 'test/fixtures/lightning-runs/runs/001-topk1-val-loss/logs/csv/version_0/metrics.csv');
const tiny = join(root, 'test/fixtures/logs/tiny-val.csv');

/** The CSV's rows with a val_loss, as [epoch, step, value]: the expectation read from the file itself. */
function valRows(file: string): [number, number, number][] {
  const [head, ...rows] = readFileSync(file, 'utf8').trim().split(/\r?\n/).map((l) => l.split(',').map((c) => c.trim()));
  const [e, s, v] = ['epoch', 'step', 'val_loss'].map((n) => head!.indexOf(n));
  return rows.filter((r) => r[v!] !== '' && r[v!] !== undefined).map((r) => [Number(r[e!]), Number(r[s!]), Number(r[v!])]);
}

test('an every-5-epochs policy keeps its files in step order (4, 9, 14), not in text order', async () => {
  const r = await simulate({ policies: [{ name: 'p', config: parseConfig({ dirpath: 'ckpts', every_n_epochs: 5, save_top_k: -1 }) }], logs: openLog(run001), cwd: '/run' });
  const kept = r.policies[0]!.kept;
  assert.deepEqual(kept.map((k) => k.epoch), [4, 9, 14]);
  for (let i = 1; i < kept.length; i++) assert.ok(kept[i]!.step > kept[i - 1]!.step);
  const table = ckpt(['simulate', '--set', 'every_n_epochs=5', '--set', 'save_top_k=-1', '--set', 'dirpath=ckpts', run001]).stdout;
  const listed = [...table.matchAll(/ckpts\/epoch=(\d+)-step=\d+\.ckpt\s+│/g)].map((m) => Number(m[1]));
  assert.deepEqual(listed.slice(-3), [4, 9, 14]);
});

test('best observed: the step as in the checkpoint name, with the step the log wrote beside it', () => {
  const best = valRows(run001).reduce((a, b) => (b[2] < a[2] ? b : a));
  const [epoch, logStep] = best;
  const out = ckpt(['simulate', '--set', 'monitor=val_loss', '--set', 'dirpath=ckpts', run001]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, new RegExp(`best observed +│ [0-9.]+ \\(val_loss, epoch ${epoch}, step ${logStep + 1}; logged at step ${logStep}\\)`));
  assert.match(out.stdout, new RegExp(`ckpts/epoch=${epoch}-step=${logStep + 1}\\.ckpt`));
  const json = JSON.parse(ckpt(['simulate', '--set', 'monitor=val_loss', '--format', 'json', run001]).stdout) as { policies: { bestObserved: { step: number; logStep: number } }[] };
  assert.deepEqual([json.policies[0]!.bestObserved.step, json.policies[0]!.bestObserved.logStep], [logStep + 1, logStep]);
});

test(`a policy Lightning would raise on: the report is printed, and the exit code is ${EXIT_FRAMEWORK_RAISED}`, () => {
  const r = ckpt(['simulate', '--set', 'monitor=val_los', tiny]);
  assert.equal(r.code, EXIT_FRAMEWORK_RAISED, r.stderr);
  assert.match(r.stdout, /error: Lightning would raise MisconfigurationException/);
  assert.match(r.stderr, /policy: Lightning would raise MisconfigurationException \(exit code 3\)/);
  const c = ckpt(['compare', '{name: ok, monitor: val_loss}', '{name: typo, monitor: val_los}', tiny]);
  assert.equal(c.code, EXIT_FRAMEWORK_RAISED);
  assert.match(c.stderr, /typo: Lightning would raise/);
  assert.doesNotMatch(c.stderr, /\bok: Lightning/);
  assert.equal(ckpt(['simulate', '--set', 'monitor=val_loss', tiny]).code, 0);
});

test('compare with two monitors: one chart panel per metric, each with its own axis title and colour', async () => {
  const r = await simulate({
    policies: [
      { name: 'loss', config: parseConfig({ dirpath: 'ckpts', monitor: 'val_loss' }) },
      { name: 'acc', config: parseConfig({ dirpath: 'ckpts', monitor: 'val_acc', mode: 'max' }) },
    ],
    logs: openLog(run001),
    cwd: '/run',
  });
  const spec = chartSpec(r) as unknown as { vconcat: { title: { text: string }; layer?: { mark: { color?: string }; encoding: { y: { title?: string } } }[] }[] };
  const panels = spec.vconcat.filter((v) => v.layer);
  assert.deepEqual(panels.map((p) => p.title.text), ['val_loss over training', 'val_acc over training']);
  assert.deepEqual(panels.map((p) => p.layer![0]!.encoding.y.title), ['val_loss', 'val_acc']);
  assert.notEqual(panels[0]!.layer![0]!.mark.color, panels[1]!.layer![0]!.mark.color);
  // the decisions lane is still the last panel
  assert.equal(spec.vconcat.length, 3);
});
