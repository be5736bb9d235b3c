/**
 * The persistent sorted map behind the Orbax manager's state (src/dialects/orbax/sortedMap.ts)
 * against a simple model, a sorted array of pairs, over random streams of sets, deletes and range
 * deletes on number and string keys: every query agrees after every operation, and every map
 * derived earlier still holds exactly what it held (persistence: no update reaches an old version).
 * Then the manager itself: every state of a run, read only after the run went on from it (and
 * from it again), is the state a fresh run of the same calls reaches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SortedMap, numberOrder, stringOrder, type KeyOrder } from '../src/dialects/orbax/sortedMap.ts';
import { reduce, start, type Call, type ManagerState } from '../src/dialects/orbax/manager.ts';

const runs = (n: number) => Math.max(1, Math.round(n * Number(process.env.FC_RUNS_SCALE ?? 1)));
const SEED = Number(process.env.FC_SEED ?? 0x50a7ed);

type Op<K> = { op: 'set'; k: K; v: number } | { op: 'delete'; k: K } | { op: 'deleteRange'; lo: K; hi: K };

/** The model: pairs sorted by key, rebuilt by plain array operations. */
type Model<K> = ReadonlyArray<readonly [K, number]>;

function applyModel<K>(m: Model<K>, op: Op<K>, cmp: (a: K, b: K) => number): Model<K> {
  switch (op.op) {
    case 'set':
      return [...m.filter(([k]) => cmp(k, op.k) !== 0), [op.k, op.v] as const].sort((a, b) => cmp(a[0], b[0]));
    case 'delete':
      return m.filter(([k]) => cmp(k, op.k) !== 0);
    case 'deleteRange':
      return m.filter(([k]) => cmp(k, op.lo) < 0 || cmp(k, op.hi) >= 0);
  }
}

function applyMap<K>(m: SortedMap<K, number>, op: Op<K>): SortedMap<K, number> {
  switch (op.op) {
    case 'set':
      return m.set(op.k, op.v);
    case 'delete':
      return m.delete(op.k);
    case 'deleteRange':
      return m.deleteRange(op.lo, op.hi);
  }
}

function agree<K>(map: SortedMap<K, number>, model: Model<K>, probes: readonly K[], cmp: (a: K, b: K) => number): void {
  const pairs = model.map(([k, v]) => [k, v]);
  assert.deepEqual(map.entries(), pairs);
  assert.equal(map.size, model.length);
  assert.deepEqual(map.last(), pairs[pairs.length - 1]);
  for (let i = -1; i <= model.length; i++) {
    assert.deepEqual(map.at(i), pairs[i]);
    assert.deepEqual(map.entries(i), pairs.slice(Math.max(0, i)));
  }
  for (const k of probes) {
    const at = model.find(([x]) => cmp(x, k) === 0);
    assert.equal(map.get(k), at?.[1]);
    assert.equal(map.has(k), at !== undefined);
    assert.equal(map.rank(k), model.filter(([x]) => cmp(x, k) < 0).length);
    assert.deepEqual(map.ceiling(k), pairs.find(([x]) => cmp(x as K, k) >= 0));
  }
}

function opsArb<K>(key: fc.Arbitrary<K>): fc.Arbitrary<Op<K>[]> {
  const op: fc.Arbitrary<Op<K>> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), k: key, v: fc.integer() }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), k: key }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteRange' as const), lo: key, hi: key }) },
  );
  return fc.array(op, { maxLength: 60 });
}

function property<K>(name: string, order: KeyOrder<K>, key: fc.Arbitrary<K>): void {
  test(`sorted map (${name} keys) agrees with a sorted array and keeps every old version (seed ${SEED})`, () => {
    fc.assert(
      fc.property(opsArb(key), fc.array(key, { maxLength: 8 }), (ops, probes) => {
        let map = SortedMap.empty<K, number>(order);
        let model: Model<K> = [];
        const versions: Array<[SortedMap<K, number>, Model<K>]> = [[map, model]];
        for (const op of ops) {
          map = applyMap(map, op);
          model = applyModel(model, op, order.compare);
          agree(map, model, [...probes, ...(op.op === 'deleteRange' ? [op.lo, op.hi] : [op.k])], order.compare);
          versions.push([map, model]);
        }
        for (const [m, mo] of versions) assert.deepEqual(m.entries(), mo.map(([k, v]) => [k, v]));
        assert.deepEqual(SortedMap.fromSorted(order, model).entries(), map.entries());
      }),
      { seed: SEED, numRuns: runs(300) },
    );
  });
}

property('number', numberOrder, fc.oneof(fc.integer({ min: -20, max: 20 }), fc.double({ noNaN: true, min: -1e6, max: 1e6 })));
// few letters, so that keys share prefixes as listing paths do (`ckpt/1`, `ckpt/1/x`, `ckpt/10`)
property('string', stringOrder, fc.stringMatching(/^[ab/0]{0,5}$/));

test('a sorted map stays shallow over 10^5 consecutive keys (hashed priorities, not insertion order)', () => {
  let m = SortedMap.empty<number, number>(numberOrder);
  for (let i = 0; i < 100_000; i++) m = m.set(i, i);
  const depth = (t: unknown): number => (t === null ? 0 : 1 + Math.max(depth((t as { l: unknown }).l), depth((t as { r: unknown }).r)));
  const d = depth((m as unknown as { root: unknown }).root);
  // a balanced tree has 17 levels; a treap's expected depth is about 2.99 log2 n ≈ 50
  assert.ok(d < 80, `depth ${d}`);
  assert.equal(m.size, 100_000);
  assert.deepEqual(m.at(54_321), [54_321, 54_321]);
});

test('fromSorted refuses keys out of order', () => {
  assert.throws(() => SortedMap.fromSorted(numberOrder, [[2, 0], [1, 0]]), /not strictly increasing/);
});

const managerCallArb: fc.Arbitrary<{ call: string; gap: number; loss: number | null; force: boolean }> = fc.record({
  call: fc.oneof({ weight: 8, arbitrary: fc.constant('save') }, fc.constant('delete'), fc.constant('reload'), fc.constant('wait_until_finished')),
  gap: fc.integer({ min: -2, max: 3 }),
  loss: fc.option(fc.integer({ min: 0, max: 6 }).map((x) => x / 4)),
  force: fc.boolean(),
});

test(`orbax manager: a state is unchanged by the states derived from it (seed ${SEED})`, () => {
  fc.assert(
    fc.property(fc.array(managerCallArb, { minLength: 1, maxLength: 30 }), fc.boolean(), fc.integer({ min: 1, max: 3 }), (script, async, n) => {
      const options = {
        enable_async_checkpointing: async,
        best_fn: { metric: 'loss' },
        preservation_policy: { type: 'AnyPreservationPolicy', policies: [{ type: 'LatestN', n }, { type: 'BestN', metric: 'loss', reverse: true, n }, { type: 'EveryNSteps', interval_steps: 4 }] },
      };
      const clock = async ? { async_blocking_seconds: 0.25, async_write_seconds: 1.5 } : { save_seconds: 0.5 };
      let step = 0;
      const saved: number[] = [];
      const cs: Call[] = script.map((x, i): Call => {
        const t = 10 + i;
        if (x.call === 'save') {
          step += x.gap;
          saved.push(step);
          return { call: 'save', step, t, ...(x.loss === null ? {} : { metrics: { loss: x.loss } }), ...(x.force ? { force: true } : {}) };
        }
        if (x.call === 'delete') return { call: 'delete', step: saved[saved.length - 1 - (x.gap & 1)] ?? 0, t };
        return { call: x.call as 'reload', t };
      });
      const fresh = (): ManagerState => start({ options, clock, t: 10, entries: [{ path: 'ckpt/3', kind: 'dir', files: ['_CHECKPOINT_METADATA'], commit_time: 1 }] })[0]!;
      // one run keeping every state, none read while the run goes on; each state used twice
      const states = [fresh()];
      for (const c of cs) {
        const from = states[states.length - 1]!;
        reduce(from, c);
        states.push(reduce(from, c)[0]);
      }
      const json = (s: ManagerState) => JSON.parse(JSON.stringify(s)) as unknown;
      for (let i = states.length - 1; i >= 0; i--) {
        let again = fresh();
        for (const c of cs.slice(0, i)) again = reduce(again, c)[0];
        assert.deepEqual(json(states[i]!), json(again), `state after ${i} calls`);
      }
    }),
    { seed: SEED, numRuns: runs(150) },
  );
});
