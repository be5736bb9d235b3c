/**
 * The rerooting map against the simplest model of a Python dict (an array of pairs): any sequence
 * of set/delete applied to ANY earlier version (branching, going back and forth) must leave every
 * version answering exactly as the model of that version does. Twelve keys, so versions cross the
 * size where a small (copied) map becomes a rerooting one, both ways; runs of up to 240 writes, so
 * a rerooting lineage passes the point where its newest version is given a copy of the map (`size:
 * 'max'`: fast-check's default size keeps arrays to a few dozen elements whatever maxLength says).
 */
import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { VMap } from '../src/core/vmap.ts';

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'];

type Model = ReadonlyArray<readonly [string, number]>;
const mset = (m: Model, k: string, v: number): Model => (m.some(([x]) => x === k) ? m.map(([x, y]) => [x, x === k ? v : y] as const) : [...m, [k, v] as const]);
const mdel = (m: Model, k: string): Model => m.filter(([x]) => x !== k);

const op = fc.record({
  // which existing version to branch from (modulo the count); -1, the newest (long linear runs,
  // so a lineage passes the write count where the newest version gets a map of its own)
  from: fc.oneof(fc.constant(-1), fc.constant(-1), fc.nat()),
  kind: fc.constantFrom('set', 'set', 'delete'),
  key: fc.constantFrom(...KEYS),
  value: fc.integer({ min: 0, max: 9 }),
  probe: fc.nat(), // which version to read afterwards
});

const seed = Number(process.env.FC_SEED ?? 20261128);

test('every version of a VMap answers like the model of that version', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.integer({ min: 0, max: 9 })), { maxLength: 12 }), fc.array(op, { maxLength: 240, size: 'max' }), (initial, ops) => {
      const versions: Array<[VMap<number>, Model]> = [[VMap.from(initial), initial.reduce<Model>((m, [k, v]) => mset(m, k, v), [])]];
      for (const o of ops) {
        const [vm, model] = versions[o.from < 0 ? versions.length - 1 : o.from % versions.length]!;
        versions.push(o.kind === 'set' ? [vm.set(o.key, o.value), mset(model, o.key, o.value)] : [vm.delete(o.key), mdel(model, o.key)]);
        const [pv, pm] = versions[o.probe % versions.length]!;
        assert.deepEqual(pv.entries(), pm.map(([k, v]) => [k, v]));
        assert.equal(pv.size, pm.length);
        for (const k of KEYS) {
          assert.equal(pv.get(k), pm.find(([x]) => x === k)?.[1]);
          assert.equal(pv.has(k), pm.some(([x]) => x === k));
        }
        const ranked: Array<[string, number, number]> = [];
        pv.forEachRanked((v, k, rank) => ranked.push([k, v, rank]));
        assert.deepEqual(ranked.sort((a, b) => a[2] - b[2]).map(([k, v]) => [k, v]), pm.map(([k, v]) => [k, v]));
        const odd = (v: number) => v % 2 === 1;
        assert.equal(pv.some(odd), pm.some(([, v]) => odd(v)));
        assert.deepEqual(pv.deleteWhere(odd).entries(), pm.filter(([, v]) => !odd(v)).map(([k, v]) => [k, v]));
      }
      for (const [vm, model] of versions) assert.deepEqual(vm.entries(), model.map(([k, v]) => [k, v]));
    }),
    { seed, numRuns: 400 },
  );
});

test('a long linear history can be read back from its first version (no recursion limit)', () => {
  const first = VMap.empty<number>();
  let v = first;
  for (let i = 0; i < 200_000; i++) v = v.set(`k${i % 1000}`, i);
  assert.equal(first.size, 0);
  assert.equal(v.size, 1000);
  assert.equal(v.get('k999'), 199_999);
});

test('versions on both sides of a new lineage keep answering (old ones read after the new ones are written)', () => {
  const versions: VMap<number>[] = [VMap.empty<number>()];
  for (let i = 0; i < 5_000; i++) versions.push(versions[i]!.set(`k${i % 100}`, i));
  for (let i = 0; i <= 5_000; i += 97) {
    const v = versions[i]!;
    assert.equal(v.size, Math.min(i, 100));
    if (i > 0) assert.equal(v.get(`k${(i - 1) % 100}`), i - 1);
    assert.equal(v.keys()[0], i === 0 ? undefined : 'k0');
  }
  // every version, at the key its successor writes: a copy that wrote into the old lineage's map
  // would show the old version its successor's value there
  for (let i = 0; i < 5_000; i++) assert.equal(versions[i]!.get(`k${i % 100}`), i >= 100 ? i - 100 : undefined);
});
