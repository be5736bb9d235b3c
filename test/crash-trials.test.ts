/**
 * The kill trials at CI size (test/crash-trials/run.ts; `npm run crash-trials -- N` for more): 24
 * seeded trials, each a real Checkpointer run in a child process SIGKILLed one to three times at
 * start-up, resume, the very first save or later, then finished. No partial file that looks like a
 * checkpoint, every resume from the newest complete checkpoint, the kept set the reducer's, no
 * stale last.ckpt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crashTrials, summaryLine } from './crash-trials/run.ts';

test('24 kill trials (seeds 1-24): nothing partial, nothing lost, resume continues, the kept set is the reducer\'s', async (t) => {
  const s = await crashTrials(24, 1, undefined, 2);
  t.diagnostic(summaryLine(s));
  assert.deepEqual(s.failures, []);
  const kills = Object.values(s.kills).reduce((a, b) => a + b, 0);
  assert.ok(kills >= 24, `every trial kills at least once (${kills})`);
  assert.ok(s.kills['start-up'] > 0 && s.kills['first save'] > 0, 'the kills reach start-up and the first save');
});
