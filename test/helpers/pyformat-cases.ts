/** The Python-generated formatting fixture (test/fixtures/pyformat-cases.json) and how to compare with it. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PyFormatError, type PyValue } from '../../src/core/format/pyformat.ts';

/** What Python did: an output string, or an exception type and message. */
export type Outcome = { readonly out: string } | { readonly error: { readonly type: string; readonly message: string } };

/** The whole fixture file, read once; each test file types the part it uses. */
export const pyformatFixture: unknown = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/pyformat-cases.json', import.meta.url)), 'utf8'));

/** Floats are stored as Python repr() strings. */
export function decodePyValue(type: 'int' | 'float', value: number | string): PyValue {
  if (type === 'int') return { type, value: value as number };
  const special: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity };
  return { type: 'float', value: special[value as string] ?? Number(value) };
}

/** Runs f and returns what happened in the fixture's shape. */
export function outcomeOf(f: () => string): Outcome {
  try {
    return { out: f() };
  } catch (e) {
    if (!(e instanceof PyFormatError)) throw e;
    return { error: { type: e.pyType, message: e.message } };
  }
}
