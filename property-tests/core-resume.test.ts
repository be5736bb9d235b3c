/**
 * Property 2, resume equivalence: a policy stopped anywhere, written out as JSON
 * (`JSON.parse(JSON.stringify(encodeState(s)))`), read back with `decodeState` and continued,
 * produces exactly what the uninterrupted policy produces: the same effects, event by event, and
 * the same final encoded state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeState, encodeState, reduce, type Effect, type PolicyState } from '../src/core/index.ts';
import { churnScenarioArb, REGRESSIONS, runs, runScenario, scenarioArb, type Scenario } from './arbitraries.ts';

/** The general scenarios, with more file churn (the file model growing and shrinking). */
const resumeArb = fc.oneof({ weight: 3, arbitrary: scenarioArb }, { weight: 1, arbitrary: churnScenarioArb });

const enc = (s: PolicyState) => JSON.stringify(encodeState(s));

function roundTrip(s: PolicyState): PolicyState {
  const json: unknown = JSON.parse(JSON.stringify(encodeState(s)));
  const decoded = decodeState(json);
  if (E.isLeft(decoded)) assert.fail(`decodeState refused encodeState's output: ${decoded.left.join('; ')}`);
  return decoded.right;
}

test('resume: splitting a stream anywhere (possibly several times) and resuming from JSON changes nothing', () => {
  fc.assert(
    fc.property(resumeArb, fc.uniqueArray(fc.nat({ max: 200 }), { minLength: 1, maxLength: 3 }), (sc, cuts) => {
      const straight = runScenario(sc);
      const n = sc.events.length;
      const splitAt = new Set(cuts.map((c) => c % (n + 1)));
      let s = straight.initial;
      const effects: Array<readonly Effect[]> = [];
      for (let i = 0; i < n; i++) {
        if (splitAt.has(i)) s = roundTrip(s);
        const [next, fx] = reduce(s, sc.events[i]!);
        effects.push(fx);
        s = next;
      }
      if (splitAt.has(n)) s = roundTrip(s);
      assert.deepStrictEqual(
        effects,
        straight.steps.map((st) => st.effects),
        `effects differ after resuming at ${[...splitAt].sort((a, b) => a - b).join(', ')}`,
      );
      const final = straight.steps.length ? straight.steps[straight.steps.length - 1]!.after : straight.initial;
      assert.equal(enc(s), enc(final), 'the final encoded state differs');
    }),
    { seed: Number(process.env.FC_SEED ?? 0x5eed11), numRuns: runs(2000), examples: REGRESSIONS.map((r) => [r, [r.events.length - 1]] as [Scenario, number[]]) },
  );
});

test('resume: at every point, one step from the JSON round trip equals one step from the live state', () => {
  fc.assert(
    fc.property(resumeArb, (sc) => {
      const r = runScenario(sc);
      for (const [i, st] of r.steps.entries()) {
        const restored = roundTrip(st.before);
        assert.equal(enc(restored), enc(st.before), `encode(decode(encode(s))) != encode(s) before event ${i} (${st.event.type})`);
        const [next, fx] = reduce(restored, st.event);
        assert.deepStrictEqual(fx, st.effects, `effects of event ${i} (${st.event.type}) differ after the round trip`);
        assert.equal(enc(next), enc(st.after), `state after event ${i} (${st.event.type}) differs after the round trip`);
      }
    }),
    { seed: Number(process.env.FC_SEED ?? 0x5eed12), numRuns: runs(2000), examples: REGRESSIONS.map((r) => [r] as [Scenario]) },
  );
});
