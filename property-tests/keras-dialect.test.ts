/**
 * The Keras dialect's properties.
 * - Best-only saving compares in float32: against a simple model (keep a best; a value is saved
 *   when, rounded to float32, it beats the rounded best; the first value is always taken), over
 *   runs of float32 values, doubles, ties, NaN, ±Infinity and ±0, with and without a threshold.
 * - A double that is better than `best` only in float64 is never saved.
 * - Filepath formatting: every str.format case of the project's Python fixture
 *   (test/fixtures/pyformat-cases.json, made by CPython 3.11) written with keyword fields gives
 *   Python's output or error; every format(value, spec) case inside a template gives the same text.
 * - Options: Keras's snake_case names and tfjs-style camelCase decode to the same arguments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { construct, decodeOptions } from '../src/dialects/keras/options.ts';
import { init, reduce } from '../src/dialects/keras/reduce.ts';
import type { KerasEffect } from '../src/dialects/keras/effects.ts';
import type { KerasEvent } from '../src/dialects/keras/events.ts';
import type { KerasState } from '../src/dialects/keras/state.ts';
import { pyFormatKwargs, type FormatArg } from '../src/dialects/keras/strformat.ts';
import { decodePyValue, outcomeOf, pyformatFixture, type Outcome } from '../test/helpers/pyformat-cases.ts';
import { runs } from './arbitraries.ts';

/** Feeds events, answering every Save with SaveCompleted; returns the epochs (1-based) whose path was written. */
function fold(state: KerasState, events: readonly KerasEvent[]): { saved: string[]; effects: KerasEffect[] } {
  const saved: string[] = [];
  const all: KerasEffect[] = [];
  for (const first of events) {
    const queue = [first];
    for (let ev = queue.shift(); ev; ev = queue.shift()) {
      const [next, effects] = reduce(state, ev);
      state = next;
      for (const e of effects) {
        all.push(e);
        if (e._tag === 'Save') {
          saved.push(e.filepath);
          queue.push({ _tag: 'SaveCompleted' });
        }
      }
    }
  }
  return { saved, effects: all };
}

function bestOnly(mode: 'min' | 'max', values: readonly number[], threshold: number | null): string[] {
  const c = construct({ filepath: 'e{epoch}.keras', monitor: 'val_loss', mode, save_best_only: true, initial_value_threshold: threshold });
  assert.equal(c._tag, 'Constructed');
  const [s] = init(c as Extract<typeof c, { _tag: 'Constructed' }>);
  const events = values.flatMap((v, epoch): KerasEvent[] => [
    { _tag: 'EpochBegan', epoch },
    { _tag: 'EpochEnded', epoch, logs: { loss: 1, val_loss: v }, metrics: [] },
  ]);
  return fold(s, events).saved;
}

/** The model: nothing but a best and a float32 comparison. */
function model(mode: 'min' | 'max', values: readonly number[], threshold: number | null): string[] {
  let best = threshold;
  const out: string[] = [];
  values.forEach((v, i) => {
    const better = best === null || (mode === 'min' ? Math.fround(v) < Math.fround(best) : Math.fround(v) > Math.fround(best));
    if (better) {
      best = v;
      out.push(`e${i + 1}.keras`);
    }
  });
  return out;
}

const special = fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 0.5, Math.fround(0.1), 0.1, 1e-45, 3.4e38);
const f32 = fc.float({ noDefaultInfinity: false, noNaN: false }).map((x) => Math.fround(x));
const value = fc.oneof(f32, fc.double(), special, fc.integer({ min: -3, max: 3 }));

test('keras: best-only saving agrees with a float32 model (seed 0x4e7a01)', () => {
  fc.assert(
    fc.property(fc.constantFrom('min' as const, 'max' as const), fc.array(value, { maxLength: 12 }), fc.option(value, { nil: null }), (mode, values, threshold) => {
      assert.deepEqual(bestOnly(mode, values, threshold), model(mode, values, threshold));
    }),
    { seed: Number(process.env.FC_SEED ?? 0x4e7a01), numRuns: runs(1000) },
  );
});

test('keras: a value better than best only as a double is not an improvement (seed 0x4e7a02)', () => {
  fc.assert(
    fc.property(f32.filter((x) => Number.isFinite(x) && x !== 0), fc.integer({ min: 1, max: 1000 }), (x, k) => {
      // a double strictly below x that rounds back to x in float32
      const below = x - Math.abs(x) * k * 2 ** -40;
      fc.pre(below < x && Math.fround(below) === x);
      assert.deepEqual(bestOnly('min', [x, below], null), ['e1.keras']);
      assert.deepEqual(bestOnly('max', [below, x], null), ['e1.keras']);
    }),
    { seed: Number(process.env.FC_SEED ?? 0x4e7a02), numRuns: runs(500) },
  );
});

// ---- filepath formatting against CPython ------------------------------------------------------

interface StrCase { readonly format: string; readonly metrics: number; readonly out?: string; readonly error?: { type: string; message: string } }
interface FormatCase { readonly value: { type: 'int' | 'float'; value: number | string }; readonly spec: string; readonly out?: string; readonly error?: { type: string; message: string } }
const fixture = pyformatFixture as { strformat: StrCase[]; format: FormatCase[]; metricSets: [string, 'int' | 'float', number | string][][] };

/** `{0[key]...}` as a keyword field `{key...}`, when every field of the format is one and the key is a plain keyword. */
function asKeywords(format: string): string | null {
  let out = '';
  for (let i = 0; i < format.length; ) {
    const c = format[i]!;
    if ((c === '{' || c === '}') && format[i + 1] === c) {
      out += c + c;
      i += 2;
      continue;
    }
    if (c === '{') {
      const m = /^\{0\[([^\].[{}:!]+)\](?=[}:!.[])/.exec(format.slice(i)); // what follows ']' must still parse the same
      if (!m || /^\d+$/.test(m[1]!)) return null;
      out += '{' + m[1];
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

test('keras: filepath str.format with keyword fields matches CPython on the project fixture', () => {
  let n = 0;
  for (const c of fixture.strformat) {
    const kw = asKeywords(c.format);
    if (kw === null) continue;
    const kwargs = new Map<string, FormatArg>(fixture.metricSets[c.metrics]!.map(([k, type, v]) => [k, decodePyValue(type, v)]));
    const expected: Outcome = c.error ? { error: c.error } : { out: c.out! };
    assert.deepEqual(outcomeOf(() => pyFormatKwargs(kw, kwargs)), expected, `${JSON.stringify(c.format)} as ${JSON.stringify(kw)}`);
    n++;
  }
  assert.ok(n >= 150, `only ${n} fixture cases were usable`);
});

test('keras: every format(value, spec) fixture case formats the same inside a filepath', () => {
  for (const c of fixture.format) {
    if (c.spec.includes('{') || c.spec.includes('}')) continue;
    const kwargs = new Map<string, FormatArg>([['val_loss', decodePyValue(c.value.type, c.value.value)]]);
    const expected: Outcome = c.error ? { error: c.error } : { out: `m-${c.out}.keras` };
    assert.deepEqual(outcomeOf(() => pyFormatKwargs(`m-{val_loss:${c.spec}}.keras`, kwargs)), expected, `spec ${JSON.stringify(c.spec)}`);
  }
});

// ---- options -----------------------------------------------------------------------------------

const CAMEL: Record<string, string> = { save_best_only: 'saveBestOnly', save_weights_only: 'saveWeightsOnly', save_freq: 'saveFreq', initial_value_threshold: 'initialValueThreshold' };

test('keras: snake_case and camelCase arguments, in any mix, decode to the same options (seed 0x4e7a03)', () => {
  const args = fc.record(
    {
      filepath: fc.constantFrom('m.keras', '{epoch:02d}.weights.h5', 'a/b.h5'),
      monitor: fc.constantFrom('val_loss', 'acc'),
      verbose: fc.constantFrom(0, 1),
      save_best_only: fc.boolean(),
      save_weights_only: fc.boolean(),
      mode: fc.constantFrom('auto', 'min', 'max'),
      save_freq: fc.oneof(fc.constant('epoch'), fc.integer({ min: -2, max: 50 })),
      initial_value_threshold: fc.option(fc.double({ noNaN: true }), { nil: null }),
    },
    { requiredKeys: ['filepath'] },
  );
  fc.assert(
    fc.property(args, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (a, useCamel) => {
      const mixed = Object.fromEntries(Object.entries(a).map(([k, v], i) => [useCamel[i] && CAMEL[k] ? CAMEL[k] : k, v]));
      const snake = decodeOptions(a);
      const either = decodeOptions(mixed);
      assert.ok(E.isRight(snake) && E.isRight(either));
      assert.deepEqual(either.right, snake.right);
      assert.deepEqual({ ...snake.right }, { ...a });
    }),
    { seed: Number(process.env.FC_SEED ?? 0x4e7a03), numRuns: runs(500) },
  );
});
