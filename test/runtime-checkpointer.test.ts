/** The checkpointer in a hand-written loop, on the real filesystem store. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../plugins/fs/index.ts';
import type { CheckpointStore, Payload } from '../src/core/store.ts';
import { ConfigError, parseConfig, type CheckpointOptions } from '../src/core/config.ts';
import type { Effect } from '../src/core/effects.ts';
import type { LoopEvent } from '../src/core/events.ts';
import { fileKey, listing } from '../src/core/files.ts';
import { fitEvents } from '../src/core/loop.ts';
import { init, reduce } from '../src/core/reduce.ts';
import { Checkpointer, PolicyRaisedError, type CaptureRequest, type CheckpointRecord } from '../src/runtime/index.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `ckpt-rt-${p}-`));
/** The checkpoints in a folder (not the writer lease beside them). */
const checkpointsIn = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('.ckpt-policy-lease')).sort();
const CURVE = [0.8, 0.5, 0.9, 0.4, 0.45, 0.3, 0.6, 0.35];
const events = (batches = 3): LoopEvent[] => [...fitEvents({ epochs: CURVE.length, batchesPerEpoch: batches, valMetrics: (e) => ({ val_loss: CURVE[e]! }) })].filter((e) => e.type !== 'setup');

/** A "model" whose bytes say which decision captured it, with the record inside (byte payloads embed it themselves). */
const capture = (req: CaptureRequest): Payload => ({ kind: 'bytes', data: new TextEncoder().encode(JSON.stringify({ weights: req.record.globalStep, record: req.record })) });
const readRecord = (p: Payload) => (p.kind === 'bytes' ? JSON.parse(new TextDecoder().decode(p.data)).record : undefined);

/** A real fs store with a delay on saves, counting how many run at once. */
function slowed(store: CheckpointStore, ms: number) {
  let running = 0;
  let maxRunning = 0;
  const order: string[] = [];
  const wrapped: CheckpointStore = {
    ...store,
    async save(key, p) {
      maxRunning = Math.max(maxRunning, ++running);
      await new Promise((r) => setTimeout(r, ms));
      try {
        await store.save(key, p);
        order.push(`save ${key}`);
      } finally {
        running--;
      }
    },
    async remove(key) {
      await store.remove(key);
      order.push(`remove ${key}`);
    },
  };
  return { wrapped, order, maxRunning: () => maxRunning };
}

function predicted(options: CheckpointOptions, dir: string, evs: LoopEvent[]) {
  let [s] = init(parseConfig({ ...options, dirpath: dir }), { cwd: '/' });
  [s] = reduce(s, { type: 'setup', files: [] });
  for (const e of evs) [s] = reduce(s, e);
  return { state: s, files: listing(s.files, fileKey(dir, '/')).map((f) => f.path.slice(dir.length + 1)).sort() };
}

const OPTIONS: CheckpointOptions = { monitor: 'val_loss', save_top_k: 2, save_last: true };

test('background writes leave exactly the reducer\'s files, at most maxInFlight saves at once, each removal after its save', async () => {
  const dir = tmp('bg');
  const slow = slowed(await openFsStore({ root: dir }), 15);
  const settled: string[] = [];
  const ck = await Checkpointer.open({
    options: OPTIONS,
    store: slow.wrapped,
    capture,
    background: { maxInFlight: 2 },
    log: () => undefined,
    observer: { effectSettled: (s) => s.effect.type !== 'log' && settled.push(`${s.seq}:${s.index}:${s.effect.type}:${s.outcome.status}`) },
  });
  const blocked: number[] = [];
  for (const e of events()) {
    const t0 = performance.now();
    await ck.report(e);
    blocked.push(performance.now() - t0);
  }
  await ck.flush();
  const expected = predicted(OPTIONS, dir, events());
  assert.deepEqual(checkpointsIn(dir), expected.files);
  assert.deepEqual(ck.bestKModels.map((k) => [k.path, k.score]), [...expected.state.bestKModels.entries()]);
  assert.equal(slow.maxRunning(), 2);
  // a removal is carried out only after every save of its own decision
  for (const line of settled.filter((s) => s.includes(':remove:'))) {
    const [seq, idx] = line.split(':').map(Number);
    for (const save of settled.filter((s) => s.startsWith(`${seq}:`) && s.includes(':save:'))) {
      if (Number(save.split(':')[1]) < idx!) assert.ok(settled.indexOf(save) < settled.indexOf(line), `${save} settled before ${line}`);
    }
  }
  assert.ok(settled.every((s) => s.endsWith(':done')));
  // what was saved under last.ckpt is the final model, with its record
  const last = JSON.parse(readFileSync(join(dir, 'last.ckpt'), 'utf8'));
  assert.equal(last.record.key, 'last.ckpt');
  assert.deepEqual(last.record.state.rules.topK.best_k_models, [...expected.state.bestKModels.entries()]);
  assert.match(ck.toYaml(), /epoch=5-step=18\.ckpt: 0\.3/);
  assert.equal(ck.stateDict().best_model_path, expected.state.bestModelPath);
});

test('awaited writes: report resolves only when the checkpoint is on disk', async () => {
  const dir = tmp('await');
  const ck = await Checkpointer.open({ options: OPTIONS, store: await openFsStore({ root: dir }), capture, background: false, log: () => undefined });
  for (const e of events()) {
    const effects = await ck.report(e);
    for (const s of effects) if (s.type === 'save') assert.ok(checkpointsIn(dir).includes(ck.keyOf(s.path)));
    for (const s of effects) if (s.type === 'remove') assert.ok(!checkpointsIn(dir).includes(ck.keyOf(s.path)));
  }
  assert.deepEqual(checkpointsIn(dir), predicted(OPTIONS, dir, events()).files);
});

test("Lightning's raise (monitor missing after validation) is thrown as PolicyRaisedError with Lightning's type and text", async () => {
  const dir = tmp('raise');
  const ck = await Checkpointer.open({ options: { monitor: 'val_acc', save_last: true }, store: await openFsStore({ root: dir }), capture, log: () => undefined });
  await ck.trainStarted({ epoch: 0, globalStep: 0 });
  const err = await ck.epochEnded({ epoch: 0, globalStep: 3, valLoopHasRun: true, metrics: { val_loss: 0.5 } }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof PolicyRaisedError);
  assert.equal(err.errorType, 'MisconfigurationException');
  assert.match(err.message, /could not find the monitored key in the returned metrics: \['val_loss', 'epoch', 'step'\]/);
});

test('a fresh start in a folder that holds checkpoints: version counter and warning, as Lightning', async () => {
  const dir = tmp('nonempty');
  writeFileSync(join(dir, 'epoch=0-step=3.ckpt'), 'from an earlier run');
  const warnings: string[] = [];
  const ck = await Checkpointer.open({ options: OPTIONS, store: await openFsStore({ root: dir }), capture, log: (l, m) => l === 'warning' && warnings.push(m) });
  assert.deepEqual(warnings, [`Checkpoint directory ${dir} exists and is not empty.`]);
  const effects = await ck.epochEnded({ epoch: 0, globalStep: 3, metrics: { val_loss: 0.5 } });
  await ck.flush();
  assert.deepEqual(effects.filter((e): e is Extract<Effect, { type: 'save' }> => e.type === 'save').map((e) => ck.keyOf(e.path)), ['epoch=0-step=3-v1.ckpt', 'last.ckpt']);
  assert.equal(readFileSync(join(dir, 'epoch=0-step=3.ckpt'), 'utf8'), 'from an earlier run');
});

test('resume from the latest record continues with the uninterrupted run\'s decisions; changed options fall back to Lightning\'s state_dict', async () => {
  const all = events();
  const whole = tmp('whole');
  const a = await Checkpointer.open({ options: OPTIONS, store: await openFsStore({ root: whole }), capture, log: () => undefined });
  const decisionsA: string[] = [];
  for (const e of all) decisionsA.push(...(await a.report(e)).filter((x) => x.type !== 'log').map((x) => `${x.type} ${'path' in x ? a.keyOf(x.path) : ''}`));
  await a.flush();

  const split = tmp('split');
  const stop = all.findIndex((e) => e.type === 'trainEpochEnded' && e.view.epoch === 4);
  const b1 = await Checkpointer.open({ options: OPTIONS, store: await openFsStore({ root: split }), capture, log: () => undefined });
  const decisionsB: string[] = [];
  for (const e of all.slice(0, stop + 1)) decisionsB.push(...(await b1.report(e)).filter((x) => x.type !== 'log').map((x) => `${x.type} ${'path' in x ? b1.keyOf(x.path) : ''}`));
  await b1.close(); // the first part of the run ends (a crash would leave a dead pid: the same for the lease)
  const b2 = await Checkpointer.open({ options: OPTIONS, store: await openFsStore({ root: split }), capture, readRecord, resume: 'latest', log: () => undefined });
  assert.equal(b2.resumed?.mode, 'exact');
  assert.equal((b2.resumed?.record as CheckpointRecord).epoch, 4);
  for (const e of all.slice(stop + 1)) decisionsB.push(...(await b2.report(e)).filter((x) => x.type !== 'log').map((x) => `${x.type} ${'path' in x ? b2.keyOf(x.path) : ''}`));
  await b2.close();
  assert.deepEqual(decisionsB, decisionsA);
  assert.deepEqual(checkpointsIn(split), checkpointsIn(whole));

  const warnings: string[] = [];
  const c = await Checkpointer.open({ options: { ...OPTIONS, save_top_k: 3 }, store: await openFsStore({ root: split }), capture, readRecord, resume: 'latest', log: (l, m) => l === 'warning' && warnings.push(m) });
  assert.equal(c.resumed?.mode, 'lightning');
  assert.equal(c.bestModelPath, b2.bestModelPath);
});

test('bad input is refused with the field, the value and what is allowed', async () => {
  const dir = tmp('bad');
  const store = await openFsStore({ root: dir });
  await assert.rejects(Checkpointer.open({ options: { save_top_k: 'all' }, store, capture }), (e: unknown) => e instanceof ConfigError && /save_top_k="all" is not allowed: expected an integer/.test(e.message));
  await assert.rejects(Checkpointer.open({ options: { dirpath: '/somewhere/else' }, store, capture }), /dirpath="\/somewhere\/else" does not match the store's location/);
  await assert.rejects(Checkpointer.open({ options: OPTIONS, store, capture, background: { maxInFlight: 0 } }), /maxInFlight=0 is not allowed: expected an integer >= 1/);
  await assert.rejects(Checkpointer.open({ options: OPTIONS, store, capture, resume: { key: 'nope.ckpt' } }), /cannot resume from nope\.ckpt: the store holds no such checkpoint/);
});
