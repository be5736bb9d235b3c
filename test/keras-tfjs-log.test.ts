/**
 * The Keras tfjs callback's decision log: a real tfjs `fit` with `modelCheckpoint(..., { decisionLog })`
 * records the session the Keras sidecar would have had (options, hooks, save outcomes, answers);
 * `audit verify` replays it through the dialect, and a forged answer is caught.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tfjsMemoryStore } from '../plugins/tfjs-memory/index.ts';
import { modelCheckpoint } from '../src/dialects/keras/tfjs.ts';
import { openDialectLog } from '../src/audit/dialectLog.ts';
import { verifyLog } from '../src/audit/verify.ts';
import { readRecords, rechain, writeRecords } from './helpers/decision-log.ts';

tf.env().set('PROD', true);

test('modelCheckpoint with a decision log: the log replays through the Keras dialect, its saves are the callback\'s, a forged answer is caught', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-keras-tfjs-log-'));
  const path = join(dir, 'decisions.jsonl');
  const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
  m.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
  const x = tf.randomUniform([32, 2], -1, 1, 'float32', 7);
  const y = tf.sum(x, 1, true);
  const log = openDialectLog(path, 'keras');
  const cb = modelCheckpoint({ filepath: 'ckpt/model-{epoch}.keras', monitor: 'loss', saveBestOnly: true }, { store: tfjsMemoryStore(), decisionLog: log, log: () => undefined });
  await m.fit(x, y, { epochs: 4, batchSize: 16, verbose: 0, callbacks: [cb] });
  log.close();
  assert.ok(cb.saved.length >= 1);
  const recs = readRecords(path);
  assert.deepEqual([recs[0]!.dialect, recs[1]!.answer.type, recs.at(-1)!.type], ['keras', 'init', 'close']);
  const saves = recs.filter((r) => r.type === 'line').flatMap((r) => (r.answer.effects ?? []).filter((e: { _tag: string }) => e._tag === 'Save').map((e: { filepath: string }) => e.filepath));
  assert.deepEqual(saves, cb.saved);
  assert.equal(recs.filter((r) => r.type === 'line' && JSON.parse(r.input)._tag === 'SaveCompleted').length, cb.saved.length);
  const r = verifyLog({ kind: 'file', path });
  assert.equal(r.status, 'verified', JSON.stringify(r));
  // a forged answer: a save the callback never made
  const i = recs.findIndex((x) => x.type === 'line' && (x.answer.effects ?? []).some((e: { _tag: string }) => e._tag === 'Save'));
  recs[i]!.answer.effects.find((e: { _tag: string }) => e._tag === 'Save').filepath = 'ckpt/other.keras';
  writeRecords(path, rechain(recs));
  const forged = verifyLog({ kind: 'file', path });
  assert.equal(forged.status, 'tampered');
  assert.match(forged.divergence!.field, /^answer\.effects\[\d+\]\.filepath$/);
});
