/**
 * Lightning conformance: every recorded scenario replayed through the reducer must match what
 * Lightning did, hook by hook (ops, messages, errors, state) and in the files left behind.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenarios } from '../src/conformance/trace.ts';
import { describeDifference, replayScenario } from '../src/conformance/replay.ts';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/conformance/lightning-2.6.2');
const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();

test('the fixture set is complete (400 scenarios, as the manifest says)', () => {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { total_scenarios: number; files: Record<string, { scenarios: number }> };
  let total = 0;
  for (const f of files) {
    const n = parseScenarios(readFileSync(join(dir, f), 'utf8'), f).length;
    assert.equal(n, manifest.files[f]!.scenarios, f);
    total += n;
  }
  assert.equal(total, manifest.total_scenarios);
});

for (const f of files) {
  describe(f, () => {
    for (const scenario of parseScenarios(readFileSync(join(dir, f), 'utf8'), f)) {
      test(scenario.id, () => {
        const r = replayScenario(scenario);
        if (!r.ok) assert.fail(`${scenario.id}: ${describeDifference(r.diff)}`);
      });
    }
  });
}
