/**
 * trainer_state.json as a log: the tolerant reader (bare NaN/Infinity, positions in errors) and the
 * simulation of a Trainer policy on it, checked on the real files in ../shared/data/hf-trainer-state
 * (read in place; the tests that need them skip with a message when they are absent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrainingArguments } from '../src/dialects/transformers/args.ts';
import { parseTrainerState, TrainerStateError } from '../src/dialects/transformers/trainerState.ts';
import { readTrainerStateFile } from '../src/dialects/transformers/readTrainerStateFile.ts';
import { argsFromTrainerState } from '../src/dialects/transformers/runArgs.ts';
import { simulateTrainerState } from '../src/dialects/transformers/simulate.ts';
import { root } from './helpers/cli.ts';

const DATA = join(root, '..', 'shared', 'data', 'hf-trainer-state');
const have = existsSync(join(DATA, 'MANIFEST.md'));
const skip = have ? false : `the real trainer_state.json files are not at ${DATA}`;

const errorOf = (text: string): string => {
  try {
    parseTrainerState(text, 'ts.json');
  } catch (e) {
    assert.ok(e instanceof TrainerStateError, String(e));
    return e.message;
  }
  assert.fail('no error');
};

test('bare NaN, Infinity and -Infinity are read as numbers; a string "NaN" stays a string', () => {
  const s = parseTrainerState('{"global_step": 3, "best_metric": NaN, "best_model_checkpoint": "NaN", "log_history": [\n {"loss": Infinity, "grad_norm": -Infinity, "step": 1, "epoch": 0.5},\n {"eval_loss": NaN, "step": 2}]}', 'x');
  assert.ok(Number.isNaN(s.bestMetric));
  assert.equal(s.bestModelCheckpoint, 'NaN');
  assert.deepEqual(s.logHistory[0], { kind: 'train', step: 1, epoch: 0.5, loss: Infinity, values: { loss: Infinity, grad_norm: -Infinity } });
  assert.equal(s.logHistory[1]!.kind, 'eval');
});

test('bad input: the file, line and column, and what is wrong', () => {
  assert.equal(errorOf('{"global_step": 1,\n  "log_history": [nan]}'), 'ts.json:2:19: expected a value (a number, string, object, array, true, false, null, NaN or Infinity), found "nan]}"');
  assert.equal(errorOf('{"global_step": 1,\n "log_history": [{"step": "7"}]}'), 'ts.json:2:19: log_history[0].step: a whole number, at least 0, found "7"');
  assert.equal(errorOf('{"global_step": 1.5, "log_history": []}'), 'ts.json:1:2: global_step: a whole number, found 1.5');
  assert.equal(errorOf('{"log_history": []}'), 'ts.json: global_step: missing: this is not a trainer_state.json (TrainerState always has global_step)');
  assert.equal(errorOf('{"global_step": 1, "log_history": [1, 2'), "ts.json:1:40: expected ',' or ']' in an array, found the end of the text");
  assert.equal(errorOf('{"global_step": 1, "global_step": 2}'), 'ts.json:1:20: the key "global_step" appears twice in this object');
  assert.equal(errorOf('{"a": "x\ty"}'), 'ts.json:1:9: a control character inside a string (write it as an escape, e.g. \\n)');
  // deep nesting is refused, not a stack overflow
  assert.match(errorOf('['.repeat(100_000)), /nested more than 512 levels deep/);
  assert.match(errorOf('"never closed'), /ts\.json:1:1: this string is never closed/);
});

test('a missing file and a folder are clear errors', () => {
  assert.throws(() => readTrainerStateFile('/nonexistent/trainer_state.json'), { message: '/nonexistent/trainer_state.json: no such file' });
  assert.throws(() => readTrainerStateFile(root), { message: `${root}: is a folder, not a trainer_state.json file` });
});

test('every real trainer_state.json reads, with the counts MANIFEST.md gives', { skip }, () => {
  // file: [train, eval, summary] entries, from MANIFEST.md's overview table
  const counts: Record<string, [number, number, number]> = {
    '01-mistral-translator.json': [850, 0, 0], '03-whisper-tiny-nbailab.json': [2000, 100, 1], '04-bert-project2-crlf.json': [24, 24, 0],
    '07-chatglm-edwin.json': [1000, 20, 0], '12-llama3-8b-mob.json': [3750, 0, 0], '17-medimind-infinity.json': [230, 23, 0],
    '18-em-phase-nan.json': [2115, 4, 0], '19-wikipediallm-nan-eval.json': [87, 7, 0],
  };
  for (const [f, [tr, ev, su]] of Object.entries(counts)) {
    const s = readTrainerStateFile(join(DATA, f));
    const n = (k: string) => s.logHistory.filter((e) => e.kind === k).length;
    assert.deepEqual([n('train'), n('eval'), n('summary')], [tr, ev, su], f);
  }
  const inf = readTrainerStateFile(join(DATA, '17-medimind-infinity.json'));
  assert.equal(inf.logHistory.find((e) => e.step === 10 && e.kind === 'train')!.kind === 'train' && (inf.logHistory.find((e) => e.step === 10)! as { values: Record<string, number> }).values['grad_norm'], Infinity);
  const nan = readTrainerStateFile(join(DATA, '19-wikipediallm-nan-eval.json'));
  assert.ok(nan.logHistory.filter((e) => e.kind === 'eval').every((e) => e.kind === 'eval' && Number.isNaN(e.metrics['eval_loss'])));
  const old = readTrainerStateFile(join(DATA, '14-boostcamp-datacentric.json'));
  assert.deepEqual([old.saveSteps, old.evalSteps, old.bestGlobalStep, old.maxSteps, old.bestModelCheckpoint], [null, null, null, 4872, '../output/checkpoint-4700']);
  const crlf = readTrainerStateFile(join(DATA, '04-bert-project2-crlf.json'));
  assert.deepEqual([crlf.globalStep, crlf.evalSteps, crlf.saveSteps, crlf.loggingSteps, crlf.trainBatchSize], [2400, 100, 500, 100, 16]);
});

const steps = (...n: number[]) => n.map((x) => `checkpoint-${x}`);
const range = (from: number, to: number, by: number) => Array.from({ length: Math.floor((to - from) / by) + 1 }, (_, i) => from + i * by);

/**
 * Each real run: the arguments it is simulated with (derived from its trainer_state.json, plus what
 * MANIFEST.md quotes from its training script) and the checkpoint-* folders it kept, or why the kept
 * folders cannot be predicted.
 */
const RUNS: Array<{ file: string; args: Record<string, unknown>; kept: string[] } | { file: string; cannot: string }> = [
  { file: '01-mistral-translator.json', args: {}, kept: steps(...range(500, 8500, 500)) },
  { file: '02-whisper-large-v2-ja.json', cannot: 'only the Hub copy last-checkpoint/ was committed, no checkpoint-* folder' },
  { file: '03-whisper-tiny-nbailab.json', cannot: 'no checkpoint folder was committed' },
  { file: '04-bert-project2-crlf.json', args: {}, kept: steps(500, 1000, 1500, 2000, 2400) },
  { file: '05-gemma3-1b-instruct.json', args: {}, kept: steps(...range(200, 3600, 200), 3765) },
  { file: '06-pegasus-samsum.json', cannot: 'save_total_limit is not recorded and no script is quoted (kept {3000, 3682} = best + last fits save_total_limit=2; checked below)' },
  { file: '07-chatglm-edwin.json', cannot: 'save_total_limit is not recorded (only checkpoint-10000 was committed)' },
  { file: '08-iplm-rl-dpo.json', cannot: 'save_total_limit is not recorded (only checkpoint-4000 was committed)' },
  { file: '09-serverlog-sft.json', cannot: 'the author chose which folders to commit (2000, 4000, 6000 fit no save_steps=500 rotation)' },
  // the notebook: logging_steps=10, eval steps, load_best_model_at_end=True, save_steps default
  { file: '10-optiver-sentiment.json', args: { load_best_model_at_end: true }, kept: steps(500, 1000, 1500, 2000, 2500) },
  { file: '11-llms-finetuning-long.json', args: {}, kept: steps(...range(500, 25000, 500)) },
  { file: '12-llama3-8b-mob.json', cannot: 'the output_dir is shared by at least 11 runs' },
  // scripts/training.py: epoch eval and save, save_total_limit=3, load_best_model_at_end=True
  { file: '13-recipe-generator.json', args: { eval_strategy: 'epoch', save_strategy: 'epoch', save_total_limit: 3, load_best_model_at_end: true }, kept: steps(434, 868, 1302) },
  // the notebook: save_total_limit=2, load_best, eval_f1 maximised; the log shows eval and save every 100
  { file: '14-boostcamp-datacentric.json', args: { save_total_limit: 2, load_best_model_at_end: true, metric_for_best_model: 'eval_f1', greater_is_better: true, eval_steps: 100, save_steps: 100 }, kept: steps(4700, 4800) },
  { file: '15-dyt-nonorm.json', cannot: 'the output_dir holds checkpoint-3000 of another run, and checkpoint-14000 (the best) was not committed' },
  { file: '16-mugc-epoch-eval.json', cannot: 'checkpoint-8832 is from another run and none of the 143 save_steps checkpoints were committed' },
  // Fine_tuning.ipynb: eval every 100 steps, save_steps default, load_best_model_at_end=True, accuracy
  { file: '17-medimind-infinity.json', args: { load_best_model_at_end: true, metric_for_best_model: 'accuracy' }, kept: steps(500, 1000, 1500, 2000, 2300) },
  { file: '18-em-phase-nan.json', args: {}, kept: steps(500, 1000, 1500, 2000, 2115) },
  { file: '19-wikipediallm-nan-eval.json', cannot: 'results/ holds folders of at least 6 runs' },
  { file: '20-telelogs-grpo.json', cannot: 'save_total_limit is not recorded (only checkpoint-200 was committed)' },
];

for (const run of RUNS) {
  const name = 'cannot' in run ? `${run.file}: the kept folders cannot be predicted: ${run.cannot}` : `${run.file}: simulating the run's own arguments predicts the folders it kept`;
  test(name, { skip }, () => {
    const log = readTrainerStateFile(join(DATA, run.file));
    if ('cannot' in run) {
      assert.ok(MANIFEST_HAS(run.file));
      return;
    }
    const a = argsFromTrainerState(log, { output_dir: 'out', ...run.args });
    assert.ok(a.ok, JSON.stringify(!a.ok && a.issues));
    const sim = simulateTrainerState(log, a.args);
    assert.equal(sim.error, null);
    assert.deepEqual(sim.kept, run.kept);
  });
}

function MANIFEST_HAS(file: string): boolean {
  return existsSync(join(DATA, file));
}

test('15-dyt-nonorm: transformers #39560 on a real run: the best eval (14500) is no save step, best_model_checkpoint stays at 14000', { skip }, () => {
  const log = readTrainerStateFile(join(DATA, '15-dyt-nonorm.json'));
  const a = argsFromTrainerState(log, { output_dir: './results', save_total_limit: 2, load_best_model_at_end: true, metric_for_best_model: 'eval_loss' });
  assert.ok(a.ok);
  const sim = simulateTrainerState(log, a.args);
  // the file's own best fields, reproduced: best_global_step 14500, best_model_checkpoint checkpoint-14000
  assert.deepEqual([sim.best?.step, sim.best?.value, sim.best?.checkpoint], [log.bestGlobalStep, log.bestMetric, 'checkpoint-14000']);
  assert.equal(log.bestModelCheckpoint, './results/checkpoint-14000');
  assert.equal(sim.best?.bestStepSaved, false);
  assert.deepEqual(sim.kept, steps(14000, 18991));
  // the opt-in fix saves checkpoint-14500 when it becomes the best, and keeps it
  const fixed = simulateTrainerState(log, a.args, { saveNewBest: true });
  assert.deepEqual([fixed.best?.checkpoint, fixed.best?.survives, fixed.best?.bestStepSaved], ['checkpoint-14500', true, true]);
  assert.deepEqual(fixed.kept, steps(14500, 18991));
});

test('06-pegasus-samsum: would save_total_limit=2 have kept my best checkpoint? yes: {best 3000, last 3682}', { skip }, () => {
  const log = readTrainerStateFile(join(DATA, '06-pegasus-samsum.json'));
  const a = argsFromTrainerState(log, { output_dir: 'out', save_total_limit: 2 });
  assert.ok(a.ok);
  assert.equal(a.args.metric_for_best_model, 'eval_rougeLsum');
  const sim = simulateTrainerState(log, a.args);
  assert.deepEqual(sim.kept, steps(3000, 3682));
  assert.deepEqual(sim.removed.map((r) => r.folder), steps(1000, 2000));
  assert.deepEqual([sim.best?.checkpoint, sim.best?.survives], ['checkpoint-3000', true]);
  // without a metric the best is not protected: save_total_limit=1 keeps the last only
  const plain = simulateTrainerState(log, parseTrainingArguments({ output_dir: 'out', save_steps: 1000, save_total_limit: 1 }));
  assert.deepEqual(plain.kept, steps(3682));
  assert.equal(plain.best, null);
});

test('what the log cannot tell is listed, never guessed', { skip }, () => {
  // a checkpoint's copy ends before max_steps; the epoch-end evaluation after the last save is not in it
  const log = readTrainerStateFile(join(DATA, '16-mugc-epoch-eval.json'));
  const sim = simulateTrainerState(log, parseTrainingArguments({ output_dir: 'o', eval_strategy: 'epoch', save_strategy: 'epoch', metric_for_best_model: 'loss', save_total_limit: 1 }));
  assert.deepEqual(sim.undetermined, ['the policy evaluates at step 71792, where the log has no evaluation: eval_loss there is unknown (taken as no new best), so the best may differ']);
  const short = readTrainerStateFile(join(DATA, '20-telelogs-grpo.json'));
  const s2 = simulateTrainerState(short, parseTrainingArguments({ output_dir: 'o', save_steps: 10, save_total_limit: 1 }));
  assert.deepEqual(s2.kept, steps(200));
  assert.equal(s2.loop.ended, false);
  assert.match(s2.undetermined.join('\n'), /the log ends at step 200 of 350/);
  assert.match(s2.assumptions.join('\n'), /mtime is the time of its save/);
});
