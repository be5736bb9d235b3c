/** `--format json` and the default table, on the hand-checked tiny log (see simulate-figures.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { parseConfig } from '../src/core/config.ts';
import { runFactsFrom } from '../src/sources/loopFacts.ts';
import { openLog } from '../src/sources/open.ts';
import { simulate, type SimulationResult } from '../src/simulate/run.ts';
import { jnum, renderJson } from '../src/report/json.ts';
import { renderCompareTable, renderSimulateTable } from '../src/report/table.ts';

const tiny = fileURLToPath(new URL('./fixtures/logs/tiny-val.csv', import.meta.url));

async function sim(policies: Record<string, Record<string, unknown>>): Promise<SimulationResult> {
  const facts = runFactsFrom({ num_training_batches: 4, log_every_n_steps: 2 }, null);
  if (E.isLeft(facts)) throw new Error('facts');
  return simulate({
    policies: Object.entries(policies).map(([name, o]) => ({ name, config: parseConfig({ dirpath: 'ckpts', ...o }) })),
    logs: openLog(tiny),
    run: facts.right,
    cwd: '/run',
    ckptSize: 1e9,
  });
}

test('json: one object with a policies array holding every required figure', async () => {
  const out = JSON.parse(renderJson(await sim({ top1: { monitor: 'val_loss' } }))) as { policies: Record<string, unknown>[] };
  assert.equal(out.policies.length, 1);
  const p = out.policies[0]!;
  for (const k of ['name', 'saves', 'removals', 'kept', 'best', 'bestObserved', 'regret', 'bytesWritten', 'peakBytes', 'undetermined']) assert.ok(k in p, k);
  assert.equal(p.name, 'top1');
  assert.deepEqual(p.options, { dirpath: 'ckpts', monitor: 'val_loss' });
  assert.deepEqual(p.kept, [{ path: 'ckpts/epoch=1-step=8.ckpt', type: 'file', score: 0.5, epoch: 1, step: 8 }]);
  assert.deepEqual(p.best, { path: 'ckpts/epoch=1-step=8.ckpt', score: 0.5 });
  assert.deepEqual(p.bestObserved, { metric: 'val_loss', value: 0.5, epoch: 1, step: 8, logStep: 7 });
  assert.equal(p.regret, 0);
  assert.equal(p.bytesWritten, 2e9);
  assert.equal(p.peakBytes, 2e9);
  assert.deepEqual(p.undetermined, []);
  const saves = p.saves as { path: string; rule: string; trigger: string; reason: string }[];
  assert.deepEqual(saves.map((s) => [s.path, s.rule, s.trigger]), [
    ['ckpts/epoch=0-step=4.ckpt', 'topK', 'trainEpochEnd'],
    ['ckpts/epoch=1-step=8.ckpt', 'topK', 'trainEpochEnd'],
  ]);
  assert.equal(saves[1]!.reason, 'epoch 1, step 8: val_loss 0.5 entered the top 1 (beat the k-th value 0.9) at the end of the training epoch');
  assert.deepEqual(p.removals, [{ fit: 0, epoch: 1, step: 8, path: 'ckpts/epoch=0-step=4.ckpt', rule: 'displaced', reason: 'pushed out of the top k by ckpts/epoch=1-step=8.ckpt (score 0.5)' }]);
});

test('json: non-finite numbers are strings, as in the JSONL events', () => {
  assert.deepEqual([jnum(NaN), jnum(Infinity), jnum(-Infinity), jnum(1.5), jnum(null)], ['NaN', 'Infinity', '-Infinity', 1.5, null]);
});

test('table: every save and removal with its reason, the kept files, the figures', async () => {
  const text = renderSimulateTable(await sim({ 'top-2 + last': { monitor: 'val_loss', save_top_k: 2, save_last: true } }));
  for (const line of [
    'ckpts/epoch=2-step=12.ckpt │ epoch 2, step 12: val_loss 0.7 entered the top 2 (beat the k-th value 0.9) at the end of the training epoch',
    'ckpts/epoch=0-step=4.ckpt  │ pushed out of the top k by ckpts/epoch=2-step=12.ckpt (score 0.7)',
    'ckpts/last.ckpt            │ epoch 3, step 16: last checkpoint updated at the end of the training epoch',
  ]) {
    assert.ok(text.includes(line), `missing: ${line}\n${text}`);
  }
  assert.match(text, /│ peak storage\s+│ 4 GB\s+│/);
  assert.match(text, /│ bytes written\s+│ 8 GB\s+│/);
  assert.match(text, /│ regret\s+│ 0\s+│/);
  assert.ok(text.includes('every decision is determined by the log'));
});

test('compare table: the figures side by side, one column per policy', async () => {
  const text = renderCompareTable(await sim({ top1: { monitor: 'val_loss' }, newest: { save_top_k: 1 } }));
  const header = text.split('\n').find((l) => l.includes('top1'))!;
  assert.match(header, /│\s+│ top1\s+│ newest\s+│/);
  assert.match(text, /│ checkpoints written\s+│ 2\s+│ 4\s+│/);
  assert.match(text, /newest: kept ckpts\/epoch=3-step=16\.ckpt/);
});
