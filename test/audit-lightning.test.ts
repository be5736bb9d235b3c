/**
 * `ckpt audit lightning` on the real Lightning runs (test/fixtures/lightning-runs, copied to temp
 * folders, with the checkpoint files of kept.json recreated): every run is clean; deleting a kept
 * checkpoint or adding a stray one is reported exactly; auditing with other arguments than the
 * callback had shows the misconfiguration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLightningRun, trainerDescription, type LightningRun } from '../src/simulate/lightningRun.ts';
import type { LightningReport } from '../src/audit/lightning.ts';
import { runLightning } from '../src/cli/audit.ts';

const runsDir = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/lightning-runs/runs');
const names = readdirSync(runsDir).sort();
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-audit-lightning-'));

interface Copy {
  readonly run: LightningRun;
  readonly root: string;
  /** CLI arguments as a user would give them, relative to the run folder */
  readonly metrics: string;
  readonly dir: string;
  readonly opts: { policy: string; trainer: string; resumedLog: string[]; cwd: string; loggerDir: string };
}

/** A temp copy of a run, its checkpoint folder as Lightning left it, and the policy and trainer files. */
function copyRun(name: string, policy?: Record<string, unknown>): Copy {
  const root = join(tmp, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(join(runsDir, name), root, { recursive: true });
  const run = loadLightningRun(root);
  for (const k of run.kept) {
    const p = join(root, k.path);
    mkdirSync(dirname(p), { recursive: true });
    if (k.type === 'symlink') symlinkSync(k.target!, p);
    else writeFileSync(p, '');
  }
  const mc = run.json.model_checkpoint;
  writeFileSync(join(root, 'policy.json'), JSON.stringify(policy ?? { ...mc.kwargs, ...mc.instance_attributes }));
  writeFileSync(join(root, 'trainer.json'), JSON.stringify(trainerDescription(run, true)));
  const logs = (run.csvLogs.length === run.json.fits.length ? run.csvLogs : run.tbLogs).map((l) => relative(root, l.path));
  const dir = dirname(run.kept[0]!.path);
  return { run, root, metrics: logs[0]!, dir, opts: { policy: join(root, 'policy.json'), trainer: join(root, 'trainer.json'), resumedLog: logs.slice(1), cwd: root, loggerDir: relative(root, run.loggerDir) } };
}

async function audit(c: Copy): Promise<{ code: number; report: LightningReport; text: string }> {
  const lines: string[] = [];
  const code = await runLightning(c.metrics, c.dir, { ...c.opts, json: true }, (l) => lines.push(l));
  const report = JSON.parse(lines.at(-1)!) as LightningReport;
  const text: string[] = [];
  await runLightning(c.metrics, c.dir, c.opts, (l) => text.push(l));
  return { code, report, text: text.join('\n') };
}

const keyIn = (c: Copy, path: string) => relative(join(c.root, c.dir), join(c.root, path));

test('every public Lightning run audits clean against the files it kept', async () => {
  assert.equal(names.length, 24);
  for (const name of names) {
    const c = copyRun(name);
    const { code, report, text } = await audit(c);
    assert.equal(code, 0, `${name}:\n${text}`);
    assert.equal(report.status, 'clean');
    assert.deepEqual(report.findings, []);
    assert.equal(report.actual.length, c.run.kept.length, name);
  }
});

test('a kept checkpoint deleted by hand or a stray one added: the exact drift, on every run', async () => {
  for (const name of names) {
    // deleted: the first regular file Lightning kept
    const c = copyRun(name);
    const victim = c.run.kept.find((k) => k.type === 'file')!;
    rmSync(join(c.root, victim.path));
    let r = await audit(c);
    assert.equal(r.code, 1, `${name}:\n${r.text}`);
    const key = keyIn(c, victim.path);
    if (r.report.uncertain.length === 0) {
      assert.deepEqual(r.report.findings.map((f) => `${f.kind} ${f.key}`), [`missing ${key}`], `${name}:\n${r.text}`);
      assert.match(r.report.findings[0]!.message, new RegExp(`^missing     ${key.replace(/[.[\]()]/g, '\\$&')}: the policy keeps it \\(written at epoch \\d+, global step \\d+\\), not in the folder$`));
    } else {
      // a per-step monitor the log does not hold: which kept file is gone is one of a few, named
      assert.equal(name, '018-monitor-train-loss-steps');
      assert.deepEqual(r.report.findings, []);
      assert.equal(r.report.uncertain.length, 1);
      assert.ok(r.report.uncertain[0]!.startsWith('missing     one of ') && r.report.uncertain[0]!.includes(key), r.text);
    }

    // stray: a checkpoint name this policy never writes
    const s = copyRun(name);
    const stray = `epoch=99-step=99999${s.run.config.fileExtension}`;
    writeFileSync(join(s.root, s.dir, stray), 'hand-made');
    r = await audit(s);
    assert.equal(r.code, 1, `${name}:\n${r.text}`);
    assert.deepEqual(r.report.findings.map((f) => `${f.kind} ${f.key}`), [`unexpected ${stray}`], `${name}:\n${r.text}`);
    assert.equal(r.report.findings[0]!.message, `unexpected  ${stray}: the policy as configured never writes it`);
    assert.deepEqual(r.report.uncertain, []);
  }
});

test('auditing with arguments other than the callback had shows the misconfiguration: top 2 instead of top 3', async () => {
  const name = '002-topk3-filename-val-loss';
  const real = copyRun(name).run.json.model_checkpoint.kwargs;
  const c = copyRun(name, { ...real, save_top_k: 2 });
  const { code, report, text } = await audit(c);
  assert.equal(code, 1);
  assert.equal(report.findings.length, 1, text);
  assert.match(report.findings[0]!.message, /^unexpected  epoch=\d+-val_loss=[0-9.]+\.ckpt: the policy removed it at epoch \d+, global step \d+ \(displaced by epoch=\d+-val_loss=[0-9.]+\.ckpt\)$/);
});

test('unreadable inputs: exit 2 naming what could not be read', async () => {
  const c = copyRun(names[0]!);
  const lines: string[] = [];
  assert.equal(await runLightning(c.metrics, 'no-such-folder', c.opts, (l) => lines.push(l)), 2);
  assert.match(lines[0]!, /^unreadable: cannot list the checkpoint folder .*no-such-folder/);
  lines.length = 0;
  writeFileSync(c.opts.policy, '{"save_top_k": 3, "monitr": "val_loss"}');
  assert.equal(await runLightning(c.metrics, c.dir, c.opts, (l) => lines.push(l)), 2);
  assert.match(lines[0]!, /^unreadable: .*policy\.json:1:\d+: monitr: unknown option 'monitr' \(did you mean 'monitor'\?\)/);
});

test.after?.(() => rmSync(tmp, { recursive: true, force: true }));
