/**
 * The Keras 3.15.1 public set: every scenario replays without a difference, through the library and
 * through `ckpt conformance` (found by its manifest's `keras` key); a corrupted trace fails, naming
 * its first difference, with exit code 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CKPT } from './helpers/cli.ts';
import { kerasConformance, parseKerasScenarios, replayKerasScenario } from '../src/dialects/keras/conformance.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test/fixtures/conformance/keras-3.15.1');
const files = readdirSync(fixtures).filter((f) => f.endsWith('.jsonl')).sort();
const ckpt = (...args: string[]) => spawnSync(process.execPath, [...CKPT, ...args], { encoding: 'utf8' });

test('every scenario of the public set replays without a difference (310)', () => {
  let n = 0;
  for (const f of files) {
    for (const r of kerasConformance.replayFile(readFileSync(join(fixtures, f), 'utf8'), f)) {
      assert.equal(r.failure, null, `${r.id}: ${r.failure}`);
      n++;
    }
  }
  const manifest = JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8'));
  assert.equal(n, manifest.total_scenarios);
});

/** A set with one scenario changed by `edit`, plus the manifest, in a fresh folder. */
function corrupted(file: string, edit: (s: any) => void): { dir: string; id: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-keras-conf-'));
  copyFileSync(join(fixtures, 'manifest.json'), join(dir, 'manifest.json'));
  const lines = readFileSync(join(fixtures, file), 'utf8').split('\n').filter(Boolean);
  const s = JSON.parse(lines[0]!);
  edit(s);
  lines[0] = JSON.stringify(s);
  writeFileSync(join(dir, file), lines.join('\n') + '\n');
  return { dir, id: s.id };
}

test('ckpt conformance recognises the Keras set by its manifest: per-file counts, exit 0', () => {
  const r = ckpt('conformance', fixtures);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const f of files) assert.match(r.stdout, new RegExp(`^${f.replace('.', '\\.')}: \\d+ passed, 0 failed$`, 'm'));
  assert.match(r.stdout, /^total: 310 passed, 0 failed$/m);
});

test('a save Keras did not make: the first difference is that hook\'s ops, exit 1', () => {
  const { dir, id } = corrupted('best.jsonl', (s) => {
    const hook = s.phases[0].hooks.find((h: any) => h.ops.some((o: any) => o.op === 'save'));
    hook.ops.find((o: any) => o.op === 'save').path = 'not-what-keras-did.keras';
  });
  const r = ckpt('conformance', dir);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^best\.jsonl: 59 passed, 1 failed$/m);
  assert.match(r.stdout, new RegExp(`FAIL ${id}: phase 0, hook #\\d+ \\(on_epoch_end\\): ops`));
  assert.ok(r.stdout.includes('not-what-keras-did.keras'), r.stdout);
  assert.match(r.stdout, /^total: 59 passed, 1 failed$/m);
});

test('a changed message, state or constructor outcome is the first difference reported', () => {
  const [s] = parseKerasScenarios(readFileSync(join(fixtures, 'errors.jsonl'), 'utf8'), 'errors.jsonl');
  const withInitError = parseKerasScenarios(readFileSync(join(fixtures, 'errors.jsonl'), 'utf8'), 'errors.jsonl').find((x) => x.phases[0]!.init?.error);
  assert.ok(s && withInitError);
  const broken = JSON.parse(JSON.stringify(withInitError));
  broken.phases[0].init.error.message = 'something else';
  const d = replayKerasScenario(broken);
  assert.equal(d?.hook, 'init');
  assert.equal(d?.field, 'error');

  const [b] = parseKerasScenarios(readFileSync(join(fixtures, 'best.jsonl'), 'utf8'), 'best.jsonl');
  const edited = JSON.parse(JSON.stringify(b));
  const i = edited.phases[0].hooks.findIndex((h: any) => h.state);
  edited.phases[0].hooks[i].state.current_epoch = 99;
  const ds = replayKerasScenario(edited);
  assert.deepEqual([ds?.hook, ds?.field], [i, 'state']);
});
