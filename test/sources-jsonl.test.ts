/** JSON lines of loop events: decoding, non-finite numbers as strings, errors with line and field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { decodeLoopEvent, encodeLoopEvent, readJsonlEvents, type LineEvent } from '../src/sources/jsonl.ts';
import { fitEvents } from '../src/core/loop.ts';
import { SourceError } from '../src/sources/records.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-jsonl-'));

async function readAll(path: string, skipBad = false) {
  const out: LineEvent[] = [];
  const skipped: SourceError[] = [];
  for await (const b of readJsonlEvents(path, { bad: { skipBad, onSkip: (e) => skipped.push(e) } })) out.push(...b);
  return { events: out, skipped };
}

test('events written with encodeLoopEvent read back equal, NaN and infinities included', async () => {
  const events = [
    ...fitEvents({ epochs: 2, batchesPerEpoch: 3, valMetrics: (e) => ({ val_loss: e === 1 ? NaN : 0.5 }), trainMetrics: () => ({ train_loss: Infinity }) }),
    { type: 'exceptionRaised' as const, exception: { type: 'RuntimeError', message: 'boom' }, view: { epoch: 1, globalStep: 6, metrics: { x: -Infinity } } },
    { type: 'stateLoaded' as const, stateDict: { best_model_path: 'a.ckpt', best_model_score: NaN, best_k_models: [['a.ckpt', NaN] as [string, number]] } },
  ];
  const p = join(tmp, 'events.jsonl');
  writeFileSync(p, events.map(encodeLoopEvent).join('\r\n') + '\n\n');
  const { events: back } = await readAll(p);
  assert.deepEqual(
    back.map((e) => e.event),
    events,
  );
  assert.deepEqual(back.slice(0, 2).map((e) => e.line), [1, 2]);
});

test('problems name the line and the field, with what was expected', async () => {
  const lines = [
    '{"type":"setup","stage":"fit"}',
    '{"type":"validationEnded","view":{"epoch":0,"globalStep":"3"}}',
    '{"type":"trainEpochEnded","view":{"epoch":0,"globalStep":3,"metrics":{"val_loss":"nan"}}}',
    'not json',
    '{"type":"trainBatchEnd","view":{"epoch":0,"globalStep":1}}',
    '{"type":"trainEnded","view":{"epoch":1,"globalStep":3}}',
  ];
  const p = join(tmp, 'bad.jsonl');
  writeFileSync(p, lines.join('\n'));
  await assert.rejects(readAll(p), (e: unknown) => e instanceof SourceError && e.message === `${p}:2: view.globalStep: got "3", expected a non-negative integer`);
  const { events, skipped } = await readAll(p, true);
  assert.deepEqual(events.map((e) => [e.line, e.event.type]), [
    [1, 'setup'],
    [6, 'trainEnded'],
  ]);
  assert.deepEqual(
    skipped.map((s) => s.message.slice(p.length + 1)),
    [
      '2: view.globalStep: got "3", expected a non-negative integer',
      '3: view.metrics.val_loss: got "nan", expected a number or "NaN" / "Infinity" / "-Infinity" / "-0"',
      "4: not valid JSON (Unexpected token 'o', \"not json\" is not valid JSON)",
      '5: type: got "trainBatchEnd", expected one of setup, stateLoaded, trainStarted, trainBatchEnded, validationEnded, trainEpochEnded, trainEnded, exceptionRaised, filesListed',
    ],
  );
});

test('a state dict may give best_k_models as Lightning does (a path -> score object)', () => {
  const r = decodeLoopEvent({ type: 'stateLoaded', stateDict: { best_model_path: 'b', best_model_score: 0.5, best_k_models: { a: 1, b: 'Infinity' } } });
  assert.ok(E.isRight(r));
  assert.deepEqual(r.right.type === 'stateLoaded' && r.right.stateDict.best_k_models, [
    ['a', 1],
    ['b', Infinity],
  ]);
});
