/**
 * The fuzz suite at CI size (fixed seed, 300 inputs per reader): mutated real CSV logs through the
 * reader, the loop reconstruction and the simulation; mutated policy YAML/JSON through the policy
 * parser. Every input ends with a result or a clean error, within 20 s and a 512 MB heap.
 * `npm run fuzz` runs 2,000 per reader; FUZZ_SEED=… replays another seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATA } from './fuzz/mutations.ts';
import { fuzz, READERS } from './fuzz/run.ts';

const seed = Number(process.env.FUZZ_SEED ?? 15);
const skip = existsSync(join(DATA, 'lightning-csv')) ? undefined : `no real logs at ${DATA} (set CKPT_FUZZ_DATA)`;

for (const reader of READERS) {
  test(`fuzz ${reader}: 300 mutated inputs (seed ${seed}), each a result or a clean error, none hangs or runs out of heap`, { skip }, async (t) => {
    const c = await fuzz(reader, 300, seed);
    t.diagnostic(`${reader}: ${c.ok} with a result, ${c.clean} clean errors, ${c.failures.length} failures`);
    assert.deepEqual(c.failures, []);
    assert.equal(c.ok + c.clean, 300);
    assert.ok(c.ok > 0 && c.clean > 0, 'the mutations reach both outcomes');
  });
}
