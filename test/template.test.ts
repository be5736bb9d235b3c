/**
 * Checkpoint-name templates against CPython 3.11 running a copy of Lightning 2.6's _format_checkpoint_name
 * (fixtures/pyformat-cases.json, made by fixtures/gen-pyformat-cases.py), plus readable spot checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PyFormatError, type PyValue } from '../src/core/format/pyformat.ts';
import { decodePyValue, outcomeOf, pyformatFixture, type Outcome } from './helpers/pyformat-cases.ts';
import { compileTemplate, formatCheckpointName, pyFormatMetrics, templateKeys, type NameOptions } from '../src/core/format/template.ts';

type EncodedMetric = readonly [name: string, type: 'float', value: string] | readonly [name: string, type: 'int', value: number];
type TemplateCase = NameOptions & { readonly template: string | null; readonly metrics: number; readonly ver: number | null } & Outcome;
interface Fixture {
  readonly strformat: readonly ({ readonly format: string; readonly metrics: number } & Outcome)[];
  readonly templates: readonly TemplateCase[];
  readonly metricSets: readonly (readonly EncodedMetric[])[];
}

const fixture = pyformatFixture as Fixture;

const metricSets = fixture.metricSets.map((set) => new Map<string, PyValue>(set.map(([name, type, value]): [string, PyValue] => [name, decodePyValue(type, value)])));

const expectedOf = (c: Outcome): Outcome => ('error' in c ? { error: c.error } : { out: c.out });

test('every checkpoint-name fixture case matches Lightning', () => {
  assert.ok(fixture.templates.length >= 200, 'fixture too small');
  const failures: string[] = [];
  for (const c of fixture.templates) {
    const got = outcomeOf(() => formatCheckpointName(c.template, metricSets[c.metrics]!, c, c.ver ?? undefined));
    if (JSON.stringify(got) !== JSON.stringify(expectedOf(c))) {
      failures.push(`${JSON.stringify(c.template)} auto=${c.autoInsertMetricName}: ${JSON.stringify(got)} != ${JSON.stringify(expectedOf(c))}`);
    }
  }
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${fixture.templates.length} cases differ`);
});

test('every str.format(metrics) fixture case matches Python', () => {
  const failures: string[] = [];
  for (const c of fixture.strformat) {
    const got = outcomeOf(() => pyFormatMetrics(c.format, metricSets[c.metrics]!));
    if (JSON.stringify(got) !== JSON.stringify(expectedOf(c))) {
      failures.push(`${JSON.stringify(c.format)}: ${JSON.stringify(got)} != ${JSON.stringify(expectedOf(c))}`);
    }
  }
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${fixture.strformat.length} cases differ`);
});

const lightning: NameOptions = { joinChar: '-', equalsChar: '=', autoInsertMetricName: true, extension: '.ckpt' };
const plain: NameOptions = { ...lightning, autoInsertMetricName: false };
const metrics = new Map<string, PyValue>([
  ['epoch', { type: 'int', value: 4 }],
  ['step', { type: 'int', value: 250 }],
  ['val_loss', { type: 'float', value: Math.fround(0.23456) }],
  ['val/acc', { type: 'float', value: Math.fround(0.875) }],
  ['val.loss', { type: 'float', value: 1.5 }],
]);
const name = (template: string | null, opts = lightning, ver?: number) => formatCheckpointName(template, metrics, opts, ver);

test('Lightning templates, readable cases', () => {
  assert.equal(name('{epoch}-{step}'), 'epoch=4-step=250.ckpt');
  assert.equal(name('{epoch:02d}-{val_loss:.2f}'), 'epoch=04-val_loss=0.23.ckpt');
  assert.equal(name('{val/acc:.3f}'), 'val/acc=0.875.ckpt');
  assert.equal(name('{val.loss:.2f}'), 'val.loss=1.50.ckpt'); // '{0[val.loss]}' uses the literal key
  assert.equal(name('{missing:.2f}'), 'missing=0.00.ckpt'); // missing metrics read as int 0
  assert.equal(name('{epoch}-{epoch}'), 'epoch=4-epoch=4.ckpt');
  assert.equal(name('{val_loss}'), 'val_loss=0.23455999791622162.ckpt'); // repr of the float32 value
  assert.equal(name('{epoch}-{step}', plain), '4-250.ckpt');
  assert.equal(name('last'), 'last.ckpt');
  assert.equal(name(null), 'epoch=4-step=250.ckpt');
  assert.equal(name(''), 'epoch=4-step=250.ckpt');
  assert.equal(name('{epoch}', lightning, 1), 'epoch=4-v1.ckpt');
});

test('Python errors surface as PyFormatError', () => {
  assert.throws(
    () => name('{epoch:.2f}-{val_loss:d}'),
    (e: unknown) => e instanceof PyFormatError && e.pyType === 'ValueError' && e.message === "Unknown format code 'd' for object of type 'float'",
  );
  assert.throws(() => name('{epoch}}'), { pyType: 'ValueError', message: "Single '}' encountered in format string" });
  assert.throws(() => name('{5}'), { pyType: 'KeyError', message: '5' }); // '{0[5]}' indexes with the int 5
  assert.throws(() => pyFormatMetrics('{1}', metrics), {
    pyType: 'IndexError',
    message: 'Replacement index 1 out of range for positional args tuple',
  });
});

test('metrics are not mutated, and compiled templates agree with formatCheckpointName', () => {
  const before = [...metrics];
  const compiled = compileTemplate('{epoch:03d}-{absent}', lightning);
  assert.equal(compiled(metrics), 'epoch=004-absent=0.ckpt');
  assert.equal(compiled(metrics, 3), name('{epoch:03d}-{absent}', lightning, 3));
  assert.deepEqual([...metrics], before);
});

test('templateKeys lists the names in processing order (longest group first)', () => {
  assert.deepEqual(templateKeys('{epoch}-{val_loss:.2f}'), ['val_loss', 'epoch']);
  assert.deepEqual(templateKeys('{a}{ab}{a}'), ['ab', 'a']);
  assert.deepEqual(templateKeys(null), ['epoch', 'step']);
  assert.deepEqual(templateKeys('last'), []);
});
