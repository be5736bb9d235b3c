/**
 * Inputs that used to hang the CLI, exhaust its memory or end in a stack trace (issue 15, items 1,
 * 2 and 5), each run as a user would: its own process, under a time and a heap bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CKPT, root, STACK } from './helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-rel-inputs-'));

/** `ckpt ARGS` with a 256 MB heap and a 60 s limit: a hang or a runaway heap fails the test instead of the machine. */
function bounded(args: readonly string[]) {
  const r = spawnSync(process.execPath, ['--max-old-space-size=256', ...CKPT, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.signal, null, `ckpt ${args.join(' ')} was killed (${r.signal}): a hang or a runaway heap`);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function csv(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

test('item 1: rows whose step goes back end the replay with a note naming the row, in simulate and compare', () => {
  const back = csv('back.csv', 'step,train_loss,epoch\n99,1.0,0\n299,0.8,2\n199,0.9,1\n399,0.7,3\n');
  const r = bounded(['simulate', '--set', 'monitor=train_loss', back]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`note: .*rows whose step goes back \\(${back.replace(/[.]/g, '\\.')}:4: step 199 after 299\\) are ignored`));
  assert.doesNotMatch(r.stderr, STACK);
  // the row out of order is ignored: the same decisions as the log without it
  const without = csv('without.csv', 'step,train_loss,epoch\n99,1.0,0\n299,0.8,2\n399,0.7,3\n');
  const w = bounded(['simulate', '--set', 'monitor=train_loss', '--format', 'json', without]);
  const b = bounded(['simulate', '--set', 'monitor=train_loss', '--format', 'json', back]);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(JSON.parse(b.stdout).policies[0].kept, JSON.parse(w.stdout).policies[0].kept);

  const lower = csv('lower.csv', 'step,val_loss,epoch\n99,1.0,0\n199,0.9,1\n150,0.5,1\n299,0.8,2\n');
  const c = bounded(['compare', '{monitor: val_loss}', '{monitor: val_loss, save_top_k: 2}', lower]);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /lower\.csv:4: step 150 after 199/);
});

test('item 2: a huge epoch skips the epochs that cannot fit; a huge step is refused naming the row; both bounded', () => {
  const epoch = csv('huge-epoch.csv', 'step,train_loss,epoch\n99,1.0,0\n199,0.9,1\n299,0.8,100000000000\n');
  const e = bounded(['simulate', '--set', 'monitor=train_loss', epoch]);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /jumps from epoch 1 to epoch 100000000000 between global steps 200 and 300, fewer steps than epochs; the epochs between are skipped/);

  const step = csv('huge-step.csv', 'step,train_loss,epoch\n99,1.0,0\n199,0.9,1\n100000000000,0.8,2\n');
  const s = bounded(['simulate', '--set', 'monitor=train_loss', '--set', 'every_n_train_steps=1', step]);
  assert.equal(s.code, 1);
  assert.equal(s.stdout, '');
  assert.match(s.stderr, new RegExp(`^ckpt: ${step.replace(/[.]/g, '\\.')}:4: step: replaying the loop up to global step \\d+ would run more than 200,000 checkpoint hooks between two rows of the log`));
  assert.doesNotMatch(s.stderr, STACK);
  // the same log with every_n_train_steps=0 has no per-step hooks: its huge step costs nothing
  const q = bounded(['simulate', '--set', 'monitor=train_loss', step]);
  assert.equal(q.code, 0, q.stderr);
});

test('item 5: YAML aliases in policy files, inline policies and trainer files are clear errors with their place', () => {
  const tiny = join(root, 'test/fixtures/logs/tiny-val.csv');
  const unresolved = csv('alias.yaml', 'save_top_k: 2\nmonitor: *nope\n');
  const a = bounded(['simulate', '--policy', unresolved, tiny]);
  assert.equal(a.code, 1);
  assert.equal(a.stderr, `ckpt: ${unresolved}:2:10: unresolved alias *nope: an alias must refer to an anchor (&nope) set before it\n`);

  const bomb = 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nmonitor: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n';
  const i = bounded(['simulate', '--policy', bomb, tiny]);
  assert.equal(i.code, 1);
  assert.match(i.stderr, /^ckpt: .*too many alias expansions \(more than 100\): YAML aliases \(\*name\) are limited to keep memory bounded\n$/);

  const trainer = csv('trainer.yaml', 'max_epochs: *m\n');
  const t = bounded(['simulate', '--set', 'monitor=val_loss', '--trainer', trainer, tiny]);
  assert.equal(t.code, 1);
  assert.equal(t.stderr, `ckpt: ${trainer}:1:13: unresolved alias *m: an alias must refer to an anchor (&m) set before it\n`);
  for (const x of [a, i, t]) assert.doesNotMatch(x.stderr, STACK);
});
