/** Seeded mutations of real logs and policy texts (row swaps, step regressions, huge and negative numbers, truncation, byte flips, CRLF, quoting, duplicated rows). */
import { fileURLToPath } from 'node:url';

export const DATA = process.env.CKPT_FUZZ_DATA ?? fileURLToPath(new URL('../../../shared/data', import.meta.url));

export { rng } from '../../test/helpers/rng.ts';

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const HUGE = ['100000000000', '-1', '-100000000000', '1e308', '9007199254740993', 'NaN', '-0', '350257938432', 'inf', '0x10', ''];

export function mutateCsv(text: string, r: () => number): string {
  const lines = text.split('\n');
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const i = 1 + Math.floor(r() * Math.max(1, lines.length - 2));
    switch (pick(r, ['swap', 'regress', 'huge', 'truncate', 'flip', 'crlf', 'quote', 'dup'] as const)) {
      case 'swap': {
        const j = 1 + Math.floor(r() * Math.max(1, lines.length - 2));
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        break;
      }
      case 'regress': {
        const cells = (lines[i] ?? '').split(',');
        const c = cells.findIndex((_, x) => x <= 1);
        if (c >= 0) cells[1] = String(Math.max(0, Math.floor(Number(cells[1]) / 2) || 0));
        lines[i] = cells.join(',');
        break;
      }
      case 'huge': {
        const cells = (lines[i] ?? '').split(',');
        cells[Math.floor(r() * cells.length)] = pick(r, HUGE);
        lines[i] = cells.join(',');
        break;
      }
      case 'truncate':
        return lines.join('\n').slice(0, Math.floor(r() * text.length));
      case 'flip': {
        const s = lines[i] ?? '';
        const at = Math.floor(r() * (s.length + 1));
        lines[i] = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + s.slice(at + 1);
        break;
      }
      case 'crlf':
        return lines.join('\r\n');
      case 'quote':
        lines[i] = `"${lines[i] ?? ''}`;
        break;
      case 'dup':
        lines.splice(i, 0, lines[i] ?? '');
        break;
    }
  }
  return lines.join('\n');
}

/** Mutations of YAML/JSON text: byte flips, aliases, truncation, duplicated lines, huge numbers. */
export function mutateText(text: string, r: () => number): string {
  let s = text;
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (s.length + 1));
    switch (pick(r, ['flip', 'alias', 'bomb', 'truncate', 'dup', 'huge', 'crlf'] as const)) {
      case 'flip':
        s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + s.slice(at + 1);
        break;
      case 'alias':
        s = s.slice(0, at) + pick(r, ['*m', '*nope', '&a ', '*a', '<<: *m\n']) + s.slice(at);
        break;
      case 'bomb':
        s = 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n' + s;
        break;
      case 'truncate':
        s = s.slice(0, at);
        break;
      case 'dup': {
        const lines = s.split('\n');
        lines.push(pick(r, lines));
        s = lines.join('\n');
        break;
      }
      case 'huge':
        s = s.replace(/\d+/, pick(r, HUGE) || '0');
        break;
      case 'crlf':
        s = s.replace(/\n/g, '\r\n');
        break;
    }
  }
  return s;
}
