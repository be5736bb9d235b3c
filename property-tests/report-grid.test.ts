/**
 * The text reports draw their tables themselves when every cell is plain ASCII: for any head, rows
 * (multi-line cells, blanks, spaces) and fixed column widths, the drawing is cli-table3's own,
 * character for character; cells it cannot vouch for (wide or combining characters, escapes, cells
 * longer than their column) go to cli-table3, so those are equal by construction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cliTable, drawGrid } from '../src/report/textGrid.ts';
import { fitColumnWidths, grid, wrapText } from '../src/report/table.ts';

const word = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9=./_-]{0,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a b', 'x\ny', 'line\n\nend', 'é', '世界', '\t', '\u001b[31mred\u001b[0m', 'ｗｉｄｅ') },
);
const cell = fc.array(word, { maxLength: 4 }).map((ws) => ws.join(' '));

const tables = fc.integer({ min: 1, max: 5 }).chain((n) =>
  fc.record({
    head: fc.oneof(fc.constant([] as string[]), fc.array(cell, { minLength: n, maxLength: n })),
    rows: fc.array(fc.array(cell, { minLength: n, maxLength: n }), { minLength: 1, maxLength: 6 }),
    width: fc.option(fc.integer({ min: 10, max: 80 })),
  }),
);

test('every table is drawn as cli-table3 draws it, with and without fixed column widths', () => {
  fc.assert(
    fc.property(tables, ({ head, rows, width }) => {
      assert.equal(drawGrid(head, rows, null), cliTable(head, rows, null));
      if (width === null) return;
      // as grid() does for a terminal: columns fitted to its width, cells wrapped to them
      const natural = Array.from({ length: rows[0]!.length }, (_, i) => Math.max(...[head, ...rows].map((r) => Math.max(0, ...(r[i] ?? '').split('\n').map((l) => [...l].length)))) + 2);
      const widths = fitColumnWidths(natural, width) ?? natural;
      const wrapped = rows.map((r) => r.map((c, i) => wrapText(c, widths[i]! - 2)));
      assert.equal(drawGrid(head, wrapped, widths), cliTable(head, wrapped, widths));
    }),
    { seed: 14014, numRuns: 400 },
  );
});

test('a decisions-like table of ASCII cells is drawn without cli-table3 and equals it', () => {
  const rows = Array.from({ length: 50 }, (_, i) => [String(i), String(i * 1000), i % 3 ? 'save' : 'remove', `/tmp/run/checkpoints/epoch=${i}-step=${i * 1000}.ckpt`, `epoch ${i}: val_loss ${1 / (i + 1)} entered the top 3`]);
  const head = ['epoch', 'step', 'action', 'path', 'why'];
  assert.equal(grid(head, rows, {}), cliTable(head, rows, null));
  assert.equal(grid(head, rows, { width: 60 }).split('\n').every((l) => l.length <= 60), true);
});
