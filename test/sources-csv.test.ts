/**
 * The CSVLogger reader: columns by name, empty cell vs nan, blank epochs, CRLF/LF, quoted names,
 * and errors that name the file, line and column; random files as Python's csv module writes them
 * read back with their values and line numbers, however the reads are chunked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { readCsvLog, parseMetricCell } from '../src/sources/csv.ts';
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

// ---- quoting, line ends, chunking and line numbers: files written the way Python's csv module writes them ----

/** Python's float repr of the values the property writes. */
function pyRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Object.is(v, -0)) return '-0.0';
  return String(v);
}

/** A cell as csv.writer writes it: quoted when it must be (or, at random, when it need not). */
function quoteCell(s: string, always: boolean): string {
  return always || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Lines before `text` ends: LF, CRLF and a lone CR each end one. */
const linesIn = (text: string) => (text.match(/\r\n|\r|\n/g) ?? []).length;

const metricName = fc
  .oneof(fc.constantFrom('train/loss', 'a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', 'lone\rcr', 'é', ' padded '), fc.string({ minLength: 1, maxLength: 6 }))
  .filter((n) => n !== 'step' && n !== 'epoch');
const metricValue = fc.oneof(fc.constant(undefined), fc.double(), fc.integer(), fc.constantFrom(NaN, Infinity, -Infinity, 0));

test('any file written as Python writes CSV reads back: quoted names, empty cells, CRLF/LF/CR, blank lines, BOM, any chunking, true line numbers', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(metricName, { minLength: 1, maxLength: 3 }),
      fc.array(fc.tuple(fc.option(fc.nat(50)), fc.nat(10_000), fc.array(metricValue, { minLength: 3, maxLength: 3 }), fc.boolean()), { minLength: 0, maxLength: 8 }),
      fc.constantFrom('\n', '\r\n', '\r'),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 1, max: 40 }),
      async (names, rows, eol, quoteAll, bom, chunkSize) => {
        const header = ['epoch', 'step', ...names];
        let text = (bom ? '\ufeff' : '') + header.map((c) => quoteCell(c, quoteAll)).join(',') + eol;
        const expected: [number, number | null, [string, number][], number][] = [];
        for (const [epoch, step, values, blankBefore] of rows) {
          if (blankBefore) text += eol;
          const line = linesIn(text) + 1;
          const cells = values.slice(0, names.length).map((v) => (v === undefined ? '' : pyRepr(v)));
          text += [epoch === null ? '' : String(epoch), String(step), ...cells].map((c) => quoteCell(c, quoteAll)).join(',') + eol;
          const metrics = names.flatMap((n, i): [string, number][] => (values[i] === undefined ? [] : [[n, values[i]!]]));
          expected.push([step, epoch, metrics, line]);
        }
        const path = write(`prop-${run++}.csv`, text);
        const got: LogRecord[] = [];
        for await (const b of readCsvLog(path, { chunkSize })) got.push(...b);
        assert.deepEqual(
          got.map((r) => [r.step, r.epoch, [...r.metrics], r.origin.line]),
          expected,
        );
      },
    ),
    { numRuns: 200 },
  );
});

test('line numbers count the line breaks inside quoted cells (CRLF once) and the blank lines skipped', async () => {
  const p = write('lines.csv', 'epoch,step,"a\r\nb","c\nd"\r\n0,1,2,\r\n\r\n0,3,,4\r\n"0",5,"6",""');
  const { records } = await readAll(p);
  assert.deepEqual(
    records.map((r) => [r.origin.line, r.step, Object.fromEntries(r.metrics)]),
    [
      [4, 1, { 'a\r\nb': 2 }],
      [6, 3, { 'c\nd': 4 }],
      [7, 5, { 'a\r\nb': 6 }],
    ],
  );
  await assert.rejects(readAll(write('lines-bad.csv', 'epoch,step,"x\ny"\n\n0,1,oops\n')), /lines-bad\.csv:4: x\ny: expected a number/);
});

test('a quote inside an unquoted cell is a character, as in Python; a quote never closed names the line it opens on', async () => {
  const { records } = await readAll(write('inner-quote.csv', 'epoch,step,say "hi"\n0,1,2\n'));
  assert.deepEqual([...records[0]!.metrics], [['say "hi"', 2]]);
  await assert.rejects(readAll(write('unclosed.csv', 'epoch,step,a\n0,1,2\n\n0,2,"3\n0,3,4\n')), /unclosed\.csv:4: a quoted field opened on line 4 is never closed/);
});
