/**
 * Config decoding (property 8) and the template side of property 6.
 * - Lightning's snake_case names and the camelCase names, in any mix, decode to the same
 *   PolicyConfig; the decoded values are the given ones (or Lightning's defaults).
 * - Unknown keys are reported by name, all of them, together with the other errors of the input.
 * - PolicyConfigCodec: encode then decode is the identity (also through JSON).
 * - A filename / CHECKPOINT_NAME_LAST template that would leave the checkpoint directory is
 *   refused with an issue naming the option; a template that is accepted never produces a name
 *   outside the directory when the policy runs (fuzzed with odd templates).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig, DEFAULTS, init, OPTION_NAMES, PolicyConfigCodec, reduce, type LoopEvent, type PolicyConfig } from '../src/core/index.ts';
import { pyAbspath, pyJoin, pyNormpath } from '../src/core/paths.ts';
import { configArb, ENV, optionsArb, runs, type RawOptions } from './arbitraries.ts';

/** Lightning's keyword name in camelCase: save_top_k -> saveTopK, CHECKPOINT_JOIN_CHAR -> checkpointJoinChar. */
const camel = (snake: string) => snake.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const KNOWN = new Set<string>([...OPTION_NAMES, ...OPTION_NAMES.map(camel)]);

function fields(r: ReturnType<typeof decodeConfig>): string[] {
  return E.isLeft(r) ? r.left.map((i) => i.field) : [];
}

// ---- 8: spellings --------------------------------------------------------------------------

test('config: snake_case, camelCase and any mix of them decode to the same PolicyConfig, holding the given values', () => {
  fc.assert(
    fc.property(optionsArb, fc.infiniteStream(fc.boolean()), (options, coins) => {
      const snake = decodeConfig(options);
      assert.ok(E.isRight(snake), `valid options refused: ${fields(snake).join(', ')}`);
      const allCamel = Object.fromEntries(Object.entries(options).map(([k, v]) => [camel(k), v]));
      const mixed = Object.fromEntries(Object.entries(options).map(([k, v]) => [coins.next().value ? camel(k) : k, v]));
      assert.deepStrictEqual(decodeConfig(allCamel), snake);
      assert.deepStrictEqual(decodeConfig(mixed), snake);
      const c = snake.right as unknown as Record<string, unknown>;
      for (const name of OPTION_NAMES) {
        const key = camel(name);
        if (name === 'train_time_interval') continue; // normalised to seconds, checked below
        const expected = name in options && options[name] !== undefined ? options[name] : (DEFAULTS as unknown as Record<string, unknown>)[key];
        assert.deepStrictEqual(c[key], expected ?? null, `${name} decoded to ${JSON.stringify(c[key])}`);
      }
      const tti = options.train_time_interval;
      if (typeof tti === 'number') assert.equal(c.trainTimeInterval, tti);
      if (tti && typeof tti === 'object') assert.equal(c.trainTimeInterval, Object.entries(tti).reduce((s, [u, v]) => s + (v as number) * ({ seconds: 1, milliseconds: 1e-3 } as Record<string, number>)[u]!, 0));
    }),
    { seed: Number(process.env.FC_SEED ?? 0x5eed31), numRuns: runs(1000) },
  );
});

test('config: an option given under both of its names is an error naming it', () => {
  fc.assert(
    fc.property(optionsArb, fc.nat(), (options, pick) => {
      const keys = Object.keys(options).filter((k) => camel(k) !== k);
      if (keys.length === 0) return;
      const k = keys[pick % keys.length]!;
      const r = decodeConfig({ ...options, [camel(k)]: options[k] });
      assert.ok(E.isLeft(r), `${k} and ${camel(k)} together were accepted`);
      assert.ok(r.left.some((i) => i.message.includes(`'${k}'`) && i.message.includes(`'${camel(k)}'`)), JSON.stringify(r.left));
    }),
    { seed: Number(process.env.FC_SEED ?? 0x5eed32), numRuns: runs(300) },
  );
});

// ---- 8: unknown keys -------------------------------------------------------------------------

/** Misspellings and options of other Lightning versions / other libraries. */
const unknownKeyArb = fc.oneof(
  fc.constantFrom('monitr', 'save_top', 'savetopk', 'save_best_only', 'period', 'prefix', 'filepath', 'every_n_val_epochs', 'SaveTopK', 'save-last', 'dir_path', 'toString', 'constructor'),
  fc.string({ minLength: 1, maxLength: 12 }),
).filter((k) => !KNOWN.has(k) && k !== '__proto__');

/** A known option with a value of the wrong type. */
const typeErrorArb = fc.constantFrom<[string, unknown]>(
  ['save_top_k', 'three'],
  ['save_top_k', 1.5],
  ['verbose', 'yes'],
  ['save_last', 'always'],
  ['every_n_epochs', '2'],
  ['train_time_interval', 'PT1H'],
  ['dirpath', 3],
  ['mode', null],
);

/** Values of the right type that Lightning's constructor rejects (field named in the issue). */
const lightningErrorArb = fc.constantFrom<[RawOptions, string]>(
  [{ mode: 'avg' }, 'mode'],
  [{ save_top_k: -2 }, 'save_top_k'],
  [{ monitor: null, save_top_k: 3 }, 'save_top_k'],
  [{ every_n_train_steps: -1 }, 'every_n_train_steps'],
  [{ filename: '../{epoch}' }, 'filename'],
);

test('config: every unknown key is reported by name, together with the type errors and Lightning errors of the same input', () => {
  fc.assert(
    fc.property(
      configArb,
      fc.uniqueArray(unknownKeyArb, { minLength: 1, maxLength: 4 }),
      fc.option(typeErrorArb, { nil: null }),
      fc.option(lightningErrorArb, { nil: null }),
      ({ options }, unknown, typeError, lightningError) => {
        const input: RawOptions = { ...options };
        if (lightningError) Object.assign(input, lightningError[0]);
        if (typeError) input[typeError[0]] = typeError[1];
        for (const [i, k] of unknown.entries()) input[k] = i;
        const r = decodeConfig(input);
        assert.ok(E.isLeft(r), 'unknown keys were accepted');
        const got = fields(r);
        for (const k of unknown) assert.ok(got.includes(k), `unknown key ${JSON.stringify(k)} not reported (issues: ${JSON.stringify(got)})`);
        for (const i of r.left) if (unknown.includes(i.field)) assert.ok(i.message.includes(`'${i.field}'`), `the message for ${i.field} does not name it: ${i.message}`);
        if (typeError) assert.ok(got.includes(typeError[0]), `type error in ${typeError[0]} not reported with the unknown keys (issues: ${JSON.stringify(got)})`);
        if (lightningError && !(typeError && typeError[0] in lightningError[0])) {
          assert.ok(got.some((f) => f.split(', ').includes(lightningError[1])), `Lightning's error on ${lightningError[1]} not reported with the unknown keys (issues: ${JSON.stringify(got)})`);
        }
      },
    ),
    { seed: Number(process.env.FC_SEED ?? 0x5eed33), numRuns: runs(1000) },
  );
});

// ---- 8: codec round trip ------------------------------------------------------------------------

test('config: PolicyConfigCodec.encode then decode is the identity (directly and through JSON)', () => {
  const anyTimeArb = fc.oneof(fc.double({ min: 1e-7, max: 1e6, noNaN: true }), fc.record({ hours: fc.integer({ min: 0, max: 48 }), microseconds: fc.integer({ min: 0, max: 999999 }) }));
  fc.assert(
    fc.property(configArb, fc.option(anyTimeArb, { nil: null }), ({ options }, tti) => {
      const withTime: RawOptions = tti === null ? options : { ...options, every_n_train_steps: null, every_n_epochs: null, train_time_interval: tti };
      const decoded = decodeConfig(withTime);
      assert.ok(E.isRight(decoded), fields(decoded).join(', '));
      const c: PolicyConfig = decoded.right;
      const encoded = PolicyConfigCodec.encode(c);
      for (const k of Object.keys(encoded)) assert.ok((OPTION_NAMES as string[]).includes(k), `encode wrote ${k}, not one of Lightning's names`);
      const again = PolicyConfigCodec.decode(encoded);
      assert.ok(E.isRight(again));
      assert.deepStrictEqual(again.right, c);
      const viaJson = PolicyConfigCodec.decode(JSON.parse(JSON.stringify(encoded)));
      assert.ok(E.isRight(viaJson));
      assert.deepStrictEqual(viaJson.right, c);
    }),
    { seed: Number(process.env.FC_SEED ?? 0x5eed34), numRuns: runs(1000) },
  );
});

// ---- 6: templates that leave the directory ---------------------------------------------------

const SEGMENTS = ['..', '.', 'a', 'sub', '{epoch}', '{val_loss:.2f}', '{step}', 'x{step}', '{../up}', ''] as const;

/** Where a template's name lands, with every field formatted as '0' (and `name=` inserted). */
function landsOutside(template: string, autoInsert: boolean): boolean {
  const name = template.replace(/\{([^{}:]+)(?::[^{}]*)?\}/g, (_, key: string) => (autoInsert ? `${key}=0` : '0'));
  const dir = '/d';
  const full = pyNormpath(pyJoin(dir, name + '.ckpt'));
  return !full.startsWith(dir + '/');
}

test('config: a filename or CHECKPOINT_NAME_LAST that would leave the checkpoint directory is refused, naming the option', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 5 }),
      fc.boolean(),
      fc.boolean(),
      fc.constantFrom('filename', 'CHECKPOINT_NAME_LAST', 'filename-camel'),
      (segments, absolute, autoInsert, option) => {
        const template = (absolute ? '/' : '') + segments.join('/');
        if (!template || !landsOutside(template, autoInsert)) return;
        const key = option === 'filename-camel' ? 'filename' : option;
        const input: RawOptions = { auto_insert_metric_name: autoInsert, [option === 'filename-camel' ? 'filename' : key]: template };
        const r = decodeConfig(input);
        assert.ok(E.isLeft(r), `${key}=${JSON.stringify(template)} (auto_insert_metric_name=${autoInsert}) lands outside the directory but was accepted`);
        assert.ok(r.left.some((i) => i.field === key), `no issue names ${key}: ${JSON.stringify(r.left.map((i) => i.field))}`);
      },
    ),
    { seed: Number(process.env.FC_SEED ?? 0x5eed35), numRuns: runs(1000) },
  );
});

/** Template pieces: literals, fields with fills and specs, stray braces, metric names with '/' and '..'. */
const PIECES = ['..', '.', '/', 'a', '-', '=', '{epoch}', '{step}', '{val_loss:.2f}', '{val_loss:/>7}', '{epoch:/<3}', '{epoch:/>4}', '{epoch:.>3}', '{epoch:.^5}', '{val/acc}', '{../m}', '{m/..}', '{0}', '{}', '{', '}', ':', '!r', '{epoch!r}', '{epoch:{step}}'] as const;

test('config: a template decodeConfig accepts never names a file outside the checkpoint directory', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 6 }).map((p) => p.join('')),
      fc.boolean(),
      fc.constantFrom('filename', 'CHECKPOINT_NAME_LAST'),
      fc.array(fc.constantFrom(0, 0.5, 3, 12.25, -1, NaN, Infinity), { minLength: 3, maxLength: 3 }),
      (template, autoInsert, option, values) => {
        const options: RawOptions = { dirpath: '/ckpts', every_n_train_steps: 1, auto_insert_metric_name: autoInsert, save_last: true, [option]: template };
        const r = decodeConfig(options);
        if (E.isLeft(r)) return;
        let [s] = init(r.right, ENV);
        const events: LoopEvent[] = [{ type: 'setup', stage: 'fit', trainer: {}, files: [] }, { type: 'trainStarted', view: { epoch: 0, globalStep: 0, time: 0 } }];
        for (const [i, v] of values.entries()) {
          events.push({ type: 'trainBatchEnded', view: { epoch: i, globalStep: i + 1, time: i, metrics: { val_loss: v, 'val/acc': v, '../m': v, 'm/..': v, m: v } } });
        }
        for (const e of events) {
          const [next, effects] = reduce(s, e);
          s = next;
          for (const f of effects) {
            if (f.type === 'error') assert.ok(!f.message.includes('leaves the checkpoint directory'), `${option}=${JSON.stringify(template)} (auto_insert_metric_name=${autoInsert}) was accepted, then: ${f.message}`);
            if (f.type === 'save' || f.type === 'link' || f.type === 'remove') {
              assert.ok(pyAbspath(f.path, ENV.cwd!).startsWith('/ckpts/'), `${option}=${JSON.stringify(template)} wrote ${f.path}`);
            }
          }
        }
      },
    ),
    {
      seed: Number(process.env.FC_SEED ?? 0x5eed36),
      numRuns: runs(3000),
      // found: a '/' fill at the start of the name makes it absolute (the skeleton check sees only '0')
      examples: [['{epoch:/>4}', false, 'filename', [0, 0, 0]]],
    },
  );
});
