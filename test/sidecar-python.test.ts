/**
 * examples/python/sidecar_client.py, run with the machine's python3: a Python loop that lets the
 * sidecar decide and carries out the effects itself. The files it leaves are the ones the reducer
 * predicts for the events it sent; stopped abruptly and resumed, it ends like an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { parseConfig } from '../src/core/config.ts';
import { decodeEvent } from '../src/core/eventCodec.ts';
import { fileKey, listing } from '../src/core/files.ts';
import { init, reduce } from '../src/core/reduce.ts';
import { CKPT } from './helpers/cli.ts';

const CLIENT = fileURLToPath(new URL('../examples/python/sidecar_client.py', import.meta.url));
const OPTIONS = { monitor: 'val_loss', mode: 'min', save_top_k: 2, save_last: true, filename: '{epoch}-{val_loss:.4f}' }; // as in the client

function client(args: string[]) {
  const r = spawnSync('python3', [CLIENT, ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', CKPT_COMMAND: JSON.stringify([process.execPath, ...CKPT]) } });
  return r;
}

test('the Python client leaves exactly the files the reducer predicts for the events it sent', () => {
  const root = mkdtempSync(join(tmpdir(), 'ckpt-py-'));
  const dir = join(root, 'ckpts');
  const log = join(root, 'events.jsonl');
  const r = client(['--dir', dir, '--epochs', '7', '--events-log', log]);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);

  let [state] = init(parseConfig({ ...OPTIONS, dirpath: dir }), { cwd: root });
  for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
    const ev = decodeEvent(JSON.parse(line));
    assert.ok(E.isRight(ev), line);
    [state] = reduce(state, ev.right);
  }
  const expected = listing(state.files, fileKey(dir, '/')).map((f) => f.path.slice(dir.length + 1)).sort();
  assert.deepEqual(readdirSync(dir).sort(), expected);
  assert.equal(expected.length, 3);
  assert.deepEqual(summary.best_k_models, [...state.bestKModels.entries()]);
  // each checkpoint carries the record of the decision that saved it
  const last = JSON.parse(readFileSync(join(dir, 'last.ckpt'), 'utf8'));
  assert.equal(last.ckpt_policy.epoch, 6);
  assert.equal(last.ckpt_policy.state.rules.last.last_model_path, join(dir, 'last.ckpt'));
});

test('stopped abruptly after epoch 2 and resumed from last.ckpt, it ends with the uninterrupted run\'s checkpoints', () => {
  const whole = join(mkdtempSync(join(tmpdir(), 'ckpt-py-whole-')), 'ckpts');
  const split = join(mkdtempSync(join(tmpdir(), 'ckpt-py-split-')), 'ckpts');
  assert.equal(client(['--dir', whole, '--epochs', '6']).status, 0);
  const stopped = client(['--dir', split, '--epochs', '6', '--stop-after-epoch', '2']);
  assert.equal(stopped.status, 3);
  const resumed = client(['--dir', split, '--epochs', '6', '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming after epoch 2 \(step 12\)/);
  assert.deepEqual(readdirSync(split).sort(), readdirSync(whole).sort());
  const a = JSON.parse(readFileSync(join(whole, 'last.ckpt'), 'utf8'));
  const b = JSON.parse(readFileSync(join(split, 'last.ckpt'), 'utf8'));
  assert.deepEqual(b.weights, a.weights);
  assert.deepEqual(b.ckpt_policy.state.rules.topK.best_k_models.map(([p, s]: [string, number]) => [p.slice(split.length), s]), a.ckpt_policy.state.rules.topK.best_k_models.map(([p, s]: [string, number]) => [p.slice(whole.length), s]));
});
