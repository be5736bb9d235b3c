/**
 * Readable examples of the reducer's decisions (the Lightning conformance replay covers parity
 * exhaustively; these pin our own additions and show the API).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../src/core/config.ts';
import type { Effect } from '../src/core/effects.ts';
import type { LoopEvent } from '../src/core/events.ts';
import { fitEvents } from '../src/core/loop.ts';
import { init, reduce } from '../src/core/reduce.ts';
import type { PolicyState } from '../src/core/state.ts';

function run(options: Record<string, unknown>, events: Iterable<LoopEvent>, cwd = '/work') {
  let [state, effects] = init(parseConfig(options), { cwd });
  const all: Effect[] = [...effects];
  for (const e of events) {
    [state, effects] = reduce(state, e);
    all.push(...effects);
  }
  return { state, effects: all };
}

const ops = (effects: readonly Effect[]) =>
  effects.flatMap((e) => (e.type === 'save' || e.type === 'remove' ? [`${e.type} ${e.path}`] : e.type === 'link' ? [`link ${e.path} -> ${e.relTarget}`] : []));

const losses = [0.9, 0.5, 0.7, 0.3, 0.4];
const plan = (extra: Partial<Parameters<typeof fitEvents>[0]> = {}) =>
  fitEvents({ epochs: losses.length, batchesPerEpoch: 4, valMetrics: (e) => ({ val_loss: losses[e]! }), ...extra });

test('top-2 on val_loss keeps the two best, saving before removing', () => {
  const { state, effects } = run({ dirpath: 'ckpts', monitor: 'val_loss', save_top_k: 2, filename: '{epoch}-{val_loss:.1f}' }, plan());
  assert.deepEqual(ops(effects), [
    'save /work/ckpts/epoch=0-val_loss=0.9.ckpt',
    'save /work/ckpts/epoch=1-val_loss=0.5.ckpt',
    'save /work/ckpts/epoch=2-val_loss=0.7.ckpt',
    'remove /work/ckpts/epoch=0-val_loss=0.9.ckpt',
    'save /work/ckpts/epoch=3-val_loss=0.3.ckpt',
    'remove /work/ckpts/epoch=2-val_loss=0.7.ckpt',
    'save /work/ckpts/epoch=4-val_loss=0.4.ckpt',
    'remove /work/ckpts/epoch=1-val_loss=0.5.ckpt',
  ]);
  assert.equal(state.bestModelPath, '/work/ckpts/epoch=3-val_loss=0.3.ckpt');
  assert.equal(state.bestModelScore, Math.fround(0.3));
  assert.deepEqual([...state.bestKModels.keys()], ['/work/ckpts/epoch=3-val_loss=0.3.ckpt', '/work/ckpts/epoch=4-val_loss=0.4.ckpt']);
});

test('every effect carries a structured reason with the numbers involved', () => {
  const { effects } = run({ dirpath: 'ckpts', monitor: 'val_loss', save_top_k: 2 }, plan());
  const third = effects.filter((e) => e.type === 'save')[2]!;
  assert.equal(third.type, 'save');
  if (third.type !== 'save') return;
  assert.deepEqual(third.reason, { rule: 'topK', trigger: 'trainEpochEnd', monitor: 'val_loss', score: Math.fround(0.7), k: 2, keepAll: false, kthValue: Math.fround(0.9), epoch: 2, step: 12 });
  const removal = effects.find((e) => e.type === 'remove');
  assert.deepEqual(removal && removal.type === 'remove' ? removal.reason : null, { rule: 'displaced', by: '/work/ckpts/epoch=2-step=12.ckpt', score: Math.fround(0.7) });
});

test("save_last='link' links last.ckpt to the newest checkpoint with a relative target", () => {
  const { effects } = run({ dirpath: 'ckpts', monitor: 'val_loss', save_top_k: 1, save_last: 'link', filename: 'best/{epoch}' }, plan());
  assert.deepEqual(ops(effects).slice(0, 3), ['save /work/ckpts/best/epoch=0.ckpt', 'link /work/ckpts/last.ckpt -> best/epoch=0.ckpt', 'save /work/ckpts/best/epoch=1.ckpt']);
});

test('an existing name gets a version suffix; the directory warning comes first', () => {
  const files = [{ path: '/work/ckpts/epoch=0-step=4.ckpt', kind: 'file' as const }];
  const { effects } = run({ dirpath: 'ckpts', save_top_k: -1 }, plan({ files, epochs: 1 }));
  assert.deepEqual(
    effects.filter((e) => e.type === 'log' && e.level === 'warning').map((e) => (e.type === 'log' ? e.message : '')),
    ['Checkpoint directory /work/ckpts exists and is not empty.'],
  );
  assert.deepEqual(ops(effects), ['save /work/ckpts/epoch=0-step=4-v1.ckpt']);
});

test("Lightning's errors are values: a missing monitor after validation ran", () => {
  const events = fitEvents({ epochs: 1, batchesPerEpoch: 2, valMetrics: () => ({ val_acc: 0.5 }) });
  const { effects } = run({ monitor: 'val_loss', save_top_k: 1 }, events);
  const err = effects.find((e) => e.type === 'error');
  assert.ok(err && err.type === 'error');
  assert.equal(err.errorType, 'MisconfigurationException');
  assert.match(err.message, /could not find the monitored key in the returned metrics: \['val_acc', 'epoch', 'step'\]/);
});

test('a name that would climb out of the directory is refused by the config, and by the reducer too', () => {
  const options = { dirpath: 'ckpts', filename: '{a}', monitor: 'a', CHECKPOINT_EQUALS_CHAR: '/../../x' };
  assert.throws(() => parseConfig(options), /outside the checkpoint directory/);
  // defence in depth: a config that skipped validation still cannot make the reducer write outside
  const config = { ...parseConfig({ dirpath: 'ckpts', filename: '{a}', monitor: 'a' }), checkpointEqualsChar: '/../../x' };
  let [state] = init(config, { cwd: '/work' });
  let effects: readonly Effect[] = [];
  for (const e of plan({ valMetrics: () => ({ a: 1 }) })) {
    [state, effects] = reduce(state, e);
    if (effects.some((x) => x.type === 'error')) break;
  }
  const err = effects.find((e) => e.type === 'error');
  assert.ok(err && err.type === 'error', 'refused');
  assert.match(err.message, /leaves the checkpoint directory/);
  assert.ok(!effects.some((e) => e.type === 'save'));
});

test('a hook before setup is an error value, not a crash', () => {
  const [s0] = init(parseConfig({}), { cwd: '/w' });
  const [s1, effects] = reduce(s0, { type: 'trainEpochEnded', view: { epoch: 0, globalStep: 1 } });
  assert.equal(effects.length, 1);
  assert.match((effects[0] as Extract<Effect, { type: 'error' }>).message, /before setup/);
  assert.equal(s1.lastGlobalStepSaved, 0);
});

test('files that appear outside the policy are learnt from a filesListed event', () => {
  let [state] = init(parseConfig({ dirpath: '/d', save_top_k: -1, filename: 'x' }), { cwd: '/' });
  [state] = reduce(state, { type: 'setup', files: [] });
  [state] = reduce(state, { type: 'filesListed', files: [{ path: '/d/x.ckpt', kind: 'file' }] });
  const [, effects] = reduce(state, { type: 'trainEpochEnded', view: { epoch: 0, globalStep: 3 } });
  assert.deepEqual(ops(effects), ['save /d/x-v1.ckpt']);
});

test('train_time_interval needs the time: without it the time trigger does not fire', () => {
  const config = parseConfig({ dirpath: '/d', train_time_interval: 10 });
  let [state] = init(config, { cwd: '/' });
  [state] = reduce(state, { type: 'setup', files: [] });
  [state] = reduce(state, { type: 'trainStarted', view: { epoch: 0, globalStep: 0, time: 100 } });
  let effects: readonly Effect[];
  [state, effects] = reduce(state, { type: 'trainBatchEnded', view: { epoch: 0, globalStep: 1 } });
  assert.deepEqual(ops(effects), []);
  [state, effects] = reduce(state, { type: 'trainBatchEnded', view: { epoch: 0, globalStep: 2, time: 111 } });
  assert.deepEqual(ops(effects), ['save /d/epoch=0-step=2.ckpt']);
  assert.equal((state as PolicyState).lastTimeChecked, 111);
});

test('save_top_k=-1 tracks best and k-th incrementally yet identically to a full scan', () => {
  // a long run with ties and NaN: the incremental path must pick the FIRST min / max like Python
  const values = Array.from({ length: 300 }, (_, i) => (i % 37 === 0 ? NaN : Math.round(Math.sin(i) * 5) / 10));
  const events = fitEvents({ epochs: values.length, batchesPerEpoch: 1, valMetrics: (e) => ({ m: values[e]! }) });
  const { state } = run({ dirpath: '/d', monitor: 'm', save_top_k: -1, filename: '{epoch}' }, events);
  const entries = [...state.bestKModels.entries()];
  const firstMin = entries.reduce((a, b) => (b[1] < a[1] ? b : a));
  const firstMax = entries.reduce((a, b) => (b[1] > a[1] ? b : a));
  assert.equal(state.bestModelPath, firstMin[0]);
  assert.equal(state.kthBestModelPath, firstMax[0]);
  assert.equal(state.kthValue, Infinity, 'NaN is stored as +inf in min mode');
});

test("a NaN loaded from a state dict: best and k-th follow Python's sequential min()/max()", () => {
  // Python: min over [a .5, b nan, c .2, d .3] keeps a, skips b (nan < .5 is False), takes c, keeps c
  let [state] = init(parseConfig({ dirpath: '/d', monitor: 'm', save_top_k: 4, filename: '{epoch}' }), { cwd: '/' });
  [state] = reduce(state, { type: 'setup', files: [] });
  [state] = reduce(state, {
    type: 'stateLoaded',
    stateDict: { dirpath: '/d', best_model_path: '/d/a', best_model_score: 0.5, best_k_models: [['/d/a', 0.5], ['/d/b', NaN], ['/d/c', 0.2]], kth_best_model_path: '', kth_value: Infinity, last_model_path: '' },
  });
  [state] = reduce(state, { type: 'trainEpochEnded', view: { epoch: 3, globalStep: 9, metrics: { m: 0.3 } } });
  assert.equal(state.bestModelPath, '/d/c');
  assert.equal(state.kthBestModelPath, '/d/a');
});
