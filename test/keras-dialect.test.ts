/**
 * The Keras dialect by example: the constructor's texts and defaults, option errors naming the
 * field, the reducer's effects with their reasons, the opt-in fixes, and the state's JSON round trip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { construct, parseOptions, KerasOptionsError, type Construction } from '../src/dialects/keras/options.ts';
import { init, reduce } from '../src/dialects/keras/reduce.ts';
import { decodeState, encodeState, type KerasFixes, type KerasState } from '../src/dialects/keras/state.ts';
import type { KerasEffect } from '../src/dialects/keras/effects.ts';
import type { KerasEvent } from '../src/dialects/keras/events.ts';

const built = (c: Construction) => {
  assert.equal(c._tag, 'Constructed', JSON.stringify(c));
  return c as Extract<Construction, { _tag: 'Constructed' }>;
};

function run(options: unknown, events: KerasEvent[], fixes: Partial<KerasFixes> = {}): { state: KerasState; effects: KerasEffect[] } {
  let [state, effects] = init(built(parseOptions(options)), fixes);
  const all = [...effects];
  for (const first of events) {
    const queue = [first];
    for (let ev = queue.shift(); ev; ev = queue.shift()) {
      [state, effects] = reduce(state, ev);
      all.push(...effects);
      for (const e of effects) if (e._tag === 'Save') queue.push({ _tag: 'SaveCompleted' });
    }
  }
  return { state, effects: all };
}

const epochs = (key: string, values: number[]): KerasEvent[] =>
  values.flatMap((v, epoch): KerasEvent[] => [{ _tag: 'EpochBegan', epoch }, { _tag: 'EpochEnded', epoch, logs: { loss: 1, [key]: v }, metrics: [] }]);
const saves = (effects: KerasEffect[]) => effects.flatMap((e) => (e._tag === 'Save' ? [e.filepath] : []));

test('defaults are Keras\'s; camelCase and snake_case mean the same', () => {
  const c = built(parseOptions({ filepath: 'm.keras' }));
  assert.deepEqual(c.config, { filepath: 'm.keras', monitor: 'val_loss', mode: 'auto', save_best_only: false, save_weights_only: false, save_freq: 'epoch', verbose: 0 });
  assert.equal(c.initialBest, null);
  const camel = built(parseOptions({ filepath: 'w.weights.h5', saveBestOnly: true, saveWeightsOnly: true, saveFreq: 5, initialValueThreshold: 0.5 }));
  const snake = built(parseOptions({ filepath: 'w.weights.h5', save_best_only: true, save_weights_only: true, save_freq: 5, initial_value_threshold: 0.5 }));
  assert.deepEqual(camel, snake);
  assert.equal(camel.config.save_freq, 5);
});

test('Keras\'s constructor errors and warnings, in its words and order', () => {
  const err = (o: object) => {
    const c = construct(o as never);
    return c._tag === 'ConstructionFailed' ? [c.error.type, c.error.message] : null;
  };
  assert.deepEqual(err({ filepath: 'm.keras', save_freq: 'batch' }), ['ValueError', "Unrecognized save_freq: batch. Expected save_freq are 'epoch' or integer values"]);
  assert.deepEqual(err({ filepath: 'm.keras', save_freq: 2.5 }), ['ValueError', "Unrecognized save_freq: 2.5. Expected save_freq are 'epoch' or integer values"]);
  assert.deepEqual(err({ filepath: 'm.hdf5' }), ['ValueError', 'The filepath provided must end in `.keras` (Keras model format). Received: filepath=m.hdf5']);
  assert.deepEqual(err({ filepath: 'm.keras', save_weights_only: true }), [
    'ValueError',
    'When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in `.weights.h5` (Keras weights format). Received: filepath=m.keras',
  ]);
  const c = construct({ filepath: 'm.pt', mode: 'MAX' });
  assert.deepEqual(c.messages, [{ level: 'warning', category: 'UserWarning', message: "ModelCheckpoint mode 'MAX' is unknown, fallback to auto mode." }]);
  assert.equal(c._tag, 'ConstructionFailed'); // the warning comes first, then the suffix error
  assert.equal(built(construct({ filepath: 'x.weights.h5' })).config.save_weights_only, false); // a full model in legacy H5
});

test('bad options name the field, the value and what is allowed; unknown keys use Python\'s TypeError text', () => {
  assert.throws(
    () => parseOptions({ filepath: 'm.keras', save_best_ony: true, saveBestOnly: 'yes', monitor: 3 }),
    (e: unknown) => {
      assert.ok(e instanceof KerasOptionsError);
      assert.deepEqual(e.issues.map((i) => i.field), ['save_best_ony', 'saveBestOnly', 'monitor']);
      assert.match(e.message, /ModelCheckpoint\.__init__\(\) got an unexpected keyword argument 'save_best_ony' \(did you mean 'save_best_only'\?\)/);
      assert.match(e.message, /saveBestOnly="yes" is not allowed: expected true or false/);
      return true;
    },
  );
  assert.throws(() => parseOptions({ monitor: 'loss' }), /missing 1 required positional argument: 'filepath'/);
  assert.throws(() => parseOptions({ filepath: 'a.keras', save_freq: 1, saveFreq: 2 }), /given twice \(as 'save_freq' and 'saveFreq'\)/);
});

test('saves carry their reason; a decision not to save is a NotSaved note', () => {
  const { effects, state } = run({ filepath: 'best.keras', save_best_only: true, mode: 'min', verbose: 1 }, epochs('val_loss', [0.5, 0.7, 0.25]));
  const saved = effects.filter((e) => e._tag === 'Save');
  assert.deepEqual(saved.map((e) => e._tag === 'Save' && e.reason), [
    { kind: 'improved', monitor: 'val_loss', current: 0.5, previous: null },
    { kind: 'improved', monitor: 'val_loss', current: 0.25, previous: 0.5 },
  ]);
  assert.deepEqual(effects.find((e) => e._tag === 'NotSaved'), { _tag: 'NotSaved', epoch: 1, batch: null, reason: { kind: 'notImproved', monitor: 'val_loss', current: 0.7, best: 0.5 } });
  assert.ok(effects.some((e) => e._tag === 'Print' && e.message === '\nEpoch 2: val_loss did not improve from 0.50000'));
  assert.equal(state.best, 0.25);
});

test('Keras\'s default: a NaN first value becomes best and blocks every later save; the opt-in fix skips it', () => {
  const values = [NaN, 0.5, 0.4];
  assert.deepEqual(saves(run({ filepath: 'e{epoch}.keras', save_best_only: true, mode: 'min' }, epochs('val_loss', values)).effects), ['e1.keras']);
  const fixed = run({ filepath: 'e{epoch}.keras', save_best_only: true, mode: 'min' }, epochs('val_loss', values), { nanSafeBest: true });
  assert.deepEqual(saves(fixed.effects), ['e2.keras', 'e3.keras']);
  assert.equal(fixed.state.best, 0.4);
  // a NaN threshold is beaten by the first number under the fix, never in Keras
  const opts = { filepath: 'e{epoch}.keras', save_best_only: true, mode: 'max', initial_value_threshold: NaN };
  assert.deepEqual(saves(run(opts, epochs('val_loss', [0.1, 0.2])).effects), []);
  assert.deepEqual(saves(run(opts, epochs('val_loss', [0.1, 0.2]), { nanSafeBest: true }).effects), ['e1.keras', 'e2.keras']);
});

test('Keras\'s default: integer save_freq + save_best_only raises TypeError before the first epoch end; the opt-in fix resolves the mode', () => {
  const batches: KerasEvent[] = [{ _tag: 'EpochBegan', epoch: 0 }, ...[0, 1, 2, 3].map((batch): KerasEvent => ({ _tag: 'TrainBatchEnded', batch, logs: { loss: 1 - batch / 10 } }))];
  const opts = { filepath: 'b{batch}.keras', monitor: 'loss', mode: 'min', save_best_only: true, save_freq: 2 };
  const keras = run(opts, batches).effects;
  assert.deepEqual(saves(keras), ['b2.keras']);
  assert.deepEqual(keras.at(-1), { _tag: 'Raise', error: { type: 'TypeError', message: "'NoneType' object is not callable" } });
  const fixed = run(opts, batches, { batchMonitorOp: true });
  assert.deepEqual(saves(fixed.effects), ['b2.keras', 'b4.keras']);
  assert.equal(fixed.state.monitorOp, 'less');
  // mode='auto' under the fix reads the metrics the batch event carries
  const auto = run({ ...opts, mode: 'auto', monitor: 'acc' }, [
    { _tag: 'EpochBegan', epoch: 0 },
    { _tag: 'TrainBatchEnded', batch: 1, logs: { acc: 0.5 } },
    { _tag: 'TrainBatchEnded', batch: 3, logs: { acc: 0.6 }, metrics: [{ name: 'acc', direction: 'up' }] },
  ], { batchMonitorOp: true });
  assert.deepEqual(saves(auto.effects), ['b2.keras', 'b4.keras']);
});

test('the state is JSON: encode, stringify, parse, decode is the identity (NaN best included)', () => {
  const { state } = run({ filepath: 'm.keras', save_best_only: true, mode: 'min' }, epochs('val_loss', [NaN]));
  assert.ok(Number.isNaN(state.best));
  const back = decodeState(JSON.parse(JSON.stringify(encodeState(state))));
  assert.deepEqual(back, state);
  assert.throws(() => decodeState({ ...(encodeState(state) as object), monitorOp: 'equal' }), /not a Keras dialect state/);
});

test('reduce is pure: the same input gives equal output and leaves its input unchanged', () => {
  const [s] = init(built(parseOptions({ filepath: 'e{epoch}-{val_loss:.2f}.keras' })));
  const frozen = JSON.stringify(s);
  const ev: KerasEvent = { _tag: 'EpochEnded', epoch: 0, logs: { val_loss: 0.123 } };
  assert.deepEqual(reduce(s, ev), reduce(s, ev));
  assert.equal(JSON.stringify(s), frozen);
  assert.equal(saves(reduce(s, ev)[1])[0], 'e1-0.12.keras');
});
