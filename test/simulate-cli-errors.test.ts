/**
 * What `ckpt simulate` and `ckpt compare` say when the command line or a file is wrong: one clear
 * line naming the path or option and what is wrong, exit code 1, never a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ckpt, root, STACK } from './helpers/cli.ts';

const tiny = join(root, 'test/fixtures/logs/tiny-val.csv');
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-cli-errors-'));

test('--html into a folder that does not exist, or onto a folder: refused before simulating, naming the path', () => {
  const missing = join(tmp, 'no-such-dir', 'report.html');
  const r = ckpt(['simulate', '--set', 'monitor=val_loss', '--html', missing, tiny]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, ''); // checked before the simulation prints its table
  assert.equal(r.stderr, `ckpt: --html: cannot write ${missing}: the folder ${join(tmp, 'no-such-dir')} does not exist (create it first)\n`);

  const dir = join(tmp, 'reports');
  mkdirSync(dir);
  const d = ckpt(['compare', '{monitor: val_loss}', '{monitor: val_loss, save_top_k: 2}', '--html', dir, tiny]);
  assert.equal(d.code, 1);
  assert.equal(d.stdout, '');
  assert.equal(d.stderr, `ckpt: --html: ${dir} is a folder; give the report's file name, e.g. --html ${dir}/report.html\n`);

  const underFile = join(tmp, 'plain.txt');
  writeFileSync(underFile, 'x');
  const f = ckpt(['simulate', '--set', 'monitor=val_loss', '--html', join(underFile, 'r.html'), tiny]);
  assert.equal(f.code, 1);
  assert.equal(f.stderr, `ckpt: --html: cannot write ${join(underFile, 'r.html')}: ${underFile} is not a folder\n`);
  for (const x of [r, d, f]) assert.doesNotMatch(x.stderr, STACK);
});

test('compare with one policy is refused, pointing to simulate; with none too', () => {
  const one = ckpt(['compare', '{monitor: val_loss}', tiny]);
  assert.equal(one.code, 1);
  assert.equal(one.stdout, '');
  assert.equal(one.stderr, `ckpt: compare: give two or more policies and then the log (ckpt compare P1 P2 ... LOG); got one policy: to replay one policy, use ckpt simulate --policy '{monitor: val_loss}' ${tiny}\n`);
  const none = ckpt(['compare', tiny]);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, 'ckpt: compare: give two or more policies and then the log (ckpt compare P1 P2 ... LOG)\n');
});
