/** `ckpt conformance DIR` as a user runs it: per-file counts, the failing ids with their first difference, the exit code. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CKPT } from './helpers/cli.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test/fixtures/conformance/lightning-2.6.2');
const ckpt = (...args: string[]) => spawnSync(process.execPath, [...CKPT, ...args], { encoding: 'utf8' });

test('a clean set: per-file counts and exit 0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-conf-'));
  const lines = readFileSync(join(fixtures, 'topk.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 5);
  writeFileSync(join(dir, 'topk.jsonl'), lines.join('\n') + '\n');
  const r = ckpt('conformance', dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^topk\.jsonl: 5 passed, 0 failed$/m);
});

test('a scenario that disagrees is named with its first difference, and the exit code is 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-conf-'));
  const lines = readFileSync(join(fixtures, 'topk.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 3);
  // claim Lightning saved under another name at the first hook that saved anything
  const s = JSON.parse(lines[1]!);
  const hook = s.phases[0].hooks.find((h: { ops: Array<{ op: string; path: string }> }) => h.ops.some((o) => o.op === 'save'));
  const original = hook.ops.find((o: { op: string }) => o.op === 'save').path;
  hook.ops.find((o: { op: string }) => o.op === 'save').path = 'ckpts/not-what-lightning-did.ckpt';
  lines[1] = JSON.stringify(s);
  writeFileSync(join(dir, 'topk.jsonl'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'other.jsonl'), readFileSync(join(fixtures, 'last.jsonl'), 'utf8').split('\n')[0] + '\n');
  const r = ckpt('conformance', dir);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^other\.jsonl: 1 passed, 0 failed$/m);
  assert.match(r.stdout, /^topk\.jsonl: 2 passed, 1 failed$/m);
  assert.match(r.stdout, new RegExp(`FAIL ${s.id}: phase 0, hook #\\d+ \\(\\w+\\): ops`));
  assert.ok(r.stdout.includes('not-what-lightning-did.ckpt') && r.stdout.includes(original), 'shows expected and actual');
});

test('a missing directory is a usage error', () => {
  const r = ckpt('conformance', join(tmpdir(), 'no-such-dir-ckpt'));
  assert.equal(r.status, 2);
  assert.match(r.stdout, /is not a directory/);
});

test('the set is chosen by the framework its manifest names; a framework this version does not replay is a usage error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-conf-'));
  writeFileSync(join(dir, 'topk.jsonl'), readFileSync(join(fixtures, 'topk.jsonl'), 'utf8').split('\n')[0] + '\n');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ lightning: { version: '2.6.2' }, total_scenarios: 1 }));
  assert.match(ckpt('conformance', dir).stdout, /^total: 1 passed, 0 failed$/m);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ caffe: { version: '1.0' } }));
  const r = ckpt('conformance', dir);
  assert.equal(r.status, 2);
  assert.match(r.stdout, /its manifest\.json names no framework this version replays \(known: lightning/);
  writeFileSync(join(dir, 'manifest.json'), '{not json');
  assert.match(ckpt('conformance', dir).stdout, /manifest\.json is not JSON/);
});
