/**
 * The composed-retention extension (keep_* options beside save_top_k) works wherever a policy is
 * accepted: the runtime keeps exactly the union in a real store, the decision log of such a run
 * verifies, and the sidecar answers with the reducer's own effects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitEvents } from '../src/core/loop.ts';
import { parseConfig } from '../src/core/config.ts';
import { init, reduce } from '../src/core/reduce.ts';
import { encodeEvent } from '../src/core/eventCodec.ts';
import { Checkpointer } from '../src/runtime/index.ts';
import { openFsStore } from '../plugins/fs/index.ts';
import { openDecisionLog, drive, verifyLog, formatVerifyReport } from '../src/audit/index.ts';
import { CKPT } from './helpers/cli.ts';

const CURVE = [0.9, 0.4, 0.6, 0.3, 0.7, 0.8];
// the best 1 by val_loss, and the latest 2: epoch 3 (0.3) and epochs 4 and 5
const OPTIONS = { monitor: 'val_loss', save_top_k: 1, keep_latest: 2, filename: '{epoch}' };
const EXPECTED = ['epoch=3.ckpt', 'epoch=4.ckpt', 'epoch=5.ckpt'];

test('the runtime keeps exactly the union of best-1 and latest-2 in a real folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-keep-rt-'));
  const ck = await Checkpointer.open({
    options: OPTIONS,
    store: await openFsStore({ root: dir }),
    capture: ({ record }) => ({ kind: 'bytes', data: new TextEncoder().encode(JSON.stringify({ record })) }),
    log: () => undefined,
  });
  await ck.trainStarted({ epoch: 0, globalStep: 0 });
  for (const [epoch, val_loss] of CURVE.entries()) await ck.epochEnded({ epoch, globalStep: (epoch + 1) * 10, metrics: { val_loss } });
  await ck.trainEnded({ epoch: CURVE.length, globalStep: CURVE.length * 10 });
  assert.deepEqual((await ck.store.list()).map((e) => e.key), EXPECTED);
  assert.equal(ck.bestModelPath, join(dir, 'epoch=3.ckpt'));
  await ck.close();
});

test('a decision log of a composed policy verifies, replaying every decision', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'ckpt-keep-log-')), 'decisions.jsonl');
  const log = openDecisionLog(path);
  const events = [...fitEvents({ epochs: CURVE.length, batchesPerEpoch: 2, valMetrics: (e) => ({ val_loss: CURVE[e]! }) })];
  drive(log, parseConfig({ ...OPTIONS, dirpath: '/ckpts' }), events, { cwd: '/' });
  log.close();
  const r = verifyLog({ kind: 'file', path });
  assert.equal(r.status, 'verified', formatVerifyReport(r).join('\n'));
});

test('the sidecar answers a composed policy with the reducer\'s effects', () => {
  const options = { ...OPTIONS, dirpath: '/ckpts' };
  const events = [...fitEvents({ epochs: CURVE.length, batchesPerEpoch: 2, valMetrics: (e) => ({ val_loss: CURVE[e]! }) })];
  const input = events.map((e) => JSON.stringify(encodeEvent(e))).join('\n') + '\n';
  const r = spawnSync(process.execPath, [...CKPT, 'serve', '--stdio', '--options', JSON.stringify(options), '--cwd', '/'], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const answers = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; effects: { type: string; path?: string }[] });
  let [state] = init(parseConfig(options), { cwd: '/' });
  const removed: string[] = [];
  events.forEach((ev, i) => {
    const [next, expected] = reduce(state, ev);
    state = next;
    assert.equal(answers[i]!.ok, true, JSON.stringify(answers[i]));
    assert.deepEqual(answers[i]!.effects.filter((e) => e.type !== 'log').map((e) => [e.type, e.path]), expected.filter((e) => e.type !== 'log').map((e) => [e.type, 'path' in e ? e.path : undefined]));
    for (const e of expected) if (e.type === 'remove') removed.push(e.path);
  });
  // what the union let go of: epochs 0, 1, 2 (not the best, no longer among the latest two)
  assert.deepEqual(removed.sort(), ['/ckpts/epoch=0.ckpt', '/ckpts/epoch=1.ckpt', '/ckpts/epoch=2.ckpt']);
});
