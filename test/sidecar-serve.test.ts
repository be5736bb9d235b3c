/** `ckpt serve --stdio` as a loop in another language drives it: a child process, JSON lines both ways. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodeEvent } from '../src/core/eventCodec.ts';
import { fitEvents } from '../src/core/loop.ts';
import { parseConfig } from '../src/core/config.ts';
import { init, reduce } from '../src/core/reduce.ts';
import type { Effect } from '../src/core/effects.ts';
import { CKPT } from './helpers/cli.ts';
import { checkpointFiles } from './helpers/folder.ts';


/** A sidecar child: send a line, get the next answer line. */
function sidecar(args: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [...CKPT, 'serve', '--stdio', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const answers: Array<(l: string) => void> = [];
  const early: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    const w = answers.shift();
    if (w) w(l);
    else early.push(l);
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return {
    async send(line: string): Promise<Record<string, any>> {
      const p = new Promise<string>((r) => (early.length ? r(early.shift()!) : answers.push(r)));
      child.stdin.write(line + '\n');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((_, rej) => (timer = setTimeout(() => rej(new Error(`no answer to ${line}; stderr: ${stderr}`)), 20_000)));
      try {
        return JSON.parse(await Promise.race([p, timeout]));
      } finally {
        clearTimeout(timer);
      }
    },
    kill: () => child.kill('SIGKILL'),
    async close(): Promise<number | null> {
      child.stdin.end();
      return new Promise((r) => child.on('close', (code) => r(code)));
    },
  };
}

const OPTIONS = { dirpath: '/ckpts', monitor: 'val_loss', save_top_k: 2, save_last: true };
const CURVE = [0.9, 0.6, 0.75, 0.5, 0.55, 0.3, 0.45];

test('malformed lines get an error naming the problem, and the sidecar keeps serving', async () => {
  const s = sidecar(['--options', JSON.stringify(OPTIONS)]);
  const bad = await s.send('{"type": "setup", ');
  assert.equal(bad.ok, false);
  assert.equal(bad.line, 1);
  assert.equal(bad.error.kind, 'json');

  const wrongType = await s.send(JSON.stringify({ type: 'epochEnded', view: { epoch: 0, globalStep: 1 } }));
  assert.equal(wrongType.error.kind, 'shape');
  assert.match(wrongType.error.message, /type=.*"epochEnded".*expected one of .*trainEpochEnded/);

  const early = await s.send(JSON.stringify({ type: 'trainEpochEnded', view: { epoch: 0, globalStep: 3, metrics: { val_loss: 0.5 } } }));
  assert.equal(early.error.kind, 'order');
  assert.match(early.error.message, /before setup/);

  assert.equal((await s.send(JSON.stringify({ type: 'setup', files: [] }))).ok, true);
  const badField = await s.send(JSON.stringify({ type: 'trainEpochEnded', view: { epoch: 0, globalStep: '3', metrics: { val_loss: 0.5 } } }));
  assert.equal(badField.ok, false);
  assert.match(badField.error.message, /view\.globalStep: got "3", expected/);
  const badMetric = await s.send(JSON.stringify({ type: 'trainEpochEnded', view: { epoch: 0, globalStep: 3, metrics: { val_loss: 'low' } } }));
  assert.match(badMetric.error.message, /view\.metrics\.val_loss: got "low"/);

  // still serving: Python's bare NaN is read as NaN (Lightning keeps a NaN score as the worst value)
  const ok = await s.send('{"type": "trainEpochEnded", "view": {"epoch": 0, "globalStep": 3, "metrics": {"val_loss": NaN}}}');
  assert.equal(ok.ok, true);
  assert.deepEqual(ok.effects.map((e: Effect) => e.type), ['save', 'save']);
  assert.equal(ok.best_model_score, 'Infinity');
  assert.equal(ok.line, 7);
  assert.equal(await s.close(), 0);
});

test('decide mode answers each event with exactly the reducer\'s effects, with keys, reasons and a resume record', async () => {
  const s = sidecar(['--options', JSON.stringify(OPTIONS), '--cwd', '/work']);
  const events = [...fitEvents({ epochs: CURVE.length, batchesPerEpoch: 3, valMetrics: (e) => ({ val_loss: CURVE[e]! }) })];
  let [state] = init(parseConfig(OPTIONS), { cwd: '/work' });
  for (const ev of events) {
    const answer = await s.send(JSON.stringify(encodeEvent(ev)));
    let expected: readonly Effect[];
    [state, expected] = reduce(state, ev);
    assert.equal(answer.ok, true, JSON.stringify(answer));
    assert.deepEqual(
      answer.effects.map((e: Record<string, unknown>) => [e.type, e.path ?? e.message]),
      expected.map((e) => [e.type, 'path' in e ? e.path : 'message' in e ? e.message : undefined]),
    );
    for (const e of answer.effects) if (e.type === 'save' || e.type === 'remove') assert.equal(e.key, e.path.slice('/ckpts/'.length));
    assert.equal(answer.best_model_path, state.bestModelPath);
    if (expected.some((e) => e.type === 'save')) {
      assert.equal(answer.record.format, 'ckpt-policy/record@1');
      assert.deepEqual(answer.record.state.rules.topK.best_k_models, [...state.bestKModels.entries()]);
    } else assert.equal(answer.record, undefined);
  }
  const q = await s.send('{"type":"query"}');
  assert.deepEqual(q.best_k_models, [...state.bestKModels.entries()]);
  assert.equal(q.last_model_path, '/ckpts/last.ckpt');
  assert.equal(await s.close(), 0);
});

test('a resume record restores the exact policy: the rest of the run decides as an uninterrupted one', async () => {
  const events = [...fitEvents({ epochs: CURVE.length, batchesPerEpoch: 2, valMetrics: (e) => ({ val_loss: CURVE[e]! }) })];
  const whole = sidecar(['--options', JSON.stringify(OPTIONS)]);
  const wholeAnswers: Array<Record<string, any>> = [];
  for (const ev of events) wholeAnswers.push(await whole.send(JSON.stringify(encodeEvent(ev))));
  await whole.close();

  // the first run stops after epoch 3's checkpoint; the second starts from the record it saved
  const stopAt = events.findIndex((e) => e.type === 'trainEpochEnded' && e.view.epoch === 3);
  const first = sidecar(['--options', JSON.stringify(OPTIONS)]);
  let record: unknown;
  for (const ev of events.slice(0, stopAt + 1)) record = (await first.send(JSON.stringify(encodeEvent(ev)))).record ?? record;
  await first.close();
  const second = sidecar(['--options', JSON.stringify(OPTIONS)]);
  const resumed = await second.send(JSON.stringify({ type: 'resume', record }));
  assert.equal(resumed.mode, 'exact');
  assert.equal(resumed.epoch, 3);
  await second.send(JSON.stringify({ type: 'setup', files: [] })); // the listing is replaced by the one the run believed in
  const rest = events.slice(stopAt + 1).filter((e) => e.type !== 'setup');
  for (const ev of rest) {
    const a = await second.send(JSON.stringify(encodeEvent(ev)));
    const b = wholeAnswers[events.indexOf(ev)]!;
    assert.deepEqual(a.effects.map((e: Effect) => e.type + ' ' + ('path' in e ? e.path : '')), b.effects.map((e: Effect) => e.type + ' ' + ('path' in e ? e.path : '')));
  }
  const q = await second.send('{"type":"query"}');
  assert.deepEqual(q.best_k_models, wholeAnswers.at(-1)!.record?.state.best_k_models ?? q.best_k_models);
  await second.close();
});

test('--stdio is required and bad options are refused before serving', async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; err: string }>((r) => {
      const c = spawn(process.execPath, [...CKPT, 'serve', ...args]);
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      c.stdin.end();
      c.on('close', (code) => r({ code, err }));
    });
  const noStdio = await run([]);
  assert.equal(noStdio.code, 2);
  assert.match(noStdio.err, /--stdio is required/);
  const badOptions = await run(['--stdio', '--options', '{"save_top_k": 3, "monitr": "loss"}']);
  assert.equal(badOptions.code, 2);
  assert.match(badOptions.err, /unknown option 'monitr' \(did you mean 'monitor'\?\)/);
  // an init line with bad options is answered with an error, and serving goes on
  const s = sidecar([]);
  const a = await s.send('{"type":"init","options":{"mode":"maximum"}}');
  assert.equal(a.ok, false);
  assert.equal(a.error.kind, 'config');
  assert.match(a.error.message, /mode="maximum" is not allowed/);
  assert.equal((await s.send('{"type":"init","options":{"monitor":"loss"}}')).ok, true);
  await s.close();
});

test('store mode: the sidecar writes the payload file the loop names under each decided key, and removes what the policy drops', async (t) => {
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-sidecar-store-'));
  const staging = mkdtempSync(join(tmpdir(), 'ckpt-sidecar-staging-'));
  const s = sidecar(['--store', dir, '--options', JSON.stringify({ monitor: 'val_loss', save_top_k: 1, save_last: true })]);
  t.after(() => s.kill());
  const setup = await s.send('{"type":"setup"}');
  assert.equal(setup.dirpath, dir);
  for (const [epoch, loss] of [[0, 0.5], [1, 0.4], [2, 0.3]] as const) {
    const decision = await s.send(JSON.stringify({ type: 'trainEpochEnded', view: { epoch, globalStep: (epoch + 1) * 4, metrics: { val_loss: loss } } }));
    assert.equal(decision.ok, true);
    assert.equal(decision.awaiting, 'payload');
    if (epoch === 2) {
      // a wrong line while the payload is awaited is refused, and the payload is still awaited
      const wrong = await s.send(JSON.stringify({ type: 'trainEpochEnded', view: { epoch: 3, globalStep: 16 } }));
      assert.equal(wrong.error.kind, 'order');
      assert.match(wrong.error.message, /a payload line is awaited/);
      const missing = await s.send(JSON.stringify({ type: 'payload', file: join(staging, 'absent.bin') }));
      assert.equal(missing.error.kind, 'payload');
      assert.match(missing.error.message, /cannot read payload file .*absent\.bin.*ENOENT/);
    }
    const file = join(staging, `model-${epoch}.bin`);
    writeFileSync(file, `weights of epoch ${epoch}`);
    const done = await s.send(JSON.stringify({ type: 'payload', file }));
    assert.equal(done.ok, true, JSON.stringify(done));
    assert.ok(done.outcomes.every((o: { status: string }) => o.status === 'done'));
  }
  assert.deepEqual(checkpointFiles(dir), ['epoch=2-step=12.ckpt', 'last.ckpt']);
  assert.equal(readFileSync(join(dir, 'epoch=2-step=12.ckpt'), 'utf8'), 'weights of epoch 2');
  assert.equal(readFileSync(join(dir, 'last.ckpt'), 'utf8'), 'weights of epoch 2');
  assert.equal(await s.close(), 0);
});
