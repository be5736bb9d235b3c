/**
 * The Orbax runtime against orbax-checkpoint 0.12.4's recorded call streams: each replayable
 * scenario's calls go through OrbaxCheckpointManager on a real store, and after every call its
 * answer, its kept steps and the committed step folders in the store are the recorded ones (see
 * test/helpers/orbax-replay.ts). Scenarios whose outcome the recorded write durations decide (a
 * clock-reading policy with modelled save times, a crash with an async write in flight) are left
 * out, each with its reason; the pure manager's own conformance covers them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tfjsMemoryStore } from '../plugins/tfjs-memory/index.ts';
import { openFsStore } from '../plugins/fs/index.ts';
import { loadOrbaxScenarios, notReplayable, replayThroughRuntime } from './helpers/orbax-replay.ts';

const all = loadOrbaxScenarios();
const replayable = all.filter((s) => notReplayable(s) === null);

test('most of the public set is replayable through the runtime, and each left-out scenario has a reason', () => {
  assert.equal(all.length, 300);
  assert.ok(replayable.length >= 240, `only ${replayable.length} replayable`);
  const reasons = new Map<string, number>();
  for (const s of all) {
    const why = notReplayable(s);
    if (why !== null) reasons.set(why, (reasons.get(why) ?? 0) + 1);
  }
  for (const why of reasons.keys()) assert.match(why, /modelled|async write|empty folder|commit time|crash/);
});

test('every replayable scenario, on the memory store: the answers, kept steps and committed folders after each call are the recorded ones', async () => {
  const failures: string[] = [];
  for (const s of replayable) {
    const r = await replayThroughRuntime(s, tfjsMemoryStore({ name: `replay-${s.id}` }));
    if (r !== null) failures.push(r);
  }
  assert.deepEqual(failures, []);
});

test('a sample of the replayable scenarios (every eighth, all themes), on the local filesystem', async () => {
  const failures: string[] = [];
  const sample = replayable.filter((_, i) => i % 8 === 0);
  assert.ok(new Set(sample.map((s) => s.id.split('-')[1])).size >= 6);
  for (const s of sample) {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-orbax-replay-'));
    try {
      const store = await openFsStore({ root: join(dir, 'ckpt') });
      const r = await replayThroughRuntime(s, store);
      if (r !== null) failures.push(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  assert.deepEqual(failures, []);
});

test('the replay finds a difference: a recorded kept list changed by one step is reported at that call', async () => {
  const s = structuredClone(replayable.find((x) => x.phases[0]!.events.filter((e) => e['call'] === 'save' && e['result'] === true).length >= 3)!);
  const e = s.phases[0]!.events.filter((x) => x['call'] === 'save' && x['result'] === true)[2]!;
  e['kept'] = [...(e['kept'] as number[]), 999];
  const r = await replayThroughRuntime(s, tfjsMemoryStore({ name: `replay-changed-${s.id}` }));
  assert.match(r ?? '', new RegExp(`${s.id} phase 0 call \\d+ \\(save ${String(e['step'])}\\): kept .*999`));
});
