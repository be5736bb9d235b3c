/**
 * Real logs from public projects (../shared/data/lightning-csv and ../shared/data/tfevents, read
 * in place): every file reads, with the row counts its MANIFEST lists, and every file can be
 * simulated; a few small ones are worked through by hand. Skipped when the data is not there.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/core/config.ts';
import { readCsvLog } from '../src/sources/csv.ts';
import { openLog } from '../src/sources/open.ts';
import { simulate, type PolicyResult } from '../src/simulate/run.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const data = join(root, '../shared/data');
const csvDir = join(data, 'lightning-csv');
const tbDir = join(data, 'tfevents');
const skip = existsSync(csvDir) && existsSync(tbDir) ? false : `${data} is absent (the shared public logs are not on this machine)`;

/** "data rows" per file, from the MANIFEST's CSV table. */
function manifestRows(): Map<string, number> {
  const text = readFileSync(join(data, 'MANIFEST.md'), 'utf8');
  const lines = text.split('\n');
  const headerAt = lines.findIndex((l) => l.startsWith('| file |') && l.includes('data rows'));
  const cols = lines[headerAt]!.split('|').map((c) => c.trim());
  const at = cols.indexOf('data rows');
  const out = new Map<string, number>();
  for (const l of lines.slice(headerAt + 2)) {
    if (!l.startsWith('|')) break;
    const c = l.split('|').map((x) => x.trim());
    out.set(c[1]!, Number(c[at]!.replace(/,/g, '')));
  }
  return out;
}

async function one(file: string, options: Record<string, unknown>, size = 1e9): Promise<PolicyResult> {
  const r = await simulate({ policies: [{ name: 'p', config: parseConfig(options) }], logs: openLog(file), cwd: '/run', ckptSize: size });
  return r.policies[0]!;
}

describe('public CSVLogger files', { skip }, () => {
  const files = skip ? [] : readdirSync(csvDir).filter((f) => f.endsWith('.csv')).sort();
  const rows = skip ? new Map<string, number>() : manifestRows();

  test('all 35 files are here and listed in the MANIFEST', () => {
    assert.equal(files.length, 35);
    for (const f of files) assert.ok(rows.has(f), f);
  });

  for (const f of files) {
    test(`${f}: reads with the MANIFEST's row count; simulates without throwing`, async () => {
      let n = 0;
      for await (const b of readCsvLog(join(csvDir, f))) n += b.length;
      assert.equal(n, rows.get(f));
      const p = await one(join(csvDir, f), {});
      assert.deepEqual(p.errors, []);
    });
  }

  test('01-glitch-classification, top-1 on val_loss: epoch 0 then epoch 1 (69 batches each, inferred)', async () => {
    const p = await one(join(csvDir, '01-glitch-classification.csv'), { monitor: 'val_loss', save_top_k: 1, dirpath: 'ckpts' });
    assert.deepEqual(p.saves.map((s) => s.path), ['ckpts/epoch=0-step=69.ckpt', 'ckpts/epoch=1-step=138.ckpt']);
    assert.deepEqual(p.kept.map((k) => k.path), ['ckpts/epoch=1-step=138.ckpt']);
    assert.deepEqual(p.bestObserved, { metric: 'val_loss', value: 0.14366206526756287, epoch: 1, step: 138, logStep: 137 });
    assert.equal(p.regret, 0);
    assert.equal(p.bytesWritten, 2e9);
    assert.equal(p.peakBytes, 2e9);
    assert.deepEqual(p.undetermined, []);
  });

  test('34-news-recommendation, top-3 + last on a loss that falls every epoch: 20 writes, peak 5 files', async () => {
    const p = await one(join(csvDir, '34-news-recommendation.csv'), { monitor: 'val_loss', save_top_k: 3, save_last: true, dirpath: 'ckpts' });
    assert.deepEqual(p.kept.map((k) => k.path), ['ckpts/epoch=7-step=1104.ckpt', 'ckpts/epoch=8-step=1242.ckpt', 'ckpts/epoch=9-step=1380.ckpt', 'ckpts/last.ckpt']);
    assert.equal(p.checkpointsWritten, 20);
    assert.equal(p.peakFiles, 5);
    assert.equal(p.peakBytes, 5e9);
    assert.equal(p.regret, 0);
    assert.deepEqual(p.bestObserved, { metric: 'val_loss', value: 1.6802343130111694, epoch: 9, step: 1380, logStep: 1379 });
  });

  test('24-variational-diffusion-cdm, val_acc max: the test row after fit is not a validation', async () => {
    const p = await one(join(csvDir, '24-variational-diffusion-cdm.csv'), { monitor: 'val_acc', mode: 'max', save_top_k: 1, dirpath: 'ckpts' });
    assert.deepEqual(p.saves.map((s) => s.path), ['ckpts/epoch=0-step=860.ckpt', 'ckpts/epoch=1-step=1720.ckpt', 'ckpts/epoch=2-step=2580.ckpt']);
    assert.deepEqual(p.bestObserved, { metric: 'val_acc', value: 0.9449999928474426, epoch: 2, step: 2580, logStep: 2579 });
    assert.equal(p.peakFiles, 2);
    assert.equal(p.regret, 0);
  });

  test('19-erav1-session13-nan: NaN training losses read as NaN, never as the best', async () => {
    const p = await one(join(csvDir, '19-erav1-session13-nan.csv'), { monitor: 'train_loss', save_top_k: 1 });
    assert.ok(p.bestObserved !== null && Number.isFinite(p.bestObserved.value));
  });

  test('a monitor the log never has raises as Lightning would (MisconfigurationException), not a crash of ours', async () => {
    const p = await one(join(csvDir, '04-fjspt-rl4co.csv'), { monitor: 'val_loss' });
    assert.equal(p.errors[0]?.errorType, 'MisconfigurationException');
    const q = await one(join(csvDir, '04-fjspt-rl4co.csv'), { monitor: 'val/reward', mode: 'max' });
    assert.deepEqual(q.errors, []);
    assert.equal(q.kept.length, 1);
  });

  test('12-conditional-wgan starts at epoch 141: reported as a resume the log does not show', async () => {
    const p = await one(join(csvDir, '12-conditional-wgan.csv'), {});
    assert.match(p.undetermined[0]!.reason, /^the log starts at epoch 141, global step/);
  });
});

describe('public TensorBoard event files', { skip }, () => {
  const files = skip ? [] : readdirSync(tbDir).flatMap((d) => readdirSync(join(tbDir, d)).map((f) => join(d, f))).sort();

  test('all 6 files are here', () => assert.equal(files.length, 6));

  for (const f of files) {
    test(`${f}: simulates without throwing`, async () => {
      const p = await one(join(tbDir, f), { monitor: 'val_loss', save_top_k: 2 });
      const hasVal = !/45742\.1|3980\.0/.test(f); // two files hold no training scalars at all (MANIFEST)
      if (hasVal) assert.equal(p.kept.length, 2);
      else assert.deepEqual([p.kept.length, p.checkpointsWritten], [0, 0]);
    });
  }

  test('02-tft-network colab_0927 starts at step 8502, epoch 13: reported as a resume the log does not show', async () => {
    const r = await simulate({ policies: [{ name: 'p', config: parseConfig({ monitor: 'val_loss' }) }], logs: openLog(join(tbDir, '02-tft-network/events.out.tfevents.1695806444.fb3a92d89a9b.2865.0')), cwd: '/run' });
    assert.equal(r.fits.length, 1);
    assert.equal(r.fits[0]!.start?.how, 'unknown-resume'); // MANIFEST: a resumed run starting at step 8502, epoch 13
    assert.equal(r.fits[0]!.start?.epoch, 13);
  });
});
