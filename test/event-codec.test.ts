/** Loop events as JSON: what the sidecar and the JSON-lines logs read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent, encodeEvent } from '../src/core/eventCodec.ts';
import { fitEvents } from '../src/core/loop.ts';

test('every event of a run survives JSON text, NaN and infinities included', () => {
  const vals = [0.5, NaN, Infinity, -Infinity];
  const events = [...fitEvents({ epochs: 4, batchesPerEpoch: 2, valMetrics: (e) => ({ val_loss: vals[e]! }), files: [{ path: 'a/last.ckpt', kind: 'symlink', target: 'x.ckpt' }] })];
  events.push({ type: 'exceptionRaised', exception: { type: 'RuntimeError', message: 'boom' }, view: { epoch: 3, globalStep: 8 } });
  events.push({ type: 'stateLoaded', stateDict: { best_model_path: 'x', best_model_score: NaN, best_k_models: [['x', -Infinity]] } });
  for (const e of events) {
    const text = JSON.stringify(encodeEvent(e));
    const back = decodeEvent(JSON.parse(text));
    assert.ok(E.isRight(back), text);
    assert.deepEqual(back.right, e);
  }
});

test('a bad event names the field, the value and what is expected', () => {
  const bad = (u: unknown) => {
    const r = decodeEvent(u);
    assert.ok(E.isLeft(r));
    return r.left.join('\n');
  };
  assert.match(bad({ type: 'epochEnd', view: { epoch: 0, globalStep: 1 } }), /type: got "epochEnd", expected one of setup, stateLoaded, trainStarted/);
  assert.match(bad({ type: 'trainEpochEnded', view: { epoch: -1, globalStep: 1 } }), /view\.epoch: got -1, expected a non-negative integer/);
  assert.match(bad({ type: 'trainEpochEnded', view: { epoch: 0, globalStep: 1, metrics: { loss: 'low' } } }), /view\.metrics\.loss: got "low"/);
  assert.match(bad({ type: 'trainEpochEnded' }), /view: got undefined/);
  assert.match(bad([1, 2]), /must be a JSON object/);
});
