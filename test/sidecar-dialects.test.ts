/** `ckpt serve --stdio --dialect NAME`: bad lines and bad flags get errors naming the field, the value and what is allowed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CKPT, STACK } from './helpers/cli.ts';

function serve(args: string[], lines: string[]) {
  const r = spawnSync(process.execPath, [...CKPT, 'serve', '--stdio', ...args], { input: lines.join('\n') + '\n', encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, stderr: r.stderr, answers: r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => JSON.parse(l)) };
}

test('each dialect refuses bad lines in its own terms and keeps serving', () => {
  const k = serve(['--dialect', 'keras'], [
    '{"_tag":"EpochBegan","epoch":0}',
    '{"type":"init","options":{"filpath":"m.keras"}}',
    '{"type":"init","options":{"filepath":"m.keras","save_best_only":true}}',
    '{"_tag":"EpochEnded","epoch":"0","logs":{}}',
    '{"_tag":"EpochEnded","epoch":0,"logs":{"val_loss":NaN}}',
    '{"_tag":"EpochBegan","epoch":1}',
  ]);
  assert.deepEqual(k.answers.map((a) => a.ok || a.error.kind), ['order', 'config', true, 'shape', true, 'order']);
  assert.match(k.answers[1].error.message, /unexpected keyword argument 'filpath'/);
  assert.match(k.answers[3].error.message, /epoch: got "0", expected number/);
  assert.equal(k.answers[4].effects.at(-1)._tag, 'Save');
  assert.match(k.answers[5].error.message, /awaits its outcome/);

  const o = serve(['--dialect', 'orbax'], ['{"type":"init","options":{"max_to_keep":-1},"t":0}', '{"type":"init","options":{},"t":0}', '{"call":"save","step":1.5,"t":1}', '{"call":"sav"}', '{"type":"resume","state":{}}']);
  assert.deepEqual(o.answers.map((a) => a.ok || a.error.kind), ['config', true, 'shape', 'shape', 'order']);
  assert.equal(o.answers[0].error.raised.type, 'ValueError');
  assert.match(o.answers[2].error.message, /step: got 1.5, expected an integer/);
  assert.match(o.answers[3].error.message, /call="sav" is not allowed: expected call \(one of save, should_save/);

  const h = serve(['--dialect', 'transformers'], ['{"type":"init","options":{"output_dir":"o","save_strategy":"often"},"setup":{"trainBatches":1,"hasEvalDataset":false}}', '{"type":"init","options":{"output_dir":"o"},"setup":{"trainBatches":0,"hasEvalDataset":false}}', '{"type":"init","options":{"output_dir":"o"},"setup":{"trainBatches":2,"hasEvalDataset":false}}', '{"type":"stepEnded","globalStep":1,"epoch":0.5,"time":1}']);
  assert.deepEqual(h.answers.map((a) => a.ok || a.error.kind), ['config', 'shape', true, 'order']);
  assert.match(h.answers[0].error.message, /often is not a valid SaveStrategy/);
  assert.match(h.answers[1].error.message, /setup: trainBatches: got 0, expected a positive integer/);
  assert.match(h.answers[3].error.message, /train\(\) has not begun; expected trainBegan/);
  for (const r of [k, o, h]) assert.doesNotMatch(r.stderr, STACK);
});

test('a resumed Keras state continues exactly where the answer left it', () => {
  const init = '{"type":"init","options":{"filepath":"m-{epoch}.keras","save_best_only":true}}';
  const a = serve(['--dialect', 'keras'], [init, '{"_tag":"EpochEnded","epoch":0,"logs":{"val_loss":0.5}}', '{"_tag":"SaveCompleted"}']);
  const state = a.answers.at(-1).state;
  const b = serve(['--dialect', 'keras'], [JSON.stringify({ type: 'resume', state }), '{"_tag":"EpochEnded","epoch":1,"logs":{"val_loss":0.6}}', '{"_tag":"EpochEnded","epoch":2,"logs":{"val_loss":0.4}}']);
  assert.deepEqual(b.answers.map((x) => x.effects?.at(-1)?._tag), [undefined, 'NotSaved', 'Save']);
});

test('unknown dialects and Lightning-only flags are refused before serving', () => {
  const bad = serve(['--dialect', 'jax'], []);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--dialect "jax" is not allowed: expected lightning \(the default\), keras, orbax, transformers/);
  const flags = serve(['--dialect', 'keras', '--store', '/tmp/x'], []);
  assert.equal(flags.code, 2);
  assert.match(flags.stderr, /--store cannot be used with --dialect keras/);
});
