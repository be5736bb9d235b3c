/**
 * Tables on a terminal fit its width: the widest columns wrap (paths cut after a '/', text at
 * spaces, nothing dropped); piped or redirected output keeps every cell on one line, as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseConfig } from '../src/core/config.ts';
import { openLog } from '../src/sources/open.ts';
import { simulate } from '../src/simulate/run.ts';
import { fitColumnWidths, renderCompareTable, renderSimulateTable, wrapText } from '../src/report/table.ts';
import { CKPT, ckpt, root } from './helpers/cli.ts';

const run008 = join(root, 'test/fixtures/lightning-runs/runs/008-val-half-epoch-topk2');
const POLICIES = ['{name: as-run, dirpath: ckpts, monitor: val_loss, save_top_k: 2}', '{name: top-1, dirpath: ckpts, monitor: val_loss}', '{name: last-only, dirpath: ckpts, save_top_k: 0, save_last: true}'];

/** the lines of the tables (box drawing), in terminal columns */
const tableLines = (text: string) => text.split(/\r?\n/).filter((l) => /^[┌│└├]/.test(l));
const widest = (text: string) => Math.max(...tableLines(text).map((l) => [...l].length));
/** the tables' characters, borders and spaces aside, sorted: wrapping moves them, truncation would drop some */
const content = (text: string) => [...tableLines(text).join('').replace(/[┌┐└┘├┤┬┴┼─│\s]/g, '')].sort().join('');

test('fitColumnWidths: null when the table fits; else the widest columns give way first, narrow ones keep their width', () => {
  assert.equal(fitColumnWidths([7, 6, 8, 40, 30], 97), null); // 91 + 6 borders
  const w = fitColumnWidths([7, 6, 8, 60, 90], 80)!;
  assert.equal(w.reduce((a, b) => a + b, 0) + 6, 80);
  assert.deepEqual(w.slice(0, 3), [7, 6, 8]);
  assert.ok(Math.abs(w[3]! - w[4]!) <= 1, String(w));
  assert.deepEqual(fitColumnWidths([30, 90], 80), [30, 47]); // only the column that is too wide shrinks
  // narrower than the columns' minimum: the narrowest table there is
  assert.deepEqual(fitColumnWidths([7, 6, 8, 60, 90], 20), [7, 6, 8, 8, 8]);
});

test('wrapText: lines of at most the width, words kept whole where they fit, long paths cut after a "/", nothing lost', () => {
  const why = 'epoch 1, step 12: periodic checkpoint (no monitor) at the end of the training epoch';
  const wrapped = wrapText(why, 24);
  assert.deepEqual(wrapped.split('\n'), ['epoch 1, step 12:', 'periodic checkpoint (no', 'monitor) at the end of', 'the training epoch']);
  const path = 'logs/csv/version_0/checkpoints/epoch=11-step=72.ckpt';
  assert.deepEqual(wrapText(path, 25).split('\n'), ['logs/csv/version_0/', 'checkpoints/', 'epoch=11-step=72.ckpt']);
  assert.deepEqual(wrapText('x'.repeat(25), 10).split('\n'), ['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  assert.equal(wrapText(why, 200), why);
});

test('simulate and compare tables fitted to 80 and 100 columns keep every word; without a width they are as before', async () => {
  const result = await simulate({
    policies: POLICIES.map((p, i) => ({ name: ['as-run', 'top-1', 'last-only'][i]!, config: parseConfig({ dirpath: 'ckpts', ...(i === 0 ? { monitor: 'val_loss', save_top_k: 2 } : i === 1 ? { monitor: 'val_loss' } : { save_top_k: 0, save_last: true }) }) })),
    logs: openLog(join(run008, 'logs/csv/version_0/metrics.csv')),
    cwd: '/elsewhere', // absolute paths: the widest tables
    metric: { name: 'val_loss', mode: 'min' },
    ckptSize: 1.5e9,
  });
  const one = { ...result, policies: [result.policies[0]!] };
  for (const render of [(w?: number) => renderSimulateTable(one, w === undefined ? {} : { width: w }), (w?: number) => renderCompareTable(result, w === undefined ? {} : { width: w })]) {
    const natural = render();
    assert.ok(widest(natural) > 120, `the case is wide enough to matter (${widest(natural)})`);
    assert.equal(render(1000), natural); // a width it fits in changes nothing
    for (const width of [80, 100]) {
      const fitted = render(width);
      assert.equal(widest(fitted), width);
      assert.equal(content(fitted), content(natural));
    }
  }
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

test('ckpt compare on a terminal of 100 columns fits it; piped, the table keeps its natural width', { skip: !hasScript && 'util-linux script(1) is not installed' }, () => {
  const args = ['compare', ...POLICIES, '--metric', 'val_loss', '--ckpt-size', '1.5GB', '--no-progress', 'logs/csv/version_0/metrics.csv'];
  const piped = ckpt(args, run008);
  assert.equal(piped.code, 0, piped.stderr);
  assert.ok(widest(piped.stdout) > 100, String(widest(piped.stdout)));
  const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  const command = `stty cols 100; ${[process.execPath, ...CKPT, ...args].map(quote).join(' ')}`;
  const tty = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: run008, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(tty.status, 0, tty.stdout + tty.stderr);
  assert.equal(widest(tty.stdout), 100, tty.stdout);
  assert.equal(content(tty.stdout), content(piped.stdout));
});
