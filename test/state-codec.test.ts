/** The policy state survives JSON: resume is a round trip. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { parseConfig } from '../src/core/config.ts';
import { fitEvents } from '../src/core/loop.ts';
import { init, reduce } from '../src/core/reduce.ts';
import { decodeState, encodeState, StateCodec } from '../src/core/stateCodec.ts';
import { lightningStateDict } from '../src/core/state.ts';

function stateAfter(n: number) {
  const values = [0.5, NaN, 0.25, Infinity, 0.125, 0.3];
  let [state] = init(parseConfig({ dirpath: 'c', monitor: 'val_loss', save_top_k: 3, save_last: 'link', verbose: true }), { cwd: '/w' });
  let i = 0;
  for (const e of fitEvents({ epochs: values.length, batchesPerEpoch: 2, valMetrics: (ep) => ({ val_loss: values[ep]! }), files: [{ path: '/w/c/old.ckpt', kind: 'file' }, { path: '/w/c/dangling.ckpt', kind: 'symlink', target: 'gone.ckpt' }] })) {
    if (i++ === n) break;
    [state] = reduce(state, e);
  }
  return state;
}

test('encode -> JSON text -> decode gives a state that encodes identically', () => {
  for (const n of [0, 3, 10, 1000]) {
    const s = stateAfter(n);
    const json = JSON.parse(JSON.stringify(encodeState(s)));
    const back = decodeState(json);
    assert.ok(E.isRight(back), `decodes after ${n} events: ${E.isLeft(back) ? back.left.join('; ') : ''}`);
    assert.deepEqual(encodeState(back.right), encodeState(s));
    assert.deepEqual(lightningStateDict(back.right), lightningStateDict(s));
  }
});

test('non-finite scores are written as strings and come back as numbers', () => {
  const s = stateAfter(15); // after epoch 2: the NaN of epoch 1 is kept, as +inf
  const json = encodeState(s);
  assert.equal(json.rules.topK.kth_value, 'Infinity');
  assert.ok(json.rules.topK.best_k_models.some(([, v]) => v === 'Infinity'), 'NaN stored as +inf in min mode');
  const back = StateCodec.decode(JSON.parse(JSON.stringify(json)));
  assert.ok(E.isRight(back));
  assert.equal(back.right.kthValue, Infinity);
});

test('a decoded state continues with exactly the decisions of the original', () => {
  const s = stateAfter(9);
  const back = decodeState(JSON.parse(JSON.stringify(encodeState(s))));
  assert.ok(E.isRight(back));
  const event = { type: 'trainEpochEnded', view: { epoch: 9, globalStep: 20, metrics: { val_loss: 0.01 } } } as const;
  const a = reduce(s, event);
  const b = reduce(back.right, event);
  assert.deepEqual(b[1], a[1]);
  assert.ok(a[1].some((e) => e.type === 'save'), 'the event makes a decision');
  assert.deepEqual(encodeState(b[0]), encodeState(a[0]));
});

test('a damaged state names what is wrong', () => {
  const json = JSON.parse(JSON.stringify(encodeState(stateAfter(5))));
  json.rules.topK.kth_value = 'big';
  json.config.save_top_k = -7;
  const r = decodeState(json);
  assert.ok(E.isLeft(r));
  assert.match(r.left.join('\n'), /kth_value/);
  const r2 = decodeState({ ...JSON.parse(JSON.stringify(encodeState(stateAfter(5)))), config: { save_top_k: -7 } });
  assert.ok(E.isLeft(r2));
  assert.match(r2.left.join('\n'), /save_top_k=-7/);
  const r3 = decodeState({ format: 'something else' });
  assert.ok(E.isLeft(r3));
});
