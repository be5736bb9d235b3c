/**
 * OrbaxCheckpointManager on real stores (memory, local filesystem): what a restart reads back,
 * what a failed write leaves, uncommitted folders, todelete_subdir, restore, the writer lease, and
 * inputs that must not reach the store (paths that would leave it, bad steps and metrics).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckpointStore } from '../src/core/store.ts';
import { tfjsMemoryStore } from '../plugins/tfjs-memory/index.ts';
import { openFsStore } from '../plugins/fs/index.ts';
import { OrbaxCheckpointManager, OrbaxError, OrbaxInputError, MARKER } from '../src/dialects/orbax/runtime/index.ts';
import { WriterLeaseError } from '../src/runtime/errors.ts';
import { committedNames, failingStore } from './helpers/orbax-replay.ts';

const bytes = (n: number) => new Uint8Array([n, n + 1, n + 2]);
const quiet = { log: () => undefined };

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ckpt-orbax-rt-'));
}

/** A clock the test moves: one second per call by default. */
function clock(start = 1_700_000_000) {
  let t = start;
  return { now: () => t, step: (s = 1) => (t += s) };
}

const keys = async (s: CheckpointStore) => (await s.list()).map((e) => e.key);

for (const kind of ['memory', 'fs'] as const) {
  const open = async (dir: string): Promise<CheckpointStore> => (kind === 'memory' ? tfjsMemoryStore({ name: dir }) : openFsStore({ root: dir }));

  test(`${kind}: a restart reads the store back as Orbax reads its directory: steps, commit times, metrics only with best_fn`, async () => {
    const dir = tempDir();
    try {
      const store = await open(dir);
      const c = clock();
      const options = { max_to_keep: 3, best_fn: { metric: 'loss' }, best_mode: 'min', enable_async_checkpointing: false };
      const m = await OrbaxCheckpointManager.open({ store, options, now: c.now, ...quiet });
      const losses = [0.9, 0.5, 0.7, 0.6, 0.8];
      for (const [i, loss] of losses.entries()) {
        c.step();
        assert.equal(await m.save(i * 10, { state: bytes(i) }, { metrics: { loss } }), true);
      }
      // best_fn ranks: the 3 lowest losses are kept, whatever their order
      assert.deepEqual(m.all_steps(), [10, 20, 30]);
      assert.equal(await m.best_step(), 10);
      await m.close();
      assert.deepEqual((await committedNames(store)).sort(), ['10', '20', '30']);

      const again = await OrbaxCheckpointManager.open({ store, options, now: c.now, ...quiet });
      assert.deepEqual(again.all_steps(), [10, 20, 30]);
      assert.equal(await again.best_step(), 10, 'metrics were written beside the steps (best_fn is set)');
      assert.deepEqual(await again.restore(20), { state: { kind: 'bytes', data: bytes(2) } });
      // the restarted manager continues: a step at or below the latest is refused, a better one displaces the worst
      c.step();
      assert.equal(await again.save(30, { state: bytes(9) }), false);
      c.step();
      assert.equal(await again.save(60, { state: bytes(6) }, { metrics: { loss: 0.1 } }), true);
      assert.deepEqual(again.all_steps(), [10, 30, 60]);
      await again.close();
      assert.deepEqual((await committedNames(store)).sort(), ['10', '30', '60']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: BestN without best_fn ranks in memory only; after a restart every step has no metrics and all are kept (Orbax's behaviour)`, async () => {
    const dir = tempDir();
    try {
      const store = await open(dir);
      const c = clock();
      const options = { preservation_policy: { type: 'BestN', metric: 'loss', reverse: true, n: 2 }, enable_async_checkpointing: false };
      const m = await OrbaxCheckpointManager.open({ store, options, now: c.now, ...quiet });
      for (const [i, loss] of [0.5, 0.4, 0.3].entries()) {
        c.step();
        await m.save(i, { s: bytes(i) }, { metrics: { loss } });
      }
      assert.deepEqual(m.all_steps(), [1, 2]);
      await m.close();
      assert.ok(!(await keys(store)).some((k) => k.includes('metrics')));
      const again = await OrbaxCheckpointManager.open({ store, options, now: c.now, ...quiet });
      c.step();
      await again.save(3, { s: bytes(3) }, { metrics: { loss: 0.9 } });
      assert.deepEqual(again.all_steps(), [1, 2, 3], 'the restarted steps have no metrics: BestN keeps them');
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: a write the store rejects deletes nothing, leaves no committed step, and the in-progress flag as Orbax leaves it`, async () => {
    const dir = tempDir();
    try {
      const store = failingStore(await open(dir));
      const c = clock();
      const options = { max_to_keep: 1, enable_async_checkpointing: false };
      const m = await OrbaxCheckpointManager.open({ store, options, now: c.now, ...quiet });
      c.step();
      assert.equal(await m.save(1, { state: bytes(1) }), true);
      store.failNext('2/state', 'disk full');
      c.step();
      await assert.rejects(m.save(2, { state: bytes(2) }), (e: unknown) => e instanceof OrbaxError && e.type === 'WriteFailure' && /disk full/.test(e.message));
      assert.deepEqual(m.all_steps(), [1], 'step 1 is still kept');
      assert.deepEqual(await committedNames(store), ['1'], 'and still in the store; 2 never committed');
      assert.equal(await m.is_saving_in_progress(), true, "Orbax leaves the flag set after a failed write");
      // the commit marker failing is a failed write too: the items stay as an uncommitted folder
      store.failNext(`3/${MARKER}`, 'lost connection');
      c.step();
      await assert.rejects(m.save(3, { state: bytes(3) }), /lost connection/);
      assert.deepEqual(await committedNames(store), ['1']);
      assert.ok((await keys(store)).includes('3/state'));
      await m.close();
      const again = await OrbaxCheckpointManager.open({ store, options, now: c.now, ...quiet });
      assert.deepEqual(again.all_steps(), [1], 'an uncommitted folder is never a step');
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: async: a failed background write is raised by the next call, and deletes nothing`, async () => {
    const dir = tempDir();
    try {
      const store = failingStore(await open(dir));
      const c = clock();
      const options = { max_to_keep: 1 };
      const m = await OrbaxCheckpointManager.open({ store, options, fixes: { clear_in_progress_on_error: true }, now: c.now, ...quiet });
      c.step();
      assert.equal(await m.save(1, { state: bytes(1) }), true);
      await m.wait_until_finished();
      store.failNext(`2/${MARKER}`, 'quota exceeded');
      c.step();
      assert.equal(await m.save(2, { state: bytes(2) }), true, 'an async save answers before its write ends');
      c.step();
      // a call that does not wait, once the write has ended, raises its failure too (and nothing is deleted for it)
      await new Promise((r) => setTimeout(r, 50));
      await assert.rejects(m.should_save(3), (e: unknown) => e instanceof OrbaxError && /step 2 .*quota exceeded/.test(e.message));
      await m.wait_until_finished();
      assert.deepEqual(m.all_steps(), [1]);
      assert.deepEqual(await committedNames(store), ['1'], 'step 1, which retention had removed for step 2, is still there');
      assert.equal(await m.is_saving_in_progress(), false, 'clear_in_progress_on_error cleared the flag');
      c.step();
      assert.equal(await m.save(3, { state: bytes(3) }), true);
      await m.wait_until_finished();
      assert.deepEqual(await committedNames(store), ['3']);
      await m.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: async: the deletions of a save run after its commit, and the kept list changes at once`, async () => {
    const dir = tempDir();
    try {
      const inner = await open(dir);
      let release: () => void = () => undefined;
      let hold = false;
      // a store whose marker writes wait until the test lets them go
      const store: CheckpointStore = {
        ...inner,
        save: async (k, p) => {
          if (hold && k.endsWith(MARKER)) await new Promise<void>((r) => (release = r));
          return inner.save(k, p);
        },
        list: (p) => inner.list(p),
        read: (k) => inner.read(k),
        remove: (k) => inner.remove(k),
        exists: (k) => inner.exists(k),
        link: (a, b) => inner.link(a, b),
      };
      const c = clock();
      const m = await OrbaxCheckpointManager.open({ store, options: { max_to_keep: 1, save_decision_policy: { type: 'ContinuousCheckpointingPolicy' } }, now: c.now, ...quiet });
      c.step();
      await m.save(1, { s: bytes(1) });
      await m.wait_until_finished();
      hold = true;
      c.step();
      assert.equal(await m.save(2, { s: bytes(2) }), true);
      assert.deepEqual(m.all_steps(), [2]);
      // while step 2 is written, ContinuousCheckpointingPolicy refuses and nothing waits
      c.step();
      assert.equal(await m.save(3, { s: bytes(3) }), false);
      assert.equal(await m.should_save(4), false);
      assert.equal(await m.is_saving_in_progress(), true);
      assert.deepEqual(await committedNames(inner), ['1'], 'step 1 stays until step 2 commits');
      hold = false;
      release();
      await m.wait_until_finished();
      assert.deepEqual(await committedNames(inner), ['2']);
      c.step();
      assert.equal(await m.should_save(5), true);
      await m.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: async: the items are taken before save answers (a function is called, bytes are copied), so the loop may reuse them`, async () => {
    const dir = tempDir();
    try {
      const store = await open(dir);
      const c = clock();
      const m = await OrbaxCheckpointManager.open({ store, options: {}, now: c.now, ...quiet });
      const buffer = bytes(1);
      let called = 0;
      c.step();
      assert.equal(await m.save(1, { a: buffer, b: () => (called++, bytes(5)) }), true);
      assert.equal(called, 1);
      buffer.fill(0);
      await m.wait_until_finished();
      assert.deepEqual(await m.restore(1), { a: { kind: 'bytes', data: bytes(1) }, b: { kind: 'bytes', data: bytes(5) } });
      // a save the policy refuses never calls the function
      c.step();
      assert.equal(await m.save(1, { b: () => (called++, bytes(6)) }), false);
      assert.equal(called, 1);
      await m.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: a folder left by a write that never committed is ignored, then cleaned by cleanup_tmp_directories or by the next save of its step`, async () => {
    const dir = tempDir();
    try {
      const store = await open(dir);
      const enc = new TextEncoder();
      await store.save('7/state', { kind: 'bytes', data: enc.encode('half') });
      await store.save('5.orbax-checkpoint-tmp/state', { kind: 'bytes', data: enc.encode('orbax tmp') });
      const c = clock();
      const m = await OrbaxCheckpointManager.open({ store, options: { enable_async_checkpointing: false }, now: c.now, ...quiet });
      assert.deepEqual(m.all_steps(), []);
      c.step();
      assert.equal(await m.save(7, { state: bytes(7) }), true);
      assert.deepEqual(await m.restore(7), { state: { kind: 'bytes', data: bytes(7) } });
      await m.close();
      assert.ok((await keys(store)).includes('5.orbax-checkpoint-tmp/state'));
      const cleaning = await OrbaxCheckpointManager.open({ store, options: { cleanup_tmp_directories: true }, now: c.now, ...quiet });
      assert.deepEqual(await keys(store), ['7/_CHECKPOINT_METADATA', '7/state']);
      await cleaning.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: todelete_subdir moves a removed step under the subfolder, which is never listed as a step`, async () => {
    const dir = tempDir();
    try {
      const store = await open(dir);
      const c = clock();
      const options = { max_to_keep: 1, todelete_subdir: 'trash', enable_async_checkpointing: false };
      const m = await OrbaxCheckpointManager.open({ store, options, now: c.now, ...quiet });
      for (const s of [1, 2]) {
        c.step();
        await m.save(s, { state: bytes(s) });
      }
      await m.close();
      assert.deepEqual(await keys(store), ['2/_CHECKPOINT_METADATA', '2/state', 'trash/1/_CHECKPOINT_METADATA', 'trash/1/state']);
      const again = await OrbaxCheckpointManager.open({ store, options, now: c.now, ...quiet });
      assert.deepEqual(again.all_steps(), [2]);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('fs: a second manager on a folder another one writes is refused by the writer lease, then takes it once the first closes', async () => {
  const dir = tempDir();
  try {
    const a = await OrbaxCheckpointManager.open({ store: await openFsStore({ root: dir }), options: {}, ...quiet });
    await assert.rejects(OrbaxCheckpointManager.open({ store: await openFsStore({ root: dir }), options: {}, ...quiet }), WriterLeaseError);
    await a.save(1, { s: bytes(1) });
    await a.close();
    const b = await OrbaxCheckpointManager.open({ store: await openFsStore({ root: dir }), options: {}, ...quiet });
    assert.deepEqual(b.all_steps(), [1]);
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('paths never leave the store: item names, step_prefix and todelete_subdir that would are refused before anything is written', async () => {
  const parent = tempDir();
  const dir = join(parent, 'ckpt');
  try {
    const store = await openFsStore({ root: dir });
    for (const prefix of ['../up', 'a/b']) {
      await assert.rejects(OrbaxCheckpointManager.open({ store, options: { step_prefix: prefix }, ...quiet }), (e: unknown) => e instanceof OrbaxInputError && e.message.includes('step_prefix') && e.message.includes(JSON.stringify(prefix)));
    }
    await assert.rejects(OrbaxCheckpointManager.open({ store, options: { todelete_subdir: '../trash' }, ...quiet }), /todelete_subdir: "\.\.\/trash" is not allowed/);
    const m = await OrbaxCheckpointManager.open({ store, options: { enable_async_checkpointing: false }, ...quiet });
    for (const name of ['../escape', 'a/b', '.hidden', '_CHECKPOINT_METADATA', 'metrics', '']) {
      await assert.rejects(m.save(1, { [name]: bytes(1) }), (e: unknown) => e instanceof OrbaxInputError && e.message.includes(`item name ${JSON.stringify(name)} is not allowed`));
    }
    assert.deepEqual(m.all_steps(), []);
    await assert.rejects(m.save(1.5, {}), /save: step 1\.5 is not allowed: expected an integer/);
    await assert.rejects(m.save(1, {}, { metrics: { loss: 'low' as never } }), /metrics\.loss: "low" is not allowed/);
    await assert.rejects(m.save(1, [] as never), /items: a list is not allowed/);
    await m.close();
    assert.deepEqual(readdirSync(parent), ['ckpt'], 'nothing beside the store folder');
    assert.deepEqual(readdirSync(dir).filter((f) => !f.startsWith('.ckpt-policy-lease')), []);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test("the options are Orbax's: its errors come back as OrbaxError with Orbax's text; unknown fixes and options are named", async () => {
  const store = tfjsMemoryStore({ name: 'orbax-rt-options' });
  await assert.rejects(OrbaxCheckpointManager.open({ store, options: { best_mode: 'median' }, ...quiet }), (e: unknown) => e instanceof OrbaxError && e.type === 'ValueError' && /best_mode/.test(e.message));
  await assert.rejects(OrbaxCheckpointManager.open({ store, options: { max_to_kep: 2 }, ...quiet }), (e: unknown) => e instanceof OrbaxInputError && /max_to_kep/.test(e.message));
  await assert.rejects(OrbaxCheckpointManager.open({ store, options: {}, fixes: { keep_everything: true }, ...quiet }), /unknown fix "keep_everything"/);
  // nothing was written, and no lease is left behind: a good open works
  assert.deepEqual(await keys(store), []);
  const m = await OrbaxCheckpointManager.open({ store, options: {}, ...quiet });
  await m.close();
  await assert.rejects(m.save(1, {}), /is closed/);
});
