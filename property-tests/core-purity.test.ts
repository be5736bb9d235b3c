/**
 * Property 1, purity: the same input gives the same output, and inputs are never touched.
 * - A whole scenario reduced twice from `init` (with another scenario reduced in between, so any
 *   hidden module state such as the template cache would show) gives identical effects and states.
 * - Every single step: the event is deep-frozen before `reduce` (a write to it would throw in
 *   strict mode), the state before is unchanged afterwards (immutable.js collections cannot be
 *   frozen, so its encoding is compared), and reducing the same (state, event) again gives the
 *   same effects and the same next state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeState, init, reduce } from '../src/core/index.ts';
import { deepFreeze, ENV, REGRESSIONS, runs, runScenario, scenarioArb, type Run, type Scenario } from './arbitraries.ts';

const enc = (s: Parameters<typeof encodeState>[0]) => JSON.stringify(encodeState(s));

function trace(r: Run) {
  return { init: r.initEffects, effects: r.steps.map((s) => s.effects), states: r.steps.map((s) => enc(s.after)) };
}

test('purity: a scenario reduced twice gives the same effects and states, whatever ran in between', () => {
  fc.assert(
    fc.property(scenarioArb, scenarioArb, (sc, other) => {
      const first = trace(runScenario(sc));
      runScenario(other);
      const second = trace(runScenario(sc));
      assert.deepStrictEqual(second, first);
    }),
    { seed: Number(process.env.FC_SEED ?? 0x5eed01), numRuns: runs(1000), examples: REGRESSIONS.map((r) => [r, r] as [Scenario, Scenario]) },
  );
});

test('purity: reduce leaves its frozen event and its state untouched and is repeatable step by step', () => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      const config = deepFreeze(structuredClone(sc.config));
      const pristineConfig = structuredClone(sc.config);
      let [s] = init(config, ENV);
      for (const original of sc.events) {
        const event = deepFreeze(structuredClone(original));
        const pristine = structuredClone(original);
        const before = enc(s);
        const [next, effects] = reduce(s, event);
        assert.equal(enc(s), before, `reduce changed the state it was given (event ${event.type})`);
        assert.deepStrictEqual(event, pristine, 'reduce changed its event');
        const [again, effectsAgain] = reduce(s, event);
        assert.deepStrictEqual(effectsAgain, effects, `a second reduce of the same (state, ${event.type}) gave other effects`);
        assert.equal(enc(again), enc(next), `a second reduce of the same (state, ${event.type}) gave another state`);
        // effects are plain, serialisable data: no class instances, no functions
        assert.deepStrictEqual(structuredClone(effects), effects);
        for (const e of effects) assert.ok(Object.getPrototypeOf(e) === Object.prototype, 'effects are plain objects');
        s = next;
      }
      assert.deepStrictEqual(config, pristineConfig, 'init or reduce changed the config');
    }),
    { seed: Number(process.env.FC_SEED ?? 0x5eed02), numRuns: runs(1500), examples: REGRESSIONS.map((r) => [r] as [Scenario]) },
  );
});
