/**
 * The CSVLogger reader: columns by name, empty cell vs nan, blank epochs, CRLF/LF, quoted names,
 * and errors that name the file, line and column. The tokenizer is checked against csv-parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { readCsvLog, parseMetricCell } from '../src/sources/csv.ts';
import { CsvTokenizer } from '../src/sources/csvTokens.ts';
import { SourceError, type LogRecord } from '../src/sources/records.ts';

const fixtures = fileURLToPath(new URL('./fixtures/logs/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-csv-'));

async function readAll(path: string, skipBad = false): Promise<{ records: LogRecord[]; skipped: SourceError[] }> {
  const records: LogRecord[] = [];
  const skipped: SourceError[] = [];
  for await (const b of readCsvLog(path, { bad: { skipBad, onSkip: (e) => skipped.push(e) } })) records.push(...b);
  return { records, skipped };
}

function write(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

test('a sparse Lightning log: empty cells are not logged, train and val rows share steps', async () => {
  const { records } = await readAll(join(fixtures, 'tiny-val.csv'));
  assert.equal(records.length, 12);
  assert.deepEqual(
    records.slice(0, 3).map((r) => [r.step, r.epoch, [...r.metrics]]),
    [
      [1, 0, [['train_loss', 1.2000000476837158]]],
      [3, 0, [['train_loss', 1.100000023841858]]],
      [3, 0, [['val_loss', 0.8999999761581421]]],
    ],
  );
  assert.deepEqual(records[2]!.origin, { file: join(fixtures, 'tiny-val.csv'), line: 4 });
});

test('odd names: quoted comma, slash, dash, space; first-appearance header; nan and inf; blank epoch', async () => {
  const { records } = await readAll(join(fixtures, 'odd-names.csv'));
  assert.deepEqual(
    records.map((r) => [r.step, r.epoch, Object.fromEntries(r.metrics)]),
    [
      [0, 0, { 'train/loss': 0.5, 'loss, total': 1.5 }],
      [1, 0, { 'train/loss': 0.25, 'loss, total': 1.25, 'episode reward': 3 }],
      [1, 0, { 'val-acc': 0.75 }],
      [2, null, { 'train/loss': NaN, 'loss, total': Infinity }],
    ],
  );
});

test('CRLF, LF and a missing final line break read the same', async () => {
  const rows = ['epoch,step,a', '0,1,0.5', '0,3,0.25'];
  const crlf = await readAll(write('crlf.csv', rows.join('\r\n') + '\r\n'));
  const lf = await readAll(write('lf.csv', rows.join('\n')));
  const strip = (rs: LogRecord[]) => rs.map((r) => [r.step, r.epoch, [...r.metrics], r.origin.line]);
  assert.deepEqual(strip(crlf.records), strip(lf.records));
  assert.equal(crlf.records.length, 2);
});

test('a file without an epoch column reads every row with a blank epoch', async () => {
  const { records } = await readAll(write('noepoch.csv', 'lr-Adam,step\r\n0.001,0\r\n'));
  assert.deepEqual(records.map((r) => [r.step, r.epoch, [...r.metrics]]), [[0, null, [['lr-Adam', 0.001]]]]);
});

test('a bad cell stops the read with file, line, column and what was expected', async () => {
  const path = join(fixtures, 'bad-cell.csv');
  await assert.rejects(readAll(path), (e: unknown) => {
    assert.ok(e instanceof SourceError);
    assert.equal(e.message, `${path}:4: val_loss: expected a number (or nan/inf), got "abc"`);
    return true;
  });
});

test('--skip-bad skips and counts the bad rows and keeps the rest', async () => {
  const { records, skipped } = await readAll(join(fixtures, 'bad-cell.csv'), true);
  assert.deepEqual(records.map((r) => r.step), [3, 7, 15]);
  assert.equal(skipped.length, 1);
  assert.equal(skipped[0]!.origin.line, 4);
});

test('structural errors: no step column, a short row, a duplicate column, a bad step, an empty file', async () => {
  const cases: [string, string, RegExp][] = [
    ['nostep.csv', 'epoch,loss\n0,1\n', /nostep\.csv:1: header: no 'step' column \(columns: epoch, loss\)/],
    ['short.csv', 'epoch,step,loss\n0,1,2\n0,2\n', /short\.csv:3: 2 cells where the header has 3 columns/],
    ['dup.csv', 'epoch,step,loss,loss\n', /dup\.csv:1: header: column 'loss' appears twice \(columns 3 and 4\)/],
    ['badstep.csv', 'epoch,step,loss\n0,x,1\n', /badstep\.csv:2: step: expected a non-negative integer, got "x"/],
    ['badepoch.csv', 'epoch,step,loss\n1.5,1,1\n', /badepoch\.csv:2: epoch: expected a non-negative integer or an empty cell, got "1.5"/],
    ['empty.csv', '', /empty\.csv:1: header: the file is empty/],
    ['quote.csv', 'epoch,step,"loss\n0,1,2\n', /quote\.csv:1: a quoted field opened on line 1 is never closed/],
  ];
  for (const [name, text, re] of cases) {
    await assert.rejects(readAll(write(name, text)), re, name);
  }
});

test('metric cells: Python float reprs, nan/inf spellings; empty and garbage are not numbers', () => {
  assert.equal(parseMetricCell('0.21007005870342255'), 0.21007005870342255);
  assert.equal(parseMetricCell('4.5e-06'), 4.5e-6);
  assert.equal(parseMetricCell('14612101.0'), 14612101);
  assert.ok(Number.isNaN(parseMetricCell('nan')!));
  assert.equal(parseMetricCell('-inf'), -Infinity);
  assert.equal(parseMetricCell('inf'), Infinity);
  assert.equal(parseMetricCell(''), undefined);
  assert.equal(parseMetricCell('abc'), undefined);
});

// ---- the tokenizer against csv-parse --------------------------------------------------------

const cell = fc.oneof(
  fc.constantFrom('', 'a', '1.5', 'nan', 'x y', 'a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', 'é'),
  fc.string({ maxLength: 6 }),
);

function csvText(rows: string[][], eol: string): string {
  const q = (s: string) => (/[",\r\n]/.test(s) || s === '' ? `"${s.replace(/"/g, '""')}"` : s);
  return rows.map((r) => r.map(q).join(',')).join(eol) + eol;
}

test('the tokenizer agrees with csv-parse on random quoted CSV, however the text is chunked', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }).chain((w) => fc.array(fc.array(cell, { minLength: w, maxLength: w }), { minLength: 1, maxLength: 8 })),
      fc.constantFrom('\n', '\r\n'),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
      (rows, eol, cuts) => {
        const text = csvText(rows, eol);
        const expected = parse(text, { relax_quotes: false, skip_empty_lines: true, relax_column_count: true }) as string[][];
        const tok = new CsvTokenizer();
        const got: string[][] = [];
        let pos = 0;
        let i = 0;
        while (pos < text.length) {
          const n = cuts[i++ % cuts.length]!;
          got.push(...tok.push(text.slice(pos, pos + n)).map((r) => r.fields));
          pos += n;
        }
        got.push(...tok.end().map((r) => r.fields));
        assert.deepEqual(got, expected);
      },
    ),
    { numRuns: 300 },
  );
});

test('the tokenizer reports the line each row starts on, counting line breaks inside quotes', () => {
  const tok = new CsvTokenizer();
  const rows = [...tok.push('a,b\r\n"x\r\ny",1\r\n\r\nz,2'), ...tok.end()];
  assert.deepEqual(
    rows.map((r) => [r.line, r.fields]),
    [
      [1, ['a', 'b']],
      [2, ['x\r\ny', '1']],
      [5, ['z', '2']],
    ],
  );
});
