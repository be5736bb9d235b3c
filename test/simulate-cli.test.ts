/**
 * `ckpt simulate` and `ckpt compare` end to end, as separate processes: policy and trainer files,
 * inline policies, resumed runs, JSON and HTML output, and errors that name the file and line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CKPT } from './helpers/cli.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = join(root, 'test/fixtures/lightning-runs/runs');
const logs = join(root, 'test/fixtures/logs');
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-cli-'));

/** Runs the two commands through their own registration (independent of other commands in main.ts). */
function ckpt(args: string[], cwd = root): { code: number; stdout: string; stderr: string } {
  const entry = `import { Command } from 'commander'; import { registerSimulate } from ${JSON.stringify(join(root, 'src/cli/simulate.ts'))}; const p = new Command('ckpt'); registerSimulate(p); await p.parseAsync(process.argv.slice(1), { from: 'user' });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry, '--', ...args], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

test('simulate with a YAML policy and trainer file reproduces run 003 (symlink last.ckpt); other Trainer keys are noted', () => {
  const dir = join(runs, '003-topk2-val-acc-max-link');
  const policy = file('policy003.yaml', "dirpath: ckpts\nmonitor: val_acc\nmode: max\nsave_top_k: 2\nsave_last: link\nfilename: '{epoch:02d}-{val_acc:.4f}'\n");
  const trainer = file('trainer003.yaml', 'max_epochs: 9\nlog_every_n_steps: 3\nnum_training_batches: 12\naccelerator: cpu\n');
  const r = ckpt(['simulate', '--policy', policy, '--trainer', trainer, '--format', 'json', 'logs/csv/version_0/metrics.csv'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const out = JSON.parse(r.stdout) as { notes: string[]; policies: { name: string; kept: { path: string; type: string; target?: string }[] }[] };
  const kept = JSON.parse(readFileSync(join(dir, 'kept.json'), 'utf8')) as { path: string; type: string; target_path?: string }[];
  assert.equal(out.policies[0]!.name, 'policy003');
  assert.deepEqual(
    out.policies[0]!.kept.map((k) => [k.path, k.type, k.target ?? null]),
    kept.map((k) => [k.path, k.type, k.target_path ?? null]),
  );
  assert.ok(out.notes.includes("trainer key 'accelerator' is not modelled and was ignored"), out.notes.join('\n'));
});

test('compare inline policies on a resumed run (two event files), with an HTML report', () => {
  const dir = join(runs, '022-resume-from-last-new-version');
  const html = join(tmp, 'report022.html');
  const r = ckpt(
    [
      'compare',
      '{name: as-run, dirpath: ckpts, monitor: val_loss, save_top_k: 2, save_last: true}',
      '{name: top1, dirpath: ckpts, monitor: val_loss}',
      '--num-training-batches', '8', '--log-every-n-steps', '2',
      '--resumed-log', 'logs/tb/version_1',
      '--ckpt-size', '1.5GB', '--format', 'json', '--html', html,
      'logs/tb/version_0',
    ],
    dir,
  );
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { fits: { log: string }[]; policies: { name: string; kept: { path: string }[]; bytesWritten: number }[] };
  assert.equal(out.fits.length, 2);
  assert.deepEqual(out.policies.map((p) => p.name), ['as-run', 'top1']);
  assert.deepEqual(out.policies[0]!.kept.map((k) => k.path), ['ckpts/epoch=3-step=32.ckpt', 'ckpts/epoch=4-step=40.ckpt', 'ckpts/last.ckpt']);
  assert.equal(out.policies[0]!.bytesWritten % 1.5e9, 0);
  assert.ok(existsSync(html));
  assert.match(readFileSync(html, 'utf8'), /<svg [\s\S]*as-run[\s\S]*top1/);
  assert.equal(r.stderr, `wrote ${html}\n`); // no progress bar: stderr is not a terminal
});

test('a policy file with mistakes: every problem with its file, line and column; exit code 1', () => {
  const policy = file('bad.yaml', 'monitor: val_loss\nsave_top_k: 3\nmode: maxx\nmonitr: 2\n');
  const r = ckpt(['simulate', '--policy', policy, join(logs, 'tiny-val.csv')]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`ckpt: ${policy}:4:1: monitr: unknown option 'monitr' \\(did you mean 'monitor'\\?\\)`));
  assert.match(r.stderr, new RegExp(`${policy}:3:1: mode: mode="maxx" is not allowed: mode must be 'min' or 'max'`));
});

test('a malformed log row stops with file, line and field; --skip-bad counts it and goes on', () => {
  const bad = join(logs, 'bad-cell.csv');
  const r = ckpt(['simulate', '--set', 'monitor=val_loss', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${bad}:4: val_loss: expected a number \\(or nan/inf\\), got "abc"\\n\\(--skip-bad skips malformed records and counts them\\)`));
  const ok = ckpt(['simulate', '--set', 'monitor=val_loss', '--skip-bad', '--format', 'json', bad]);
  assert.equal(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout) as { skipped: { count: number; examples: string[] }; notes: string[] };
  assert.equal(out.skipped.count, 1);
  assert.ok(out.notes.includes('skipped 1 malformed record (--skip-bad)'));
});

test('usage errors: an unknown size unit, a log that is not a log, a bad trainer value', () => {
  const tiny = join(logs, 'tiny-val.csv');
  assert.match(ckpt(['simulate', '--ckpt-size', '3 parsecs', tiny]).stderr, /--ckpt-size: unknown size unit 'parsecs'/);
  assert.match(ckpt(['simulate', join(logs)]).stderr, /the folder holds no metrics\.csv and no events\.out\.tfevents\.\* file/);
  assert.match(ckpt(['simulate', '--val-check-interval', '2.5', tiny]).stderr, /--val-check-interval: a fraction must be at most 1\.0, got 2\.5/);
});

test('the ckpt command lists simulate and compare, and each shows its options', () => {
  const help = (...args: string[]) => spawnSync(process.execPath, [...CKPT, ...args], { cwd: root, encoding: 'utf8' }).stdout;
  const top = help('--help');
  assert.match(top, /^ {2}simulate <log\.\.\.> /m);
  assert.match(top, /^ {2}compare <policies-and-log\.\.\.> /m);
  assert.match(help('simulate', '--help'), /^Usage: ckpt simulate \[options\] <log\.\.\.>\n[\s\S]*--policy <file\|inline>/);
  assert.match(help('help', 'compare'), /^Usage: ckpt compare \[options\] <policies-and-log\.\.\.>/);
});
