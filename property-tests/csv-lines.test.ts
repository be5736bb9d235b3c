/**
 * The CSV reader splits quote-free lines itself and hands the rest of a file to csv-parse from the
 * first line with a quote: for any text (line breaks of every kind, blank lines, quotes, a BOM,
 * cells that are not numbers) and any read size, it gives the records and the error that
 * csv-parse reading the whole file gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readCsvLog } from '../src/sources/csv.ts';

const cell = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }).map(String) },
  { weight: 4, arbitrary: fc.double({ noNaN: true, min: -10, max: 10 }).map((x) => String(Math.fround(x))) },
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('nan', 'inf', '-inf', 'x', ' 1', '"q"', 'a"b', '"a,b"', '"l\nm"', '"open', 'é', '\u00a0') },
);
const lineBreak = fc.constantFrom('\n', '\r\n', '\r', '\r\n', '\n');
const row = fc.array(cell, { minLength: 1, maxLength: 5 }).map((cs) => cs.join(','));
const header = fc.constantFrom('epoch,step,loss,val_loss', 'step,loss', 'epoch,step,"a,b"', 'epoch,loss');
const text = fc
  .tuple(fc.boolean(), header, fc.array(fc.tuple(fc.oneof({ weight: 8, arbitrary: row }, { weight: 1, arbitrary: fc.constant('') }), lineBreak), { maxLength: 40 }), fc.boolean())
  .map(([bom, h, rows, lastBreak]) => {
    let s = `${bom ? '\ufeff' : ''}${h}\n`;
    for (const [r, br] of rows) s += r + br;
    return lastBreak ? s : s.replace(/[\r\n]+$/, '');
  });

type Outcome = { records: unknown[]; error: string | null };

async function read(file: string, splitLines: boolean, chunkSize: number): Promise<Outcome> {
  const records: unknown[] = [];
  try {
    for await (const batch of readCsvLog(file, { splitLines, chunkSize, bad: { skipBad: true, onSkip: (e) => records.push(`skipped ${e.message}`) } })) {
      for (const r of batch) records.push({ step: r.step, epoch: r.epoch, metrics: [...r.metrics], line: r.origin.line });
    }
    return { records, error: null };
  } catch (e) {
    return { records, error: (e as Error).message };
  }
}

test('quote-free lines split by hand read as csv-parse reads them, for any text and read size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'csv-lines-'));
  try {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(text, fc.integer({ min: 1, max: 64 }), async (t, chunk) => {
        const file = join(dir, `m${n++}.csv`);
        writeFileSync(file, t);
        const reference = await read(file, false, 1 << 16);
        assert.deepEqual(await read(file, true, chunk), reference);
        assert.deepEqual(await read(file, true, 1 << 16), reference);
      }),
      { seed: 14, numRuns: Math.round(300 * Number(process.env.FC_RUNS_SCALE ?? 1)) },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
