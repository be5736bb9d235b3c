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

test('--metric: a mode other than min or max is refused with what is allowed; a name the log lacks lists the names it has', () => {
  const up = ckpt(['simulate', '--set', 'monitor=val_loss', '--metric', 'val_loss:up', tiny]);
  assert.equal(up.code, 1);
  assert.equal(up.stdout, '');
  assert.equal(up.stderr, 'ckpt: --metric: mode "up" is not allowed: the mode is min or max, as in --metric val_loss:min or --metric val_loss:max (min when left out)\n');

  const typo = ckpt(['simulate', '--set', 'monitor=val_loss', '--metric', 'val_los:min', tiny]);
  assert.equal(typo.code, 1);
  assert.equal(typo.stdout, '');
  assert.equal(typo.stderr, "ckpt: --metric val_los: the log has no metric 'val_los' (did you mean 'val_loss'?); its metrics are: train_loss, val_loss\n");

  // event files too, and compare
  const dir = join(root, 'test/fixtures/lightning-runs/runs/022-resume-from-last-new-version');
  const none = ckpt(['compare', '{monitor: val_loss}', '{monitor: val_loss, save_top_k: 2}', '--metric', 'nosuch', '--resumed-log', 'logs/tb/version_1', 'logs/tb/version_0'], dir);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^ckpt: --metric nosuch: the log has no metric 'nosuch'; its metrics are: (\S+, )*val_loss(, \S+)*\n$/);

  // a metric the log has, and a name logged split into _step/_epoch columns, are accepted
  const ok = ckpt(['simulate', '--metric', 'val_loss:max', '--format', 'json', tiny]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((JSON.parse(ok.stdout) as { policies: { metric: unknown }[] }).policies[0]!.metric, { name: 'val_loss', mode: 'max' });
  const split = join(tmp, 'split.csv');
  writeFileSync(split, 'epoch,step,train_loss_step,train_loss_epoch\n0,1,0.5,\n0,3,,0.4\n');
  assert.equal(ckpt(['simulate', '--metric', 'train_loss', split]).code, 0);
});
