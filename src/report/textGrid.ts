/**
 * The box-drawn tables of the text reports, drawn here when every cell is plain ASCII: the same
 * characters cli-table3 draws for them (compact, no colours, no rule under the head), at a fraction
 * of its cost (it measures every cell's width with ANSI- and Unicode-aware code, which a
 * 1,000-decision table pays for thousands of times). Anything else (a wide or combining character,
 * an escape, a tab, a cell longer than a fixed column, rows of uneven length) is left to cli-table3,
 * which is loaded only then.
 */
import { createRequire } from 'node:module';
import type TableType from 'cli-table3';

const PLAIN = { head: [] as string[], border: [] as string[], compact: true };
/** No rule between rows: one line per decision. */
const CHARS = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

/** Printable ASCII and line breaks only: one terminal column per character. */
const PLAIN_TEXT = /^[\x20-\x7e\n]*$/;

/**
 * The table, as cli-table3 with one space of padding either side draws it; `widths` (padding
 * included) fix the columns, whose cells must then already fit (see table.ts's wrapText).
 */
export function drawGrid(head: readonly string[], rows: readonly (readonly string[])[], widths: readonly number[] | null): string {
  return fastGrid(head, rows, widths) ?? cliTable(head, rows, widths);
}

/** cli-table3 itself (loaded on first use: it is CommonJS, so require keeps this synchronous). */
export function cliTable(head: readonly string[], rows: readonly (readonly string[])[], widths: readonly number[] | null): string {
  const Table = createRequire(import.meta.url)('cli-table3') as typeof TableType;
  const t = new Table({ head: [...head], style: PLAIN, chars: CHARS, ...(widths ? { colWidths: [...widths] } : {}) });
  for (const r of rows) t.push([...r]);
  return t.toString();
}

/** The drawing, or null when a cell is not plain ASCII or does not fit its fixed column. */
function fastGrid(head: readonly string[], rows: readonly (readonly string[])[], widths: readonly number[] | null): string | null {
  const all = head.length > 0 ? [head, ...rows] : rows;
  if (all.length === 0) return null;
  const n = all[0]!.length;
  if (n === 0) return null;
  const lines: string[][][] = [];
  const natural: number[] = new Array<number>(n).fill(0);
  for (const r of all) {
    if (r.length !== n) return null;
    const cells: string[][] = [];
    for (let i = 0; i < n; i++) {
      const text = r[i]!;
      if (!PLAIN_TEXT.test(text)) return null;
      const ls = text.split('\n');
      for (const l of ls) if (l.length > natural[i]!) natural[i] = l.length;
      cells.push(ls);
    }
    lines.push(cells);
  }
  const w = widths ?? natural.map((x) => x + 2);
  if (w.length !== n) return null;
  for (let i = 0; i < n; i++) if (natural[i]! > w[i]! - 2) return null;
  const rule = (l: string, m: string, r: string) => l + w.map((x) => '─'.repeat(x)).join(m) + r;
  const out: string[] = [rule('┌', '┬', '┐')];
  for (const cells of lines) {
    const height = Math.max(...cells.map((c) => c.length));
    for (let k = 0; k < height; k++) {
      let line = '│';
      for (let i = 0; i < n; i++) line += ' ' + (cells[i]![k] ?? '').padEnd(w[i]! - 2) + ' │';
      out.push(line);
    }
  }
  out.push(rule('└', '┴', '┘'));
  return out.join('\n');
}
