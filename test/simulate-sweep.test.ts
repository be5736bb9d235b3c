/**
 * Many runs at once (issue 14): a lightning_logs/ folder of version_N runs, a glob, several logs;
 * one row per run, the same figures each run gets alone, totals, unreadable runs named, and
 * unrelated runs in one folder of event files told apart from the fits of one resumed run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseConfig } from '../src/core/config.ts';
import { DEFAULT_RUN } from '../src/sources/loopFacts.ts';
import { openLog } from '../src/sources/open.ts';
import { simulate } from '../src/simulate/run.ts';
import { expandGlob, naturalOrder, runsOf, splitUnrelated, type RunInput } from '../src/simulate/runs.ts';
import { simulateRuns, summarizePolicy, totals, type RunSummary, type ThreadReport } from '../src/simulate/sweep.ts';
import { ckpt, root, STACK } from './helpers/cli.ts';

const fixtures = join(root, 'test/fixtures/lightning-runs/runs');
const picked = ['001-topk1-val-loss', '002-topk3-filename-val-loss', '007-topk2-every3-epochs', '008-val-half-epoch-topk2', '013-every10-steps-val-loss', '014-nan-val-loss-topk2', '010-val-every-2nd-epoch', '011-no-validation-all', '003-topk2-val-acc-max-link', '015-ties-topk2', '019-max-steps-mid-epoch'];

/** A lightning_logs/ of version_0..version_10, each one public run's metrics.csv (version_10 sorts after version_9). */
function lightningLogs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-sweep-'));
  picked.forEach((run, i) => {
    mkdirSync(join(dir, 'lightning_logs', `version_${i}`), { recursive: true });
    copyFileSync(join(fixtures, run, 'logs/csv/version_0/metrics.csv'), join(dir, 'lightning_logs', `version_${i}`, 'metrics.csv'));
  });
  return dir;
}

const policies = [
  { name: 'top1', config: parseConfig({ monitor: 'val_loss' }) },
  { name: 'last', config: parseConfig({ save_top_k: 0, save_last: true }) },
];
const settings = (cwd: string) => ({ policies, run: DEFAULT_RUN, cwd, roles: {}, metric: { name: 'val_loss', mode: 'min' as const }, ckptSize: 1e9, skipBad: false });

test('a lightning_logs/ folder is one run per version folder, in version order', () => {
  const dir = lightningLogs();
  const { runs, several } = runsOf('lightning_logs', dir);
  assert.equal(several, true);
  assert.deepEqual(runs.map((r) => r.name), picked.map((_, i) => `lightning_logs/version_${i}`));
  assert.deepEqual(expandGlob('lightning_logs/version_1?/metrics.csv', dir), [join(dir, 'lightning_logs/version_10/metrics.csv')]);
  assert.deepEqual(expandGlob('lightning_logs/version_[0-2]', dir).map((p) => basename(p)), ['version_0', 'version_1', 'version_2']);
  assert.equal(expandGlob('**/metrics.csv', dir).length, picked.length);
  assert.deepEqual(['version_10', 'version_9', 'version_1'].sort(naturalOrder), ['version_1', 'version_9', 'version_10']);
});

test('in worker threads, every run gets the figures it gets alone, in the runs\' order; totals add them up', async () => {
  const dir = lightningLogs();
  const { runs } = runsOf('lightning_logs', dir);
  const swept = await simulateRuns(runs, settings(dir), { jobs: 2 });
  const alone: RunSummary[] = [];
  for (const r of runs) {
    const one = await simulate({ policies, logs: r.logs, run: DEFAULT_RUN, cwd: dir, metric: { name: 'val_loss', mode: 'min' }, ckptSize: 1e9 });
    alone.push({ kind: 'simulated', run: r.name, logs: r.logs.map((l) => l.path), notes: one.notes, policies: one.policies.map(summarizePolicy) });
  }
  assert.deepEqual(swept.runs, alone);
  assert.deepEqual(swept.totals, totals(alone, policies, 1e9));
  const [top1, last] = swept.totals;
  const simulated = alone.flatMap((r) => (r.kind === 'simulated' ? [r] : []));
  assert.equal(top1!.checkpointsWritten, simulated.reduce((a, r) => a + r.policies[0]!.checkpointsWritten, 0));
  assert.equal(last!.runsLostBest, simulated.filter((r) => r.policies[1]!.regret! > 0).length);
  assert.equal(top1!.maxPeakFiles, Math.max(...simulated.map((r) => r.policies[0]!.peakFiles)));
});

test('threads share the runs: each run done once, by one thread; the rows and totals are those of one thread', async () => {
  const dir = lightningLogs();
  const { runs: eleven } = runsOf('lightning_logs', dir);
  const runs = Array.from({ length: 5 }, () => eleven).flat(); // 55 runs of uneven lengths
  const reports: ThreadReport[][] = [];
  const one = await simulateRuns(runs, settings(dir), { jobs: 1, onThreads: (t) => reports.push([...t]) });
  const three = await simulateRuns(runs, settings(dir), { jobs: 3, onThreads: (t) => reports.push([...t]) });
  assert.deepEqual(three, one);
  assert.deepEqual(reports[0]!.map((t) => [t.thread, t.runs]), [['main', runs.length]]);
  // workers still starting when the runs ran out are stopped and report nothing
  const shares = reports[1]!;
  assert.ok(shares.length >= 1 && shares.length <= 3);
  assert.equal(shares[0]!.thread, 'main');
  assert.equal(shares.reduce((a, t) => a + t.runs, 0), runs.length);
  for (const t of shares) {
    assert.ok(t.busyS >= 0 && t.startS >= 0 && t.utilization >= 0 && t.utilization <= 1);
    if (process.platform === 'linux') assert.ok(t.cpuS !== null && t.cpuS > 0 && t.cpuS <= t.busyS + 0.05, `thread ${t.thread}: ${t.cpuS} s CPU in ${t.busyS} s`);
  }
});

test('a run that fails for a reason other than its input stops the sweep with an error naming the run, in one thread or several', async () => {
  const dir = lightningLogs();
  const { runs } = runsOf('lightning_logs', dir);
  const broken = { name: 'broken-run', logs: [{ kind: 'no-such-kind', path: dir, dir }] } as unknown as RunInput;
  for (const jobs of [1, 2]) {
    await assert.rejects(simulateRuns([...runs, broken, ...runs], settings(dir), { jobs }), /^Error: simulating broken-run: /);
  }
});

test('ckpt simulate over a folder, a glob and several logs: one row per run; JSON totals; --jobs 1 gives the same', () => {
  const dir = lightningLogs();
  const json = (args: string[]) => {
    const r = ckpt(['simulate', '--set', 'monitor=val_loss', '--format', 'json', '--ckpt-size', '1GB', ...args], dir);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { runs: { run: string; policies: { regret: number; checkpointsWritten: number }[] }[]; totals: { runs: number; checkpointsWritten: number }[] };
  };
  const folder = json(['lightning_logs']);
  assert.equal(folder.runs.length, picked.length);
  assert.equal(folder.totals[0]!.runs, picked.length);
  assert.equal(folder.totals[0]!.checkpointsWritten, folder.runs.reduce((a, r) => a + r.policies[0]!.checkpointsWritten, 0));
  assert.deepEqual(json(['--jobs', '1', 'lightning_logs/version_*']), folder);
  const two = json(['lightning_logs/version_0/metrics.csv', 'lightning_logs/version_1']);
  assert.deepEqual(two.runs.map((r) => r.policies), folder.runs.slice(0, 2).map((r) => r.policies));
  const table = ckpt(['simulate', '--set', 'monitor=val_loss', 'lightning_logs'], dir).stdout;
  for (let i = 0; i < picked.length; i++) assert.match(table, new RegExp(`│ lightning_logs/version_${i} +│`));
  assert.match(table, /^totals:/m);
});

test('a run that cannot be read is a row naming the problem, the others are still simulated; exit code 1', () => {
  const dir = lightningLogs();
  mkdirSync(join(dir, 'lightning_logs/version_99'));
  writeFileSync(join(dir, 'lightning_logs/version_99/metrics.csv'), 'epoch,step,val_loss\n0,1,abc\n');
  const r = ckpt(['simulate', '--set', 'monitor=val_loss', '--format', 'json', 'lightning_logs'], dir);
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stderr, STACK);
  assert.match(r.stderr, /1 of 12 runs could not be read: .*version_99\/metrics\.csv:2: val_loss: expected a number/);
  const out = JSON.parse(r.stdout) as { runs: { kind: string }[] };
  assert.equal(out.runs.filter((x) => x.kind === 'simulated').length, picked.length);
});

test(`a run on which Lightning would raise: every run is reported, the exit code is 3, and stderr names the policy and how many runs`, () => {
  const dir = lightningLogs();
  mkdirSync(join(dir, 'lightning_logs/version_11'));
  // logs val/loss, not val_loss: Lightning raises MisconfigurationException at the first check
  copyFileSync(join(fixtures, '016-slash-metric-names/logs/csv/version_0/metrics.csv'), join(dir, 'lightning_logs/version_11/metrics.csv'));
  const r = ckpt(['simulate', '--set', 'monitor=val_loss', 'lightning_logs'], dir);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /policy: Lightning would raise in 1 of 12 runs \(exit code 3\)/);
  assert.match(r.stdout, /│ lightning_logs\/version_11 +│ policy +│ Lightning raises MisconfigurationException/);
});

test('several runs refuse --resumed-log and --logger-dir, naming why', () => {
  const dir = lightningLogs();
  const a = ckpt(['simulate', '--resumed-log', 'lightning_logs/version_1', 'lightning_logs'], dir);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /--resumed-log: given with 11 runs/);
  assert.match(ckpt(['simulate', '--logger-dir', 'x', 'lightning_logs'], dir).stderr, /--logger-dir: given with 11 runs/);
  assert.match(ckpt(['simulate', '--jobs', '0', 'lightning_logs'], dir).stderr, /--jobs: expected a whole number of threads, at least 1, got "0"/);
  assert.match(ckpt(['simulate', 'nothing/version_*'], dir).stderr, /nothing\/version_\*: the pattern matches no file or folder/);
});

test('unrelated runs in one folder of event files are separated; the fits of a resumed run are not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-unrelated-'));
  const events = (run: string, v = 'version_0') => readdirSync(join(fixtures, run, 'logs/tb', v)).filter((n) => n.startsWith('events.out')).map((n) => join(fixtures, run, 'logs/tb', v, n));
  // two Trainers logging into one folder: their event files, named by wall time
  const [a] = events('001-topk1-val-loss');
  const [b] = events('007-topk2-every3-epochs');
  copyFileSync(a!, join(dir, 'events.out.tfevents.1000000000.host.1.0'));
  copyFileSync(b!, join(dir, 'events.out.tfevents.1000000500.host.2.0'));
  const mixed = await splitUnrelated({ name: 'mixed', logs: openLog(dir) });
  assert.deepEqual(mixed.runs.map((r) => r.logs.map((l) => basename(l.path))), [['events.out.tfevents.1000000000.host.1.0'], ['events.out.tfevents.1000000500.host.2.0']]);
  assert.match(mixed.notes[0]!, /its 2 event files hold 2 unrelated runs .*events\.out\.tfevents\.1000000000\.host\.1\.0; events\.out\.tfevents\.1000000500\.host\.2\.0/);
  // each is simulated as the run it is: as the fixture's own event file alone
  const alone = await simulate({ policies, logs: openLog(a!), run: DEFAULT_RUN, cwd: dir, metric: { name: 'val_loss', mode: 'min' } });
  const swept = await simulateRuns(mixed.runs, { ...settings(dir), ckptSize: null }, { jobs: 1 });
  assert.deepEqual(swept.runs[0]!.kind === 'simulated' && swept.runs[0]!.policies.map((p) => p.checkpointsWritten), alone.policies.map((p) => p.checkpointsWritten));
  // run 023 resumed into the same version: two event files, one run
  const resumed = await splitUnrelated({ name: '023', logs: openLog(join(fixtures, '023-resume-exception-ckpt-same-version/logs/tb/version_0')) });
  assert.equal(resumed.runs.length, 1);
  assert.equal(resumed.runs[0]!.logs.length, 2);
  // the CLI reports them as two runs
  const r = ckpt(['simulate', '--set', 'monitor=val_loss', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /note: .*hold 2 unrelated runs/);
  assert.match(r.stdout, /^2 runs/);
});
