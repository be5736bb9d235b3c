/**
 * The figures, worked out by hand on test/fixtures/logs/tiny-val.csv: 4 epochs of 4 batches,
 * val_loss 0.9, 0.5, 0.7, 0.6 (float32) logged at the end of each epoch (global steps 4, 8, 12, 16).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { parseConfig } from '../src/core/config.ts';
import { runFactsFrom } from '../src/sources/loopFacts.ts';
import { openLog } from '../src/sources/open.ts';
import { simulate, type MetricChoice, type PolicyResult } from '../src/simulate/run.ts';
import { formatBytes, parseSize } from '../src/simulate/size.ts';
import { BoundedSeries } from '../src/simulate/series.ts';

const tiny = fileURLToPath(new URL('./fixtures/logs/tiny-val.csv', import.meta.url));
const cwd = '/work/run';
const GB = 1e9;
const f = Math.fround;

async function run(options: Record<string, unknown>, metric: MetricChoice | null = null): Promise<PolicyResult> {
  const facts = runFactsFrom({ num_training_batches: 4, log_every_n_steps: 2 }, null);
  if (E.isLeft(facts)) throw new Error('facts');
  const r = await simulate({ policies: [{ name: 'p', config: parseConfig({ dirpath: 'ckpts', ...options }) }], logs: openLog(tiny), run: facts.right, cwd, ckptSize: GB, metric });
  return r.policies[0]!;
}

test('top-1: saves at epochs 0 and 1, keeps epoch 1; regret 0; 2 written; 2 on disk at once (save before removal)', async () => {
  const p = await run({ monitor: 'val_loss', save_top_k: 1 });
  assert.deepEqual(p.saves.map((s) => s.path), ['ckpts/epoch=0-step=4.ckpt', 'ckpts/epoch=1-step=8.ckpt']);
  assert.deepEqual(p.removals.map((s) => s.path), ['ckpts/epoch=0-step=4.ckpt']);
  assert.deepEqual(p.kept.map((k) => [k.path, k.score]), [['ckpts/epoch=1-step=8.ckpt', 0.5]]);
  assert.deepEqual(p.bestObserved, { metric: 'val_loss', value: 0.5, epoch: 1, step: 8, logStep: 7 });
  assert.equal(p.regret, 0);
  assert.equal(p.checkpointsWritten, 2);
  assert.equal(p.peakFiles, 2);
  assert.equal(p.bytesWritten, 2 * GB);
  assert.equal(p.peakBytes, 2 * GB);
});

test('top-2 + last: 4 top-k saves and 4 last saves; peak of 4 files while a displaced one waits for removal', async () => {
  const p = await run({ monitor: 'val_loss', save_top_k: 2, save_last: true });
  // e0 0.9 in; e1 0.5 in; e2 0.7 beats 0.9 (e0 out); e3 0.6 beats 0.7 (e2 out); last.ckpt every time
  assert.deepEqual(p.kept.map((k) => k.path), ['ckpts/epoch=1-step=8.ckpt', 'ckpts/epoch=3-step=16.ckpt', 'ckpts/last.ckpt']);
  assert.equal(p.checkpointsWritten, 8);
  assert.equal(p.peakFiles, 4); // e0, e1, last, then e2 written before e0 goes
  assert.equal(p.bytesWritten, 8 * GB);
  assert.equal(p.peakBytes, 4 * GB);
  assert.equal(p.regret, 0);
  assert.deepEqual(p.best, { path: 'ckpts/epoch=1-step=8.ckpt', score: 0.5 });
});

test('keep only the newest (no monitor), measured on val_loss: regret = 0.6 - 0.5 in float32', async () => {
  const p = await run({ save_top_k: 1 }, { name: 'val_loss', mode: 'min' });
  assert.deepEqual(p.kept.map((k) => k.path), ['ckpts/epoch=3-step=16.ckpt']);
  assert.deepEqual(p.bestKept, { path: 'ckpts/epoch=3-step=16.ckpt', value: f(0.6) });
  assert.equal(p.regret, f(0.6) - f(0.5));
  assert.equal(p.checkpointsWritten, 4);
  assert.equal(p.peakFiles, 2);
});

test('every second epoch, top-1: checks at epochs 1 and 3 only; one file written', async () => {
  const p = await run({ monitor: 'val_loss', save_top_k: 1, every_n_epochs: 2 });
  assert.deepEqual(p.saves.map((s) => s.path), ['ckpts/epoch=1-step=8.ckpt']);
  assert.equal(p.checkpointsWritten, 1);
  assert.equal(p.peakFiles, 1);
  assert.equal(p.regret, 0);
});

test('mode max on val_loss keeps the worst epoch: regret 0.9 - 0.5 measured as min', async () => {
  const p = await run({ monitor: 'val_loss', mode: 'max', save_top_k: 1 }, { name: 'val_loss', mode: 'min' });
  assert.deepEqual(p.kept.map((k) => k.path), ['ckpts/epoch=0-step=4.ckpt']);
  assert.equal(p.regret, f(0.9) - f(0.5));
});

test('without --ckpt-size the byte figures are null, the counts stay', async () => {
  const facts = runFactsFrom({ num_training_batches: 4 }, null);
  if (E.isLeft(facts)) throw new Error('facts');
  const r = await simulate({ policies: [{ name: 'p', config: parseConfig({ monitor: 'val_loss' }) }], logs: openLog(tiny), run: facts.right, cwd });
  assert.equal(r.policies[0]!.bytesWritten, null);
  assert.equal(r.policies[0]!.peakBytes, null);
  assert.equal(r.policies[0]!.checkpointsWritten, 2);
});

test('a NaN monitored value is never the best observed, and a policy on a missing metric raises as Lightning would', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-fig-'));
  const p = join(dir, 'metrics.csv');
  writeFileSync(p, 'epoch,step,val_loss\r\n0,1,nan\r\n1,3,0.5\r\n');
  const facts = runFactsFrom({ num_training_batches: 2 }, null);
  if (E.isLeft(facts)) throw new Error('facts');
  const r = await simulate({
    policies: [
      { name: 'ok', config: parseConfig({ monitor: 'val_loss', save_top_k: 2 }) },
      { name: 'typo', config: parseConfig({ monitor: 'val_los' }) },
    ],
    logs: openLog(p),
    run: facts.right,
    cwd: dir,
  });
  const [ok, typo] = r.policies;
  assert.deepEqual(ok!.bestObserved, { metric: 'val_loss', value: 0.5, epoch: 1, step: 4, logStep: 3 });
  assert.deepEqual(ok!.kept.map((k) => [k.path.split('/').pop(), k.score]), [
    ['epoch=0-step=2.ckpt', Infinity], // NaN scores as +inf in mode min (Lightning)
    ['epoch=1-step=4.ckpt', 0.5],
  ]);
  assert.equal(typo!.errors.length, 1);
  assert.equal(typo!.errors[0]!.errorType, 'MisconfigurationException');
  assert.match(typo!.errors[0]!.message, /could not find the monitored key in the returned metrics: \['val_loss', 'epoch', 'step'\]/);
});

test('checkpoint sizes: decimal and binary units, plain bytes; clear errors', () => {
  assert.equal(parseSize('1.5GB'), 1.5e9);
  assert.equal(parseSize('700MiB'), 700 * 2 ** 20);
  assert.equal(parseSize('123456'), 123456);
  assert.equal(parseSize('2 kb'), 2000);
  assert.deepEqual(parseSize('1.5 GX'), { error: "unknown size unit 'GX' in \"1.5 GX\"; use B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)" });
  assert.deepEqual(parseSize('lots'), { error: 'expected a size like 1.5GB, 700MiB or 123456 (bytes), got "lots"' });
  assert.equal(formatBytes(1.5e9), '1.5 GB');
  assert.equal(formatBytes(999), '999 B');
});

test('the chart series stays bounded and keeps the extremes of a long run', () => {
  const s = new BoundedSeries(100);
  for (let i = 0; i < 100000; i++) s.add({ step: i, epoch: 0, value: i === 77777 ? -5 : Math.sin(i) });
  const pts = s.values();
  assert.ok(pts.length <= 200, `${pts.length} points`);
  assert.ok(pts.some((p) => p.value === -5 && p.step === 77777));
  assert.ok(pts.every((p, i) => i === 0 || pts[i - 1]!.step < p.step));
});
