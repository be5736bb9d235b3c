/**
 * The fuzz suite at CI size (fixed seed, 200 inputs per reader, two readers at a time): mutated
 * real logs through every reader and what runs on it (the Lightning CSV, TensorBoard and JSONL
 * readers with the simulation, trainer_state.json with `audit trainer`, the Keras and Orbax logs
 * with their dialects' simulations), and mutated options texts of every dialect and trainer facts.
 * Every input ends with a result or a clean error naming the file, within 15 s and a 512 MB heap;
 * one per reader also runs through `ckpt` in its own process under a 256 MB heap.
 * `npm run fuzz` runs 2,000 per reader; FUZZ_SEED=… replays another seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATA } from './fuzz/mutations.ts';
import { fuzz, fuzzCli, READERS } from './fuzz/run.ts';

const seed = Number(process.env.FUZZ_SEED ?? 15);
const COUNT = 200;
const skip = existsSync(join(DATA, 'lightning-csv')) ? undefined : `no real logs at ${DATA} (set CKPT_FUZZ_DATA)`;

for (let k = 0; k < READERS.length; k += 2) {
  const pair = READERS.slice(k, k + 2);
  test(`fuzz ${pair.join(' and ')}: ${COUNT} mutated inputs each (seed ${seed}), each a result or a clean error, none hangs or runs out of heap`, { skip }, async (t) => {
    const all = await Promise.all(pair.map((reader) => fuzz(reader, COUNT, seed)));
    for (const c of all) {
      t.diagnostic(`${c.reader}: ${c.ok} with a result, ${c.clean} clean errors, ${c.failures.length} failures`);
      assert.deepEqual(c.failures, []);
      assert.equal(c.ok + c.clean, COUNT);
      assert.ok(c.ok > 0 && c.clean > 0, `${c.reader}: the mutations reach both outcomes`);
    }
  });
}

test('fuzz through ckpt: 1 input per reader in its own process (256 MB heap): a clean exit, no stack trace, errors name the file', { skip }, async (t) => {
  for (const reader of READERS) {
    const c = await fuzzCli(reader, 1, seed, COUNT);
    t.diagnostic(`${reader}: ${c.ran} through ckpt, exits ${JSON.stringify(c.exits)}`);
    assert.deepEqual(c.failures, []);
  }
});
