/** The Orbax dialect against orbax-checkpoint 0.12.4's recorded decisions: the whole public set, and a corrupted trace failing where it was changed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CKPT } from './helpers/cli.ts';
import { runConformance } from '../src/cli/conformance.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test/fixtures/conformance/orbax-0.12.4');

test('the whole public Orbax set passes, file by file, through ckpt conformance', () => {
  const lines: string[] = [];
  const code = runConformance(fixtures, (l) => lines.push(l));
  const manifest = JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8')) as { files: Record<string, { scenarios: number }>; total_scenarios: number };
  for (const [file, { scenarios }] of Object.entries(manifest.files)) assert.ok(lines.includes(`${file}: ${scenarios} passed, 0 failed`), lines.join('\n'));
  assert.equal(lines.at(-1), `total: ${manifest.total_scenarios} passed, 0 failed`);
  assert.equal(code, 0);
});

/** A copy of the set with one scenario's recorded ops changed. */
function corrupted(change: (s: { phases: Array<{ events: Array<Record<string, unknown>> }> }) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-orbax-conf-'));
  copyFileSync(join(fixtures, 'manifest.json'), join(dir, 'manifest.json'));
  const lines = readFileSync(join(fixtures, 'steps.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 4);
  const s = JSON.parse(lines[2]!);
  change(s);
  lines[2] = JSON.stringify(s);
  writeFileSync(join(dir, 'steps.jsonl'), lines.join('\n') + '\n');
  return dir;
}

test('a trace that disagrees fails with its first difference, and ckpt conformance exits 1', () => {
  let where = -1;
  const dir = corrupted((s) => {
    const events = s.phases[0]!.events;
    where = events.findIndex((e) => Array.isArray(e['kept']) && (e['kept'] as number[]).length > 0);
    events[where]!['kept'] = [...(events[where]!['kept'] as number[]), 999];
  });
  const r = spawnSync(process.execPath, [...CKPT, 'conformance', dir], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /^steps\.jsonl: 3 passed, 1 failed$/m);
  assert.match(r.stdout, new RegExp(`FAIL public-steps-0002: phase 0 call ${where} \\(.*\\): kept: expected \\[.*,999\\], got \\[`));
  assert.match(r.stdout, /^total: 3 passed, 1 failed$/m);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length, 1);
});

test('a changed decision reason is a difference too', () => {
  const dir = corrupted((s) => {
    const e = s.phases[0]!.events.find((x) => (x['decision'] as { checked?: string } | undefined)?.checked === 'policy')!;
    (e['decision'] as { checked: string }).checked = 'read_only';
  });
  const lines: string[] = [];
  assert.equal(runConformance(dir, (l) => lines.push(l)), 1);
  assert.ok(lines.some((l) => /FAIL public-steps-0002: .*decision: expected .*"checked":"read_only"/.test(l)), lines.join('\n'));
});
