/**
 * format(value, spec) and repr() against CPython 3.11: every case in fixtures/pyformat-cases.json
 * (made by fixtures/gen-pyformat-cases.py), plus readable spot checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PyFormatError, formatValue, pyFloatRepr, pyStrListRepr, pyStrRepr, type PyValue } from '../src/core/format/pyformat.ts';
import { decodePyValue, outcomeOf, pyformatFixture, type Outcome } from './helpers/pyformat-cases.ts';

type EncodedValue = { readonly type: 'float'; readonly value: string } | { readonly type: 'int'; readonly value: number };
interface Fixture {
  readonly python: string;
  readonly format: readonly ({ readonly value: EncodedValue; readonly spec: string } & Outcome)[];
  readonly strrepr: readonly { readonly string: string; readonly out: string }[];
}

const fixture = pyformatFixture as Fixture;

const decodeValue = (v: EncodedValue): PyValue => decodePyValue(v.type, v.value);

const float = (value: number): PyValue => ({ type: 'float', value });
const int = (value: number): PyValue => ({ type: 'int', value });

test('every format(value, spec) fixture case matches Python', () => {
  assert.ok(fixture.format.length >= 3000, 'fixture too small');
  const failures: string[] = [];
  for (const c of fixture.format) {
    const expected: Outcome = 'error' in c ? { error: c.error } : { out: c.out };
    const got = outcomeOf(() => formatValue(decodeValue(c.value), c.spec));
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      failures.push(`format(${c.value.value} [${c.value.type}], ${JSON.stringify(c.spec)}): ${JSON.stringify(got)} != ${JSON.stringify(expected)}`);
    }
  }
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${fixture.format.length} cases differ`);
});

test('every repr(str) fixture case matches Python', () => {
  for (const c of fixture.strrepr) assert.equal(pyStrRepr(c.string), c.out, JSON.stringify(c.string));
});

test('float digits are rounded on the exact binary value, ties to even', () => {
  assert.equal(formatValue(float(0.125), '.2f'), '0.12'); // exact tie: even
  assert.equal(formatValue(float(0.375), '.2f'), '0.38');
  assert.equal(formatValue(float(2.5), '.0f'), '2');
  assert.equal(formatValue(float(1.005), '.2f'), '1.00'); // 1.00499999999999989...
  assert.equal(formatValue(float(2.675), '.2f'), '2.67');
  assert.equal(formatValue(float(1e22), 'f'), '10000000000000000000000.000000'); // no exponent switch
  assert.equal(formatValue(float(Math.fround(0.1)), ''), '0.10000000149011612');
  assert.equal(formatValue(float(Math.fround(0.1)), '.4f'), '0.1000');
});

test('specials: -0.0, nan and inf', () => {
  assert.equal(formatValue(float(-0), '.2f'), '-0.00');
  assert.equal(formatValue(float(-0), 'z.2f'), '0.00');
  assert.equal(formatValue(float(-0.001), 'z.2f'), '0.00');
  assert.equal(formatValue(float(NaN), '.2f'), 'nan');
  assert.equal(formatValue(float(Infinity), '+08.3f'), '+0000inf'); // Python zero-pads inf too
  assert.equal(formatValue(float(-Infinity), 'E'), '-INF');
});

test('the mini-language: align, sign, grouping, alternate forms, types', () => {
  assert.equal(formatValue(int(3), '.2f'), '3.00'); // int with a float type becomes float
  assert.equal(formatValue(int(7), '03d'), '007');
  assert.equal(formatValue(int(255), '#x'), '0xff');
  assert.equal(formatValue(int(-5), '#010b'), '-0b0000101');
  assert.equal(formatValue(int(1234567), '_x'), '12_d687');
  assert.equal(formatValue(int(123), '04,'), '0,123'); // zero padding is grouped too
  assert.equal(formatValue(int(65), 'c'), 'A');
  assert.equal(formatValue(float(0.5), '.1%'), '50.0%');
  assert.equal(formatValue(float(1234567.5), ',.2f'), '1,234,567.50');
  assert.equal(formatValue(float(3.14159), '*^12.3f'), '***3.142****');
  assert.equal(formatValue(float(0.000123), 'g'), '0.000123');
  assert.equal(formatValue(float(1.0), '.0'), '1e+00'); // no type + precision: 'g' keeping a '.0'
  assert.equal(formatValue(float(1e16), '#'), '1.e+16');
});

test('errors carry the Python exception class and message', () => {
  const raises = (v: PyValue, spec: string, pyType: string, message: string) =>
    assert.deepEqual(outcomeOf(() => formatValue(v, spec)), { error: { type: pyType, message } });
  raises(float(1.5), 'd', 'ValueError', "Unknown format code 'd' for object of type 'float'");
  raises(int(1), '.2d', 'ValueError', 'Precision not allowed in integer format specifier');
  raises(int(1), ',x', 'ValueError', "Cannot specify ',' with 'x'.");
  raises(float(1), 'abc', 'ValueError', "Invalid format specifier 'abc' for object of type 'float'");
  raises(float(1), '.', 'ValueError', 'Format specifier missing precision');
  raises(int(-1), 'c', 'OverflowError', '%c arg not in range(0x110000)');
});

test('repr helpers', () => {
  assert.equal(pyFloatRepr(1e16), '1e+16');
  assert.equal(pyFloatRepr(1.0000000200408773e20), '1.0000000200408773e+20');
  assert.equal(pyFloatRepr(1e-5), '1e-05');
  assert.equal(pyFloatRepr(1), '1.0');
  assert.equal(pyFloatRepr(-0), '-0.0');
  assert.equal(pyFloatRepr(NaN), 'nan');
  assert.equal(pyFloatRepr(-Infinity), '-inf');
  assert.equal(pyStrRepr("it's"), `"it's"`);
  assert.equal(pyStrRepr('a\tb\\'), `'a\\tb\\\\'`);
  assert.equal(pyStrListRepr(['a', 'b']), "['a', 'b']");
  assert.equal(pyStrListRepr([]), '[]');
});
