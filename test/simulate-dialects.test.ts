/**
 * `ckpt simulate` and `ckpt compare` with Keras, Orbax and Trainer policies: each read from the logs
 * its dialect reads (real logs from ../shared/data where present, small fixtures otherwise), with
 * the figures checked against the dialect's own simulation functions and the logs' MANIFESTs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ckpt, root, STACK } from './helpers/cli.ts';
import { readKerasLog } from '../src/dialects/keras/logs.ts';
import { simulateKerasLog } from '../src/dialects/keras/simulate.ts';
import { simulateOrbaxSteps } from '../src/dialects/orbax/simulate.ts';
import { readOrbaxStepsJsonl } from '../src/dialects/orbax/stepLogs.ts';
import { fileVersionEvent, scalarEvent } from '../src/sources/tfevents.ts';
import { frameRecord } from '../src/sources/tfrecord.ts';

const DATA = join(root, '..', 'shared', 'data');
const FIX = join(root, 'test', 'fixtures', 'dialect-logs');
const shared = (sub: string) => (existsSync(join(DATA, sub, 'MANIFEST.md')) || existsSync(join(DATA, sub)) ? false : `../shared/data/${sub} is not here (the real logs are not copied into the project)`);

const tmp = () => mkdtempSync(join(tmpdir(), 'ckpt-dsim-'));
const policy = (dir: string, name: string, text: string) => {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, text);
  return p;
};

interface JsonPolicy {
  name: string;
  dialect: string;
  saves: { epoch: number; step: number; path: string; reason: string }[];
  removals: { step: number; path: string }[];
  kept: { path: string; epoch: number; step: number }[];
  regret: number | null;
  checkpointsWritten: number;
  peakCheckpoints: number;
  undetermined: unknown[];
  errors: { errorType: string }[];
  mapping?: string[];
}
const json = (stdout: string) => JSON.parse(stdout) as { policies: JsonPolicy[] };

test('a Keras policy on a real CSVLogger log: the files kept and the epochs written are simulateKerasLog\'s, and the MANIFEST\'s', { skip: shared('keras-logs') }, async () => {
  const log = join(DATA, 'keras-logs', '01-tomato-leaf-cnn.csv');
  const dir = tmp();
  const options = { filepath: 'model.h5', monitor: 'val_loss', save_best_only: true };
  const r = ckpt(['simulate', '--format', 'json', '--policy', policy(dir, 'keras', `dialect: keras\nfilepath: model.h5\nmonitor: val_loss\nsave_best_only: true\n`), log], dir);
  assert.equal(r.code, 0, r.stderr);
  const p = json(r.stdout).policies[0]!;
  assert.equal(p.dialect, 'keras');
  const sim = simulateKerasLog(options, await readKerasLog(log));
  assert.equal(sim._tag, 'Simulated');
  if (sim._tag !== 'Simulated') return;
  assert.deepEqual(p.kept.map((k) => [k.path, k.epoch]), sim.files.map((f) => [f.filepath, f.epoch]));
  // MANIFEST.md: model.h5 was rewritten at epochs 0, 1, 2, 3, 5, 6, 8, 14 and 18; best val_loss 0.29064 at 18
  assert.deepEqual(p.saves.map((s) => s.epoch), [0, 1, 2, 3, 5, 6, 8, 14, 15, 18]);
  assert.equal(p.checkpointsWritten, 10);
  assert.equal(p.peakCheckpoints, 1);
  assert.equal(p.regret, 0);
});

test('a Keras policy on a real History JSON dump agrees with simulateKerasLog', { skip: shared('keras-logs') }, async () => {
  const log = join(DATA, 'keras-logs', '08-pneumonia-history.json');
  const dir = tmp();
  const r = ckpt(['simulate', '--format', 'json', '--policy', policy(dir, 'k', 'dialect: keras\nfilepath: "ep{epoch:02d}.keras"\nmonitor: val_accuracy\nsave_best_only: true\n'), log], dir);
  assert.equal(r.code, 0, r.stderr);
  const sim = simulateKerasLog({ filepath: 'ep{epoch:02d}.keras', monitor: 'val_accuracy', save_best_only: true }, await readKerasLog(log));
  assert.ok(sim._tag === 'Simulated');
  const p = json(r.stdout).policies[0]!;
  assert.deepEqual(p.kept.map((k) => k.path), sim.files.map((f) => f.filepath));
  assert.deepEqual(p.saves.map((s) => s.epoch), sim.epochs.filter((e) => e.action._tag !== 'NotSaved').map((e) => e.epoch));
  // MANIFEST.md: the checkpoint is rewritten 7 of 10 epochs
  assert.equal(p.saves.length, 7);
});

/** A Keras TensorBoard log_dir with the values of training.csv: train/ epoch_loss, validation/ epoch_loss, batch scalars too. */
function kerasTensorBoard(dir: string): string {
  const rows = [
    [0.9, 0.8],
    [0.7, 0.6],
    [0.6, 0.65],
    [0.5, 0.55],
    [0.45, 0.58],
  ];
  const logDir = join(dir, 'logs');
  for (const sub of ['train', 'validation']) mkdirSync(join(logDir, sub), { recursive: true });
  const train = [fileVersionEvent(1), ...rows.flatMap(([loss], e) => [scalarEvent('batch_loss', loss! + 0.01, e * 10 + 5, 1, 'tensor'), scalarEvent('epoch_loss', loss!, e, 1, 'tensor')])];
  const val = [fileVersionEvent(1), ...rows.flatMap(([, vl], e) => [scalarEvent('epoch_loss', vl!, e, 1, 'tensor'), scalarEvent('evaluation_loss_vs_iterations', vl!, (e + 1) * 10, 1, 'tensor')])];
  writeFileSync(join(logDir, 'train', 'events.out.tfevents.1.host.1.v2'), Buffer.concat(train.map(frameRecord)));
  writeFileSync(join(logDir, 'validation', 'events.out.tfevents.1.host.1.v2'), Buffer.concat(val.map(frameRecord)));
  return logDir;
}

test('a Keras policy on Keras-written TensorBoard files decides as on the CSVLogger log of the same epochs', async () => {
  const dir = tmp();
  const logDir = kerasTensorBoard(dir);
  const p = policy(dir, 'k', 'dialect: keras\nfilepath: "m-{epoch}.keras"\nmonitor: val_loss\nsave_best_only: true\n');
  const tb = ckpt(['simulate', '--format', 'json', '--policy', p, logDir], dir);
  // under CSVLogger's documented name, training.log: told from its header, not its extension
  const named = join(dir, 'training.log');
  writeFileSync(named, readFileSync(join(FIX, 'training.csv')));
  const csv = ckpt(['simulate', '--format', 'json', '--policy', p, named], dir);
  assert.equal(tb.code, 0, tb.stderr);
  assert.equal(csv.code, 0, csv.stderr);
  const [a, b] = [json(tb.stdout).policies[0]!, json(csv.stdout).policies[0]!];
  // float32 in the event files: the same epochs improve, the same files are written
  assert.deepEqual(a.kept.map((k) => k.path), ['m-1.keras', 'm-2.keras', 'm-4.keras']);
  assert.deepEqual(a.kept.map((k) => k.path), b.kept.map((k) => k.path));
  assert.ok(a.mapping!.some((m) => /left out: 5 batch_\* scalars, 5 evaluation_\*_vs_iterations scalars/.test(m)), a.mapping!.join('\n'));
});

test('an Orbax policy on a JSONL step log keeps what simulateOrbaxSteps keeps', async () => {
  const dir = tmp();
  const log = join(FIX, 'steps.jsonl');
  const options = { max_to_keep: 2, best_fn: { metric: 'val_loss' }, best_mode: 'min' };
  const r = ckpt(['simulate', '--format', 'json', '--policy', policy(dir, 'o', 'dialect: orbax\nmax_to_keep: 2\nbest_fn: {metric: val_loss}\nbest_mode: min\n'), log], dir);
  assert.equal(r.code, 0, r.stderr);
  const p = json(r.stdout).policies[0]!;
  const sim = simulateOrbaxSteps(options, await readOrbaxStepsJsonl(log));
  assert.deepEqual(p.kept.map((k) => k.step), sim.kept);
  assert.deepEqual(sim.kept, [400, 600]); // the two lowest val_loss: 0.55 and 0.52
  // in the order the manager removed them (300 goes before 200: BestN ranks by val_loss)
  assert.deepEqual(p.removals.map((x) => Number(x.path)), sim.events.flatMap((e) => e.removed));
  assert.deepEqual([...sim.deleted].sort(), [100, 200, 300, 500]);
  assert.equal(p.checkpointsWritten, 6);
  assert.equal(p.peakCheckpoints, 3);
});

test('a Trainer policy on real trainer_state.json files predicts the checkpoint folders the runs kept (MANIFEST.md)', { skip: shared('hf-trainer-state') }, () => {
  const dir = tmp();
  const cases: [string, string, string[]][] = [
    ['13-recipe-generator.json', 'eval_strategy: epoch\nsave_strategy: epoch\nsave_total_limit: 3\nload_best_model_at_end: true\n', ['checkpoint-434', 'checkpoint-868', 'checkpoint-1302']],
    ['04-bert-project2-crlf.json', '', ['checkpoint-500', 'checkpoint-1000', 'checkpoint-1500', 'checkpoint-2000', 'checkpoint-2400']],
  ];
  for (const [file, args, kept] of cases) {
    const r = ckpt(['simulate', '--format', 'json', '--policy', policy(dir, 't', `dialect: transformers\noutput_dir: out\n${args}`), join(DATA, 'hf-trainer-state', file)], dir);
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    const p = json(r.stdout).policies[0]!;
    assert.deepEqual(p.kept.map((k) => k.path), kept, file);
    assert.equal(p.dialect, 'transformers');
  }
});

test('cross-dialect compare on a real Lightning metrics.csv: one table, one report; Orbax best-2 keeps the steps of Lightning top-2', { skip: shared('lightning-csv') }, () => {
  const dir = tmp();
  const log = join(DATA, 'lightning-csv', '22-birdclef-24.csv');
  const ps = [
    policy(dir, 'lightning', 'monitor: val_score\nmode: max\nsave_top_k: 2\n'),
    policy(dir, 'keras', 'dialect: keras\nfilepath: "best-{epoch:02d}.keras"\nmonitor: val_score\nmode: max\nsave_best_only: true\n'),
    policy(dir, 'orbax', 'dialect: orbax\nmax_to_keep: 2\nbest_fn: {metric: val_score}\nbest_mode: max\n'),
    policy(dir, 'trainer', 'dialect: transformers\neval_strategy: epoch\nsave_strategy: epoch\nsave_total_limit: 2\nmetric_for_best_model: score\ngreater_is_better: true\n'),
  ];
  const r = ckpt(['compare', '--format', 'json', ...ps, log], dir);
  assert.equal(r.code, 0, r.stderr);
  const [l, k, o, t] = json(r.stdout).policies;
  // one header entry per way the log was read, naming the policies that read it so
  const fits = (JSON.parse(r.stdout) as { fits: { kind: string; readBy?: string[] }[] }).fits;
  assert.deepEqual(fits.map((f) => f.readBy ?? null), [null, ['keras'], ['orbax'], ['trainer']]);
  assert.deepEqual(fits.map((f) => f.kind), ['csv', 'Lightning metrics.csv as Keras epochs', 'Lightning metrics.csv as Orbax steps', "Lightning metrics.csv as a Trainer's evaluations"]);
  assert.deepEqual([l, k, o, t].map((p) => p!.dialect), ['lightning', 'keras', 'orbax', 'transformers']);
  const stepOf = (path: string) => Number(/step=(\d+)/.exec(path)![1]);
  assert.deepEqual(o!.kept.map((x) => x.step), l!.kept.map((x) => stepOf(x.path)));
  // the CSV: 15 epochs of 172 steps, two validations each; Keras sees one value per epoch (the last)
  const csv = readFileSync(log, 'utf8').trim().split(/\r?\n/);
  const head = csv[0]!.split(',');
  const vi = head.indexOf('val_score');
  const ei = head.indexOf('epoch');
  const lastPerEpoch = new Map<string, number>();
  for (const row of csv.slice(1)) {
    const c = row.split(',');
    if (c[vi] !== '') lastPerEpoch.set(c[ei]!, Number(c[vi]));
  }
  let best = -Infinity;
  const improved: number[] = [];
  for (const [e, v] of lastPerEpoch) if (Math.fround(v) > Math.fround(best)) (best = v), improved.push(Number(e));
  assert.deepEqual(k!.saves.map((s) => s.epoch), improved);
  // the Trainer evaluates at epoch ends (steps 172, 344, ...), saves each, and rotates to the newest 2
  assert.deepEqual(t!.saves.map((s) => s.step), Array.from({ length: 15 }, (_, i) => (i + 1) * 172));
  assert.deepEqual(t!.kept.map((x) => x.path).length, 2);
  const html = join(dir, 'r.html');
  const h = ckpt(['compare', '--html', html, ...ps, log], dir);
  assert.equal(h.code, 0, h.stderr);
  const page = readFileSync(html, 'utf8');
  for (const name of ['lightning', 'keras (Keras)', 'orbax (Orbax)', 'trainer (transformers)']) assert.ok(page.includes(`<h3>${name}</h3>`), name);
  assert.match(h.stdout, /keras \(Keras\).*orbax \(Orbax\).*trainer \(transformers\)/);
});

test('the HTML report shows a Lightning policy\'s notes: one top-k rejection per validation that saved nothing', { skip: shared('lightning-csv') }, () => {
  const dir = tmp();
  const log = join(DATA, 'lightning-csv', '22-birdclef-24.csv');
  const html = join(dir, 'r.html');
  const r = ckpt(['simulate', '--format', 'json', '--html', html, '--policy', '{monitor: val_score, mode: max, save_top_k: 2}', log], dir);
  assert.equal(r.code, 0, r.stderr);
  const saves = json(r.stdout).policies[0]!.saves.length;
  const validations = readFileSync(log, 'utf8').trim().split(/\r?\n/).slice(1).filter((row) => row.split(',')[3] !== '').length;
  const page = readFileSync(html, 'utf8');
  const m = /<td><code>rejected<\/code><\/td><td>(\d+)<\/td>/.exec(page);
  assert.ok(m, 'a rejected count');
  assert.equal(Number(m![1]), validations - saves);
  assert.match(page, /Top-k rejections nearest to being kept/);
});

test('a log the dialect cannot read: a clear error naming the dialect and the kinds it reads', async () => {
  const dir = tmp();
  const k = ckpt(['simulate', '--policy', policy(dir, 'k', 'dialect: keras\nfilepath: m.keras\n'), join(FIX, 'steps.jsonl')], dir);
  assert.equal(k.code, 1);
  assert.match(k.stderr, /k \(dialect: keras\): .*steps\.jsonl is a JSONL step log, which Keras policies cannot be replayed on; the keras dialect reads Keras CSVLogger CSV, Keras History JSON/);
  assert.doesNotMatch(k.stderr, STACK);
  const l = ckpt(['compare', '{monitor: val_loss}', policy(dir, 'o', 'dialect: orbax\nmax_to_keep: 1\n'), join(FIX, 'training.csv')], dir);
  assert.equal(l.code, 1);
  assert.match(l.stderr, /\(dialect: lightning\): .*training\.csv is a Keras CSVLogger CSV, which Lightning policies cannot be replayed on/);
  const t = ckpt(['simulate', '--policy', policy(dir, 't', 'dialect: transformers\n'), join(FIX, 'training.csv')], dir);
  assert.equal(t.code, 1);
  assert.match(t.stderr, /the transformers dialect reads trainer_state\.json/);
});

test('a Keras policy whose filepath names a key the logs lack: Keras raises, the report says so, exit code 3', () => {
  const dir = tmp();
  const r = ckpt(['simulate', '--policy', policy(dir, 'k', 'dialect: keras\nfilepath: "m-{val_f1:.2f}.keras"\n'), join(FIX, 'training.csv')], dir);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /error: Keras would raise KeyError at epoch 0/);
  assert.match(r.stderr, /k: Keras would raise KeyError \(exit code 3\)/);
});

test('--trainer gives a Trainer policy the run\'s TrainingArguments; the policy\'s own keys win; Keras and Orbax refuse it', { skip: shared('hf-trainer-state') }, () => {
  const dir = tmp();
  const args = join(dir, 'training_args.yaml');
  writeFileSync(args, 'output_dir: out\neval_strategy: epoch\nsave_strategy: epoch\nsave_total_limit: 3\nload_best_model_at_end: true\n');
  const log = join(DATA, 'hf-trainer-state', '13-recipe-generator.json');
  const bare = ckpt(['simulate', '--format', 'json', '--trainer', args, '--policy', policy(dir, 't', 'dialect: transformers\n'), log], dir);
  assert.equal(bare.code, 0, bare.stderr);
  assert.deepEqual(json(bare.stdout).policies[0]!.kept.map((k) => k.path), ['checkpoint-434', 'checkpoint-868', 'checkpoint-1302']);
  const two = ckpt(['simulate', '--format', 'json', '--trainer', args, '--policy', policy(dir, 't2', 'dialect: transformers\nsave_total_limit: 2\n'), log], dir);
  assert.equal(two.code, 0, two.stderr);
  assert.equal(json(two.stdout).policies[0]!.kept.length, 2);
  const k = ckpt(['simulate', '--trainer', args, '--policy', policy(dir, 'k', 'dialect: keras\nfilepath: m.keras\n'), join(FIX, 'training.csv')], dir);
  assert.equal(k.code, 1);
  assert.match(k.stderr, /--trainer: Keras and Orbax policies read no loop facts from it/);
});

test('an Orbax policy on a real Lightning TensorBoard file: save at each validation, the best two kept', { skip: shared('tfevents') }, async () => {
  const { openLog, readRecords } = await import('../src/sources/open.ts');
  const file = join(DATA, 'tfevents', '02-tft-network', 'events.out.tfevents.1695806444.fb3a92d89a9b.2865.0');
  const dir = tmp();
  const r = ckpt(['simulate', '--format', 'json', '--policy', policy(dir, 'o', 'dialect: orbax\nmax_to_keep: 2\nbest_fn: {metric: val_loss}\nbest_mode: min\n'), file], dir);
  assert.equal(r.code, 0, r.stderr);
  const vals: { step: number; v: number }[] = [];
  for await (const batch of readRecords(openLog(file)[0]!)) for (const rec of batch) if (rec.metrics.has('val_loss')) vals.push({ step: rec.step + 1, v: rec.metrics.get('val_loss')! });
  const best2 = [...vals].sort((a, b) => a.v - b.v).slice(0, 2).map((x) => x.step).sort((a, b) => a - b);
  const p = json(r.stdout).policies[0]!;
  assert.equal(p.checkpointsWritten, vals.length);
  assert.deepEqual(p.kept.map((k) => k.step), best2);
});
