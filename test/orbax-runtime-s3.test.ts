/**
 * OrbaxCheckpointManager on S3 (a local Ceph radosgw): a sample of the recorded call streams
 * replayed through it, a restart from the bucket's listing, and the S3 writer lease refusing a
 * second manager on the same prefix.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { s3Store } from '../plugins/s3/index.ts';
import { OrbaxCheckpointManager } from '../src/dialects/orbax/runtime/index.ts';
import { WriterLeaseError } from '../src/runtime/errors.ts';
import { committedNames, loadOrbaxScenarios, notReplayable, replayThroughRuntime } from './helpers/orbax-replay.ts';
import { startS3Server, s3SkipReason, type S3TestServer } from './helpers/s3-server.ts';

const skip = s3SkipReason();
let server: S3TestServer;
before(async () => {
  if (skip) return;
  server = await startS3Server();
  await server.createBucket('orbax');
});
after(async () => {
  await server?.stop();
});

const storeAt = (prefix: string) => s3Store({ bucket: 'orbax', prefix, endpoint: server.endpoint, forcePathStyle: true, credentials: server.credentials });
const quiet = { log: () => undefined };

test('a sample of the replayable scenarios (one per theme and then some), on S3: answers, kept steps and committed folders after each call are the recorded ones', { skip }, async () => {
  const replayable = loadOrbaxScenarios().filter((s) => notReplayable(s) === null);
  const sample = replayable.filter((_, i) => i % 20 === 0);
  assert.ok(sample.length >= 10);
  const failures: string[] = [];
  for (const s of sample) {
    const store = storeAt(`replay/${s.id}`);
    try {
      const r = await replayThroughRuntime(s, store);
      if (r !== null) failures.push(r);
    } finally {
      await store.close?.();
    }
  }
  assert.deepEqual(failures, []);
});

test('S3: a restart reads the prefix back; a second manager on the prefix is refused by the S3 writer lease', { skip }, async () => {
  let t = 1_700_000_000;
  const options = { max_to_keep: 2, best_fn: { metric: 'loss' }, best_mode: 'min' };
  const a = await OrbaxCheckpointManager.open({ store: storeAt('run'), options, now: () => t, ...quiet });
  await assert.rejects(OrbaxCheckpointManager.open({ store: storeAt('run'), options, ...quiet }), WriterLeaseError);
  for (const [step, loss] of [0.5, 0.2, 0.4, 0.3].entries()) {
    t += 1;
    assert.equal(await a.save(step, { state: new Uint8Array([step]) }, { metrics: { loss } }), true);
  }
  await a.close();
  const store = storeAt('run');
  assert.deepEqual((await committedNames(store)).sort(), ['1', '3']);
  const b = await OrbaxCheckpointManager.open({ store, options, now: () => t, ...quiet });
  assert.deepEqual(b.all_steps(), [1, 3]);
  assert.equal(await b.best_step(), 1);
  assert.deepEqual(await b.restore(3), { state: { kind: 'bytes', data: new Uint8Array([3]) } });
  await b.close();
  await store.close?.();
});
