/**
 * States and checkpoint records written by the format-1 code (test/fixtures/states/format1-*.json,
 * made by generate-format1.ts before state format 2) still decode, and a policy resumed from them
 * makes exactly the decisions the format-1 code made for the rest of the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent, decodeState, encodeState, lightningStateDict, reduce, type PolicyState } from '../src/core/index.ts';
import { decodeRecord } from '../src/runtime/record.ts';
import { jsonSafe } from './fixtures/states/jsonSafe.ts';

const dir = new URL('./fixtures/states/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.startsWith('format1-') && f.endsWith('.json')).sort();

interface Fixture {
  readonly state: { readonly format: string };
  readonly record: unknown;
  readonly rest: readonly unknown[];
  readonly effects: readonly unknown[];
  readonly finalStateDict: unknown;
}

function mustDecode(u: unknown): PolicyState {
  const r = decodeState(u);
  if (E.isLeft(r)) assert.fail(r.left.join('; '));
  return r.right;
}

function resume(s0: PolicyState, fx: Fixture, label: string) {
  let s = s0;
  for (const [i, raw] of fx.rest.entries()) {
    const ev = decodeEvent(raw);
    if (E.isLeft(ev)) assert.fail(ev.left.join('; '));
    const [next, effects] = reduce(s, ev.right);
    assert.deepStrictEqual(jsonSafe(effects), fx.effects[i], `${label}: effects of event ${i} (${ev.right.type})`);
    s = next;
  }
  assert.deepStrictEqual(jsonSafe(lightningStateDict(s)), fx.finalStateDict, `${label}: final state_dict`);
  // and the state written today round-trips
  assert.deepStrictEqual(encodeState(mustDecode(JSON.parse(JSON.stringify(encodeState(s))))), encodeState(s), `${label}: today's encoding round-trips`);
}

test('format-1 fixtures are there (a dozen or more)', () => {
  assert.ok(files.length >= 12, `found ${files.length}`);
});

for (const f of files) {
  test(`format 1: ${f} decodes and resumes exactly`, () => {
    const fx = JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Fixture;
    assert.equal(fx.state.format, 'ckpt-policy/state@1');
    resume(mustDecode(fx.state), fx, `${f} state`);
    const rec = decodeRecord(fx.record);
    if (E.isLeft(rec)) assert.fail(rec.left.join('; '));
    assert.equal(rec.right.state['format'], 'ckpt-policy/state@1');
    resume(mustDecode(rec.right.state), fx, `${f} record`);
  });
}
