/** The public transformers 5.1.0 set replays decision for decision; a corrupted trace fails with its first difference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CKPT } from './helpers/cli.ts';
import { replayTransformersFile } from '../src/dialects/transformers/conformance.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test/fixtures/conformance/transformers-5.1.0');
const ckpt = (...args: string[]) => spawnSync(process.execPath, [...CKPT, ...args], { encoding: 'utf8' });

test('every public scenario agrees with transformers (ckpt conformance: per-file counts, 300 in total, exit 0)', () => {
  const r = ckpt('conformance', fixtures);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const f of readdirSync(fixtures).filter((f) => f.endsWith('.jsonl'))) {
    const n = readFileSync(join(fixtures, f), 'utf8').split('\n').filter(Boolean).length;
    assert.match(r.stdout, new RegExp(`^${f.replace('.', '\\.')}: ${n} passed, 0 failed$`, 'm'));
  }
  assert.match(r.stdout, /^total: 300 passed, 0 failed$/m);
});

test('a trace that says transformers deleted another folder fails at that record, showing both sides; exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-hf-conf-'));
  copyFileSync(join(fixtures, 'manifest.json'), join(dir, 'manifest.json'));
  const lines = readFileSync(join(fixtures, 'rotation.jsonl'), 'utf8').split('\n').filter(Boolean);
  const i = lines.findIndex((l) => l.includes('"op":"rmtree"'));
  const s = JSON.parse(lines[i]!);
  const rec = s.phases[0].events.findIndex((e: { ops: Array<{ op: string }> }) => e.ops.some((o) => o.op === 'rmtree'));
  const op = s.phases[0].events[rec].ops.find((o: { op: string }) => o.op === 'rmtree');
  const original = op.path;
  op.path = 'out/checkpoint-not-this-one';
  lines[i] = JSON.stringify(s);
  writeFileSync(join(dir, 'rotation.jsonl'), lines.join('\n') + '\n');
  const r = ckpt('conformance', dir);
  assert.equal(r.status, 1);
  assert.match(r.stdout, new RegExp(`^rotation\\.jsonl: ${lines.length - 1} passed, 1 failed$`, 'm'));
  assert.match(r.stdout, new RegExp(`FAIL ${s.id}: phase 0: record ${rec} \\(step_end|epoch_end`));
  assert.ok(r.stdout.includes('checkpoint-not-this-one') && r.stdout.includes(original));
  assert.match(r.stdout, /^total: \d+ passed, 1 failed$/m);
});

test('a changed control flag, a changed new_best and a changed resolved value are each a difference', () => {
  const line = readFileSync(join(fixtures, 'best_metric.jsonl'), 'utf8').split('\n').find((l) => l.includes('"new_best":true'))!;
  const flip = (edit: (s: any) => void): string | null => {
    const s = JSON.parse(line);
    edit(s);
    return replayTransformersFile(JSON.stringify(s), 'x.jsonl')[0]!.failure;
  };
  assert.equal(flip(() => {}), null);
  assert.match(flip((s) => { const e = s.phases[0].events.find((e: any) => e.eval?.new_best === true); e.eval.new_best = false; })!, /new_best/);
  assert.match(flip((s) => { const e = s.phases[0].events.find((e: any) => e.control); e.control = [...e.control, 'epoch_stop']; })!, /control/);
  assert.match(flip((s) => { s.phases[0].resolved_args.greater_is_better = !s.phases[0].resolved_args.greater_is_better; })!, /resolved arguments/);
});
