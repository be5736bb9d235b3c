/**
 * A run resumed into a new logger version with dirpath unset (issue 14), built from the shape of
 * the public run 022 (fit 5 epochs, fit again to 10 with ckpt_path='last', both loggers moving to
 * version_1) with its policy's dirpath removed. Lightning then writes the second fit's checkpoints
 * into logs/csv/version_1/checkpoints, warns that the dirpath changed and reloads only
 * best_model_path: the second fit's top-k starts empty, and the first fit's files stay where they are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/core/config.ts';
import { loadLightningRun, runFactsOf } from '../src/simulate/lightningRun.ts';
import { fitLoggerDir, simulate } from '../src/simulate/run.ts';
import { root } from './helpers/cli.ts';

const run = loadLightningRun(join(root, 'test/fixtures/lightning-runs/runs/022-resume-from-last-new-version'));
const config = parseConfig({ monitor: 'val_loss', save_top_k: 2, save_last: true }); // run 022's policy, dirpath unset
const v0 = 'logs/csv/version_0/checkpoints';
const v1 = 'logs/csv/version_1/checkpoints';

/** fit 1's epoch-end val_loss rows from its own metrics.csv, as checkpoint names write them (step + 1) */
function fit1Validations(): { epoch: number; step: number; value: number }[] {
  const [head, ...rows] = readFileSync(join(run.dir, 'logs/csv/version_1/metrics.csv'), 'utf8').trim().split(/\r?\n/).map((l) => l.split(','));
  const [e, s, v] = ['epoch', 'step', 'val_loss'].map((n) => head!.indexOf(n));
  return rows.filter((r) => (r[v!] ?? '') !== '').map((r) => ({ epoch: Number(r[e!]), step: Number(r[s!]) + 1, value: Number(r[v!]) }));
}

/** Lightning's own fit-0 operations of run 022, moved from ckpts/ to where dirpath=None puts them */
function fit0Ops(): string[] {
  const ops = JSON.parse(readFileSync(join(run.dir, 'ops.json'), 'utf8')) as { fit: number; op: string; path: string }[];
  return ops.filter((o) => o.fit === 0 && (o.op === 'save' || o.op === 'remove')).map((o) => `${o.op} ${o.path.replace(/^ckpts\//, `${v0}/`)}`);
}

for (const kind of ['csv', 'tb'] as const) {
  test(`${kind}: the second fit writes into version_1/checkpoints, reloads only best_model_path, and leaves version_0's files`, async () => {
    const logs = kind === 'csv' ? run.csvLogs : run.tbLogs;
    const r = await simulate({ policies: [{ name: 'p', config }], logs, run: runFactsOf(run, true), cwd: run.dir, loggerDir: run.loggerDir });
    const p = r.policies[0]!;
    const ops = [...p.saves.map((s) => ({ seq: s.seq, fit: s.fit, t: `save ${s.path}` })), ...p.removals.map((x) => ({ seq: x.seq, fit: x.fit, t: `remove ${x.path}` }))].sort((a, b) => a.seq - b.seq);
    assert.deepEqual(ops.filter((o) => o.fit === 0).map((o) => o.t), fit0Ops());
    const fit1 = ops.filter((o) => o.fit === 1);
    assert.ok(fit1.length > 0);
    for (const o of fit1) assert.ok(o.t.startsWith(`save ${v1}/`) || o.t.startsWith(`remove ${v1}/`), o.t);
    assert.ok(
      p.warnings.some((w) => w.includes(`The dirpath has changed from '${join(run.dir, v0)}' to '${join(run.dir, v1)}'`) || w.includes(`The dirpath has changed from '${v0}' to '${v1}'`)),
      p.warnings.join('\n'),
    );
    // the top-k of fit 1 started empty: its two best validations, whatever fit 0 had
    const best2 = fit1Validations().sort((a, b) => a.value - b.value).slice(0, 2).sort((a, b) => a.step - b.step);
    const keptV1 = p.kept.filter((k) => k.path.startsWith(`${v1}/`)).map((k) => k.path);
    assert.deepEqual(keptV1, [...best2.map((b) => `${v1}/epoch=${b.epoch}-step=${b.step}.ckpt`), `${v1}/last.ckpt`]);
    // version_0 holds what fit 0 left (run 022's own end state of fit 0)
    const left = Object.keys(run.json.fits[0]!.callback_state_at_end.best_k_models).map((k) => k.replace(/^ckpts\//, `${v0}/`));
    assert.deepEqual(p.kept.filter((k) => k.path.startsWith(`${v0}/`)).map((k) => k.path), [...left.sort(), `${v0}/last.ckpt`]);
  });
}

test('fitLoggerDir: the same folder keeps the first logger; a sibling version moves the given logger to that version', () => {
  assert.equal(fitLoggerDir('/r/logs/csv/version_0', '/r/logs/tb/version_0', '/r/logs/tb/version_0'), '/r/logs/csv/version_0');
  assert.equal(fitLoggerDir('/r/logs/csv/version_0', '/r/logs/tb/version_0', '/r/logs/tb/version_1'), '/r/logs/csv/version_1');
  assert.equal(fitLoggerDir('/r/lightning_logs/version_3', '/r/lightning_logs/version_3', '/r/lightning_logs/version_4'), '/r/lightning_logs/version_4');
  assert.equal(fitLoggerDir('/r/a/version_0', '/r/a/version_0', '/elsewhere/run2'), '/elsewhere/run2');
});
