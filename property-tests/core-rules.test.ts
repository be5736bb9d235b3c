/**
 * The retention algebra (src/core/rules/keep): the union keeps exactly the union of what its
 * members keep, removes nothing a member keeps, a member's verdict does not depend on the other
 * members, the order of members changes nothing, and a composed policy resumes from its encoded
 * state anywhere. Plus a model-based test of top-k against a deliberately simple model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig, decodeState, encodeState, fitEvents, init, reduce, type Effect, type LoopEvent, type PolicyConfig, type PolicyState } from '../src/core/index.ts';
import { EXTRA_MEMBERS, keeps } from '../src/core/rules/keep/members.ts';
import { keepers, type Verdict } from '../src/core/rules/keep/union.ts';
import type { KeepMember } from '../src/core/notes.ts';
import { runs } from './arbitraries.ts';

const SEED = Number(process.env.FC_SEED ?? 0x5eed71);

function mustConfig(options: Record<string, unknown>): PolicyConfig {
  const r = decodeConfig(options);
  if (E.isLeft(r)) assert.fail(r.left.map((i) => i.message).join('; '));
  return r.right;
}

/** A training run: per epoch a few batches, validation at the epoch end, a score per epoch. */
const runArb = fc.record({
  scores: fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }).map((n) => n / 20), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 25 }),
  batches: fc.integer({ min: 1, max: 4 }),
  stepTrigger: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
});

const keepArb = fc.record(
  {
    keep_latest: fc.integer({ min: 1, max: 4 }),
    keep_every_n_steps: fc.integer({ min: 1, max: 12 }),
    keep_every_n_seconds: fc.constantFrom(1.5, 3, 7),
    keep_steps: fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 5 }),
  },
  { requiredKeys: [] },
);

const baseArb = fc.record({
  save_top_k: fc.constantFrom(0, 1, 2, 3, -1),
  mode: fc.constantFrom('min', 'max'),
  tie_break: fc.constantFrom('first', 'latest'),
  monitored: fc.boolean(),
});

type Run = { scores: readonly number[]; batches: number; stepTrigger: number | null };

function eventsOf(r: Run): LoopEvent[] {
  return [...fitEvents({ epochs: r.scores.length, batchesPerEpoch: r.batches, batchSeconds: 1, valMetrics: (ep) => ({ val_loss: r.scores[ep]! }) })];
}

function optionsOf(base: { save_top_k: number; mode: string; tie_break: string; monitored: boolean }, keep: Record<string, unknown>, r: Run): Record<string, unknown> {
  const monitored = base.monitored || ![-1, 0, 1].includes(base.save_top_k);
  return { dirpath: '/c', filename: '{epoch}-{step}', save_top_k: base.save_top_k, mode: base.mode, tie_break: base.tie_break, ...(monitored ? { monitor: 'val_loss' } : {}), ...(r.stepTrigger !== null ? { every_n_train_steps: r.stepTrigger } : {}), ...keep };
}

interface Fold {
  readonly final: PolicyState;
  readonly effects: Effect[][];
  /** checkpoint files on disk at the end (saves minus removals) */
  readonly disk: Set<string>;
}

function fold(config: PolicyConfig, events: readonly LoopEvent[], check?: (after: PolicyState, fx: readonly Effect[]) => void): Fold {
  let [s] = init(config, { cwd: '/' });
  const effects: Effect[][] = [];
  const disk = new Set<string>();
  for (const e of events) {
    const [next, fx] = reduce(s, e);
    check?.(next, fx);
    for (const x of fx) {
      if (x.type === 'save') disk.add(x.path);
      if (x.type === 'remove') disk.delete(x.path);
    }
    effects.push([...fx]);
    s = next;
  }
  return { final: s, effects, disk };
}

/** What each member of a state's policy keeps (paths). */
function memberSets(s: PolicyState): Map<KeepMember, Set<string>> {
  const out = new Map<KeepMember, Set<string>>();
  const c = s.config;
  if (c.saveTopK !== 0) out.set('topK', new Set(c.monitor !== null ? s.bestKModels.keys() : s.bestModelPath ? [s.bestModelPath] : []));
  if (c.keepLatest !== null) out.set('latest', new Set(s.keep.latest.paths));
  if (c.keepEveryNSteps !== null) out.set('everyNSteps', new Set(s.keep.everyNSteps.kept.keys()));
  if (c.keepEveryNSeconds !== null) out.set('everyNSeconds', new Set(s.keep.everyNSeconds.kept.keys()));
  if (c.keepSteps !== null) out.set('steps', new Set(s.keep.steps.kept.keys()));
  return out;
}

test('union: the files left are exactly the union of what the members keep, and no removal hits a file a member keeps', () => {
  fc.assert(
    fc.property(baseArb, keepArb, runArb, (base, keep, r) => {
      fc.pre(Object.keys(keep).length > 0 && base.save_top_k !== -1);
      const config = mustConfig(optionsOf(base, keep, r));
      const onDisk = new Set<string>();
      const f = fold(config, eventsOf(r), (after, fx) => {
        for (const x of fx) {
          if (x.type === 'save' || x.type === 'link') onDisk.add(x.path);
          if (x.type !== 'remove') continue;
          // each removal removes a file that is there: two members letting go of one file remove it once
          assert.ok(onDisk.delete(x.path), `removed ${x.path}, which is not there (removed twice?)`);
          for (const [m, set] of memberSets(after)) assert.ok(!set.has(x.path), `removed ${x.path}, which ${m} still keeps`);
        }
      });
      const union = new Set<string>();
      for (const set of memberSets(f.final).values()) for (const p of set) union.add(p);
      assert.deepStrictEqual([...f.disk].sort(), [...union].sort());
    }),
    { seed: SEED, numRuns: runs(800) },
  );
});

test("union: a member's verdict does not depend on the others (its slice alone vs in the full union)", () => {
  fc.assert(
    fc.property(baseArb, keepArb, runArb, (base, keep, r) => {
      fc.pre(Object.keys(keep).length > 1);
      const events = eventsOf(r);
      const full = fold(mustConfig(optionsOf(base, keep, r)), events).final;
      for (const [opt, value] of Object.entries(keep)) {
        const solo = fold(mustConfig(optionsOf(base, { [opt]: value }, r)), events).final;
        const m = memberSets(full);
        const ms = memberSets(solo);
        for (const [member, set] of ms) assert.deepStrictEqual([...m.get(member)!].sort(), [...set].sort(), `${member} keeps other files beside ${Object.keys(keep).join(', ')}`);
      }
    }),
    { seed: SEED + 1, numRuns: runs(400) },
  );
});

test('union: the order of the members (in the options and inside the combinator) changes no decision', () => {
  fc.assert(
    fc.property(baseArb, keepArb, runArb, fc.infiniteStream(fc.nat()), (base, keep, r, coins) => {
      const events = eventsOf(r);
      const options = optionsOf(base, keep, r);
      const shuffled = Object.fromEntries(Object.entries(options).sort(() => (coins.next().value % 2 ? 1 : -1)));
      assert.deepStrictEqual(fold(mustConfig(shuffled), events).effects, fold(mustConfig(options), events).effects);
    }),
    { seed: SEED + 2, numRuns: runs(300) },
  );
  // the combinator itself: any order of verdicts names the same keepers
  fc.assert(
    fc.property(fc.array(fc.record({ member: fc.constantFrom<KeepMember>('topK', 'latest', 'everyNSteps', 'everyNSeconds', 'steps', 'last'), keeps: fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd')) })), fc.constantFrom('a', 'b', 'c', 'd'), (rows, path) => {
      const verdicts: Verdict<null>[] = rows.map((r) => ({ member: r.member, keeps: (_: null, p: string) => (r.keeps as string[]).includes(p) }));
      const names = (vs: Verdict<null>[]) => [...new Set(keepers(vs, null, path, null))].sort();
      assert.deepStrictEqual(names([...verdicts].reverse()), names(verdicts));
      assert.equal(keepers(verdicts, null, path, null).length > 0, rows.some((r) => r.keeps.includes(path)));
    }),
    { seed: SEED + 3, numRuns: runs(300) },
  );
});

test('composed policies: splitting the stream anywhere and resuming from the encoded state changes nothing', () => {
  fc.assert(
    fc.property(baseArb, keepArb, runArb, fc.nat(), (base, keep, r, cut) => {
      const config = mustConfig(optionsOf(base, keep, r));
      const events = eventsOf(r);
      const straight = fold(config, events);
      const at = cut % (events.length + 1);
      const first = fold(config, events.slice(0, at));
      const back = decodeState(JSON.parse(JSON.stringify(encodeState(first.final))));
      if (E.isLeft(back)) assert.fail(back.left.join('; '));
      let s = back.right;
      const rest: Effect[][] = [];
      for (const e of events.slice(at)) {
        const [next, fx] = reduce(s, e);
        rest.push([...fx]);
        s = next;
      }
      assert.deepStrictEqual([...first.effects, ...rest], straight.effects);
      assert.deepStrictEqual(encodeState(s), encodeState(straight.final));
      for (const m of EXTRA_MEMBERS) for (const p of straight.disk) assert.equal(keeps(s.keep, m, p), keeps(straight.final.keep, m, p));
    }),
    { seed: SEED + 4, numRuns: runs(500) },
  );
});

// ---- model-based top-k ---------------------------------------------------------------------------

/** The model: every score seen, in order; the kept ones are the k best after a stable sort (ties: earlier first, or later first). */
function modelKept(scores: readonly number[], k: number, mode: 'min' | 'max', tie: 'first' | 'latest'): number[] {
  const idx = scores.map((_, i) => i);
  idx.sort((a, b) => {
    const d = mode === 'min' ? scores[a]! - scores[b]! : scores[b]! - scores[a]!;
    return d !== 0 ? d : tie === 'first' ? a - b : b - a;
  });
  return k === -1 ? idx : idx.slice(0, k);
}

test('top-k against the model: distinct scores keep exactly the k best; with ties the same values, and best is the first (or latest) of the best', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 30 }),
      fc.boolean(),
      fc.constantFrom(1, 2, 3, 5, -1),
      fc.constantFrom<'min' | 'max'>('min', 'max'),
      fc.constantFrom<'first' | 'latest'>('first', 'latest'),
      (raw, distinct, k, mode, tie) => {
        const scores = distinct ? [...new Set(raw)] : raw;
        const config = mustConfig({ dirpath: '/c', monitor: 'val_loss', filename: '{epoch}', save_top_k: k, mode, tie_break: tie });
        const f = fold(config, eventsOf({ scores, batches: 1, stepTrigger: null }));
        const kept = [...f.final.bestKModels.keys()];
        const want = modelKept(scores, k, mode, tie);
        const path = (i: number) => `/c/epoch=${i}.ckpt`;
        const values = (xs: number[]) => [...xs].sort((a, b) => a - b);
        assert.deepStrictEqual(values(kept.map((p) => f.final.bestKModels.get(p)!)), values(want.map((i) => scores[i]!)), 'the kept values');
        // 'latest' is the model exactly, ties included; Lightning's 'first' only for distinct scores: it
        // rejects a tie, yet when a better score displaces one of several tied k-th values it drops the oldest
        if (distinct || tie === 'latest') assert.deepStrictEqual([...kept].sort(), want.map(path).sort(), 'the kept checkpoints');
        assert.deepStrictEqual([...f.disk].sort(), [...kept].sort(), 'the files on disk are the kept ones');
        // best: the first (tie_break first) or the latest (tie_break latest) of the best score, among those kept
        const bestValue = f.final.bestModelScore!;
        const tied = kept.filter((p) => f.final.bestKModels.get(p) === bestValue).map((p) => Number(/epoch=(\d+)/.exec(p)![1]));
        assert.equal(f.final.bestModelPath, path(tie === 'first' ? Math.min(...tied) : Math.max(...tied)));
        assert.equal(bestValue, scores[want[0]!]);
      },
    ),
    { seed: SEED + 5, numRuns: runs(1500) },
  );
});
