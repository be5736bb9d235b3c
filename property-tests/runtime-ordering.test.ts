/**
 * Background writes, whatever their timing, end where the pure policy says: for random metric
 * curves, options, in-flight limits and store delays (real filesystem, random latency per
 * operation), the folder holds exactly the reducer's files and every removal completes after the
 * saves that precede it in its decision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../plugins/fs/index.ts';
import type { CheckpointStore } from '../src/core/store.ts';
import { parseConfig } from '../src/core/config.ts';
import { fileKey, listing } from '../src/core/files.ts';
import { fitEvents } from '../src/core/loop.ts';
import { init, reduce } from '../src/core/reduce.ts';
import { Checkpointer } from '../src/runtime/index.ts';
import { runs } from './arbitraries.ts';

const optionsArb = fc.record({
  monitor: fc.constant('val_loss'),
  mode: fc.constantFrom('min', 'max'),
  save_top_k: fc.integer({ min: -1, max: 3 }),
  save_last: fc.boolean(),
  filename: fc.constantFrom('{epoch}', '{val_loss:.1f}', 'm', 'sub/{epoch}-{step}'),
});
const scenarioArb = fc.record({
  options: optionsArb,
  curve: fc.array(fc.oneof({ weight: 9, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) }, { weight: 1, arbitrary: fc.constant(Number.NaN) }), { minLength: 1, maxLength: 7 }),
  maxInFlight: fc.integer({ min: 1, max: 3 }),
  delays: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
});

/** The real store with a latency per operation taken round-robin from `delays`. */
function delayed(store: CheckpointStore, delays: number[]): CheckpointStore {
  let i = 0;
  const wait = () => new Promise((r) => setTimeout(r, delays[i++ % delays.length]));
  return { ...store, save: async (k, p) => (await wait(), store.save(k, p)), remove: async (k) => (await wait(), store.remove(k)), link: async (t, k) => (await wait(), store.link(t, k)) };
}

function filesIn(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    // the checkpoints, not the writer lease beside them
    .filter((d) => d.isFile() && !d.name.startsWith('.ckpt-policy-lease'))
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name).slice(dir.length + 1))
    .sort();
}

test('background writes converge on the reducer\'s files, removals after their saves', async () => {
  await fc.assert(
    fc.asyncProperty(scenarioArb, async ({ options, curve, maxInFlight, delays }) => {
      const dir = mkdtempSync(join(tmpdir(), 'ckpt-prop-'));
      const events = [...fitEvents({ epochs: curve.length, batchesPerEpoch: 2, valMetrics: (e) => ({ val_loss: curve[e]! }) })];
      const settled: Array<{ seq: number; index: number; type: string }> = [];
      const ck = await Checkpointer.open({
        options,
        store: delayed(await openFsStore({ root: dir }), delays),
        capture: (req) => ({ kind: 'bytes', data: new TextEncoder().encode(req.key) }),
        background: { maxInFlight },
        log: () => undefined,
        observer: { effectSettled: (s) => s.effect.type !== 'log' && settled.push({ seq: s.seq, index: s.index, type: s.effect.type }) },
      });
      for (const e of events.filter((x) => x.type !== 'setup')) await ck.report(e);
      await ck.flush();

      let [s] = init(parseConfig({ ...options, dirpath: dir }), { cwd: '/' });
      for (const e of events) [s] = reduce(s, e);
      const expected = listing(s.files, fileKey(dir, '/')).filter((f) => f.kind === 'file').map((f) => f.path.slice(dir.length + 1)).sort();
      assert.deepEqual(filesIn(dir), expected);
      assert.deepEqual(ck.bestKModels.map((k) => k.path), [...s.bestKModels.keys()]);
      settled.forEach((r, at) => {
        if (r.type !== 'remove') return;
        for (const [before, o] of settled.entries()) if (o.seq === r.seq && o.type === 'save' && o.index < r.index) assert.ok(before < at, `remove ${r.seq}:${r.index} settled before save ${o.seq}:${o.index}`);
      });
    }),
    { numRuns: runs(25), seed: Number(process.env.FC_SEED ?? 20261128) },
  );
});
