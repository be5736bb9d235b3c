/**
 * A binary file given as a log, policy or trainer file: the message says it does not look like the
 * text file expected and quotes a short escaped prefix, never the raw bytes (NULs and control
 * characters reach the terminal otherwise).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsvLog } from '../src/sources/csv.ts';
import { notTextReason, quoteText } from '../src/sources/text.ts';
import { ckpt, root, STACK } from './helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-binary-'));
const tiny = join(root, 'test/fixtures/logs/tiny-val.csv');
/** the start of an ELF executable, then noise: what `cp a.out metrics.csv` gives */
const BINARY = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0, 0x1b, 0x5b, 0x32, 0x4a]), Buffer.alloc(2000, 0x07), Buffer.from('\nepoch,step\n')]);
/** raw control characters (ESC, BEL, NUL, ...) anywhere in what the user sees */
const RAW_CONTROL = /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/;

function binaryFile(name: string): string {
  const p = join(tmp, name);
  writeFileSync(p, BINARY);
  return p;
}

test('a binary metrics.csv, .jsonl, policy or trainer file: "does not look like a ... text file", a short escaped prefix, exit 1', () => {
  const csv = binaryFile('metrics.csv');
  const cases: [string[], RegExp][] = [
    [['simulate', '--set', 'monitor=val_loss', csv], new RegExp(`^ckpt: ${csv}: does not look like a CSV text file \\(binary data: NUL bytes\\); it starts with "\\\\u007fELF\\\\u0002\\\\u0001\\\\u0001\\\\u0000[^"]*"\\.\\.\\.; expected a Lightning CSVLogger metrics\\.csv\\n$`)],
    [['simulate', binaryFile('events.jsonl')], /^ckpt: .*events\.jsonl: does not look like a JSON lines text file \(binary data: NUL bytes\); it starts with "\\u007fELF[^"]*"\.\.\.; expected one loop event \(JSON\) per line\n$/],
    [['simulate', '--policy', binaryFile('policy.yaml'), tiny], /^ckpt: .*policy\.yaml: does not look like a JSON or YAML text file \(binary data: NUL bytes\); it starts with "\\u007fELF[^"]*"\.\.\.; expected a policy file of ModelCheckpoint options\n$/],
    [['compare', '{monitor: val_loss}', binaryFile('p2.yaml'), tiny], /^ckpt: .*p2\.yaml: does not look like a JSON or YAML text file/],
    [['simulate', '--trainer', binaryFile('trainer.yaml'), tiny], /^ckpt: .*trainer\.yaml: does not look like a JSON or YAML text file \(binary data: NUL bytes\); .*; expected a trainer file/],
  ];
  for (const [args, expected] of cases) {
    const r = ckpt(args);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, expected);
    assert.doesNotMatch(r.stderr, RAW_CONTROL);
    assert.doesNotMatch(r.stderr, STACK);
    assert.ok(r.stderr.length < 400, r.stderr); // a prefix, not the file
    assert.doesNotMatch(r.stderr, /--skip-bad/); // skipping records cannot help with a file that is not text
  }
});

test('audit lightning with a binary metrics, trainer or policy file: unreadable (exit 2), escaped', () => {
  const dir = join(root, 'test/fixtures/lightning-runs/runs/001-topk1-val-loss');
  const policy = join(tmp, 'ok-policy.yaml');
  writeFileSync(policy, 'monitor: val_loss\n');
  const metrics = join(dir, 'logs/csv/version_0/metrics.csv');
  for (const args of [['audit', 'lightning', '--policy', policy, binaryFile('m.csv'), dir], ['audit', 'lightning', '--policy', policy, '--trainer', binaryFile('t.yaml'), metrics, dir], ['audit', 'lightning', '--policy', binaryFile('p.yaml'), metrics, dir]]) {
    const r = ckpt(args);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /^unreadable: .*: does not look like a (CSV|JSON or YAML) text file \(binary data: NUL bytes\); it starts with "\\u007fELF/);
    assert.doesNotMatch(r.stdout, RAW_CONTROL);
    assert.ok(r.stdout.length < 400, r.stdout);
  }
});

test('a malformed cell is quoted short and escaped', async () => {
  const p = join(tmp, 'cell.csv');
  writeFileSync(p, `epoch,step,val_loss\n0,1,\u001b[2J${'x'.repeat(100)}\n`);
  await assert.rejects(
    async () => {
      for await (const _ of readCsvLog(p)) void _;
    },
    (e: Error) => e.message === `${p}:2: val_loss: expected a number (or nan/inf), got "\\u001b[2J${'x'.repeat(36)}"...`,
  );
});

test('the text check: UTF-16, NULs and control characters are not text; UTF-8 cut mid-character at the sample end is', () => {
  assert.equal(notTextReason(Buffer.from('\ufeffepoch,step\n', 'utf16le')), 'UTF-16 text; save it as UTF-8');
  assert.equal(notTextReason(Buffer.from('epoch,step\n0,1\0\n')), 'binary data: NUL bytes');
  assert.match(notTextReason(Buffer.alloc(50, 0x1b)) ?? '', /^binary data: control characters/);
  const utf8 = Buffer.from('epoch,step,val_loss_é\n0,1,0.5\n');
  assert.equal(notTextReason(utf8.subarray(0, utf8.indexOf(0xa9))), null); // 'é' cut after its first byte
  assert.equal(notTextReason(Buffer.from('epoch,step\n0,1\n')), null);
  assert.equal(quoteText('a\u0000b\u007fc\u2028'), '"a\\u0000b\\u007fc\\u2028"');
  assert.equal(quoteText('😀'.repeat(5), 3), '"😀😀😀"...'); // never half a surrogate pair
});
