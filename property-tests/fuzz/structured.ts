/**
 * Seeded mutations of JSON documents by structure (trainer_state.json, Keras History dumps, JSON
 * lines): array entries swapped and duplicated (step regressions, repeated rows), numbers made huge,
 * negative, non-finite or of another type, keys dropped. Python's json writes NaN and Infinity as
 * bare words, which JSON.parse refuses: they are carried through as placeholders.
 */
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Raw JSON tokens a number is replaced by (written as is, so 1e400 and NaN reach the reader). */
const TOKENS = ['1e400', '-1e400', 'NaN', 'Infinity', '-Infinity', '-1', '-0', '9007199254740993', '100000000000', '1e308', '"3"', 'null', 'true', '[]', '{}', '0.5', '-100000000000'];

const PH = '@@fuzz:';
const hold = (text: string) => text.replace(/(?<=[:\[,\s])(-?Infinity|NaN)(?=[\s,\]}])/g, (t) => `"${PH}${t}"`);
const release = (text: string) => text.replace(new RegExp(`"${PH}([^"]*)"`, 'g'), '$1');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Slot = { parent: Json[] | { [k: string]: Json }; key: string | number };

function slots(v: Json, out: Slot[], arrays: Json[][], depth = 0): void {
  if (depth > 50 || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    arrays.push(v);
    v.forEach((x, i) => (out.push({ parent: v, key: i }), slots(x, out, arrays, depth + 1)));
  } else for (const k of Object.keys(v)) out.push({ parent: v, key: k }), slots(v[k]!, out, arrays, depth + 1);
}

/** One to three structural mutations of a JSON text, or the text unchanged when it does not parse. */
export function mutateJson(text: string, r: () => number): string {
  let doc: Json;
  try {
    doc = JSON.parse(hold(text)) as Json;
  } catch {
    return text;
  }
  const all: Slot[] = [];
  const arrays: Json[][] = [];
  slots(doc, all, arrays);
  const nums = all.filter((s) => typeof (s.parent as Record<string | number, Json>)[s.key] === 'number' || String((s.parent as Record<string | number, Json>)[s.key]).startsWith(PH));
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    switch (pick(r, ['number', 'number', 'swap', 'dup', 'drop', 'regress'] as const)) {
      case 'number': {
        if (nums.length === 0) break;
        const s = pick(r, nums);
        (s.parent as Record<string | number, Json>)[s.key] = `${PH}${pick(r, TOKENS)}`;
        break;
      }
      case 'swap': {
        const a = arrays.filter((x) => x.length > 1);
        if (a.length === 0) break;
        const xs = pick(r, a);
        const i = Math.floor(r() * xs.length);
        const j = Math.floor(r() * xs.length);
        [xs[i], xs[j]] = [xs[j]!, xs[i]!];
        break;
      }
      case 'dup': {
        const a = arrays.filter((x) => x.length > 0);
        if (a.length === 0) break;
        const xs = pick(r, a);
        const i = Math.floor(r() * xs.length);
        xs.splice(i, 0, structuredClone(xs[i]!));
        break;
      }
      case 'drop': {
        if (all.length === 0) break;
        const s = pick(r, all);
        if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
        else delete s.parent[s.key as string];
        break;
      }
      case 'regress': {
        const steps = nums.filter((s) => /step|epoch/.test(String(s.key)));
        if (steps.length === 0) break;
        const s = pick(r, steps);
        const v = (s.parent as Record<string | number, Json>)[s.key];
        (s.parent as Record<string | number, Json>)[s.key] = typeof v === 'number' ? Math.floor(v / 2) - 1 : 0;
        break;
      }
    }
  }
  const indent = /\n {2}"/.test(text) ? 2 : /\n {4}"/.test(text) ? 4 : undefined;
  return release(JSON.stringify(doc, null, indent)) + (text.endsWith('\n') ? '\n' : '');
}
