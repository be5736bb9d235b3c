/**
 * From logged rows back to Lightning's hooks. Expected event lists are written out by hand from the
 * rules in the lightning-runs README (a row at step s belongs to global step s + 1; validation row,
 * then `*_epoch` aggregates, then the train epoch end; metrics keep their last value).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { readCsvLog } from '../src/sources/csv.ts';
import { runFactsFrom, parseTrainerText, fitFacts, type RunFacts } from '../src/sources/loopFacts.ts';
import { LoopReconstructor, type TimelineItem } from '../src/sources/reconstruct.ts';
import { metricRoles } from '../src/sources/roles.ts';

const fixtures = fileURLToPath(new URL('./fixtures/logs/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-recon-'));

function facts(input: Record<string, unknown> = {}): RunFacts {
  const r = runFactsFrom(input, null);
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  return r.right;
}

async function timeline(path: string, run: RunFacts, opts: { stepTriggers?: number[]; watch?: string[] } = {}) {
  const rec = new LoopReconstructor({ facts: fitFacts(run, 0), given: run.given, role: metricRoles(), stepTriggers: opts.stepTriggers ?? [], watch: opts.watch ?? [] });
  const items: TimelineItem[] = [];
  for await (const b of readCsvLog(path)) items.push(...rec.push(b));
  items.push(...rec.end());
  return { items, rec };
}

/** `type epoch/globalStep`, with the named metrics and unknown ones (`?name`). */
function brief(items: TimelineItem[], metrics: string[] = []): string[] {
  const out: string[] = [];
  for (const it of items) {
    if (it.kind !== 'event') continue;
    const e = it.event;
    if (!('view' in e) || !e.view) continue;
    let s = `${e.type} ${e.view.epoch}/${e.view.globalStep}`;
    if (e.type === 'trainBatchEnded' && e.view.isLastBatch) s += ' last';
    for (const m of metrics) if (e.view.metrics && m in e.view.metrics) s += ` ${m}=${Number(e.view.metrics[m]!.toPrecision(3))}`;
    for (const u of it.unknown) s += ` ?${u.name}@${u.loggedAt}`;
    out.push(s);
  }
  return out;
}

function csv(name: string, lines: string[]): string {
  const p = join(tmp, name);
  writeFileSync(p, lines.join('\r\n') + '\r\n');
  return p;
}

const tiny = join(fixtures, 'tiny-val.csv');

test('once-per-epoch validation: validation end then train epoch end at the row step + 1', async () => {
  const { items } = await timeline(tiny, facts({ num_training_batches: 4, log_every_n_steps: 2 }));
  assert.deepEqual(brief(items, ['val_loss', 'train_loss']), [
    'trainStarted 0/0',
    'validationEnded 0/4 val_loss=0.9 train_loss=1.1',
    'trainEpochEnded 0/4 val_loss=0.9 train_loss=1.1',
    'validationEnded 1/8 val_loss=0.5 train_loss=0.95',
    'trainEpochEnded 1/8 val_loss=0.5 train_loss=0.95',
    'validationEnded 2/12 val_loss=0.7 train_loss=0.85',
    'trainEpochEnded 2/12 val_loss=0.7 train_loss=0.85',
    'validationEnded 3/16 val_loss=0.6 train_loss=0.78',
    'trainEpochEnded 3/16 val_loss=0.6 train_loss=0.78',
    'trainEnded 4/16 val_loss=0.6 train_loss=0.78',
  ]);
});

test('the same log with no loop facts: batches per epoch inferred from where validation ends epochs', async () => {
  const withFacts = await timeline(tiny, facts({ num_training_batches: 4 }));
  const without = await timeline(tiny, facts());
  assert.deepEqual(brief(without.items, ['val_loss']), brief(withFacts.items, ['val_loss']));
  assert.ok(without.rec.resolvedFacts!.inferred.some((x) => x.startsWith('num_training_batches=4')));
});

test('step triggers: batch ends only where every_n_train_steps fires; values of unlogged steps are unknown', async () => {
  const { items } = await timeline(tiny, facts({ num_training_batches: 4, log_every_n_steps: 2 }), { stepTriggers: [3], watch: ['train_loss', 'val_loss'] });
  assert.deepEqual(
    brief(items, ['train_loss']).filter((s) => s.startsWith('trainBatchEnded')),
    [
      // g=3 is batch 3 of epoch 0; its row would be at step 2, which is not a logging step
      'trainBatchEnded 0/3 train_loss=1.2 ?train_loss@2',
      // g=6 was logged (row at step 5); g=9 was not (rows at steps 9 and 11 are g=10 and g=12)
      'trainBatchEnded 1/6 train_loss=1',
      'trainBatchEnded 2/9 train_loss=0.95 ?train_loss@8',
      // g=12 ends epoch 2 and was logged (row at step 11)
      'trainBatchEnded 2/12 last train_loss=0.85',
      'trainBatchEnded 3/15 train_loss=0.8 ?train_loss@14',
    ],
  );
});

test('metrics logged on_step and on_epoch: the bare name is the step value at batch ends and the epoch mean at epoch ends', async () => {
  const p = csv('forked.csv', [
    'epoch,step,train_loss_epoch,train_loss_step,val_loss',
    '0,0,,1.0,',
    '0,1,,0.5,',
    '0,1,,,0.75',
    '0,1,0.8,,',
    '1,2,,0.25,',
    '1,3,,0.125,',
    '1,3,,,0.5',
    '1,3,0.2,,',
  ]);
  const { items } = await timeline(p, facts({ num_training_batches: 2, log_every_n_steps: 1 }), { stepTriggers: [1], watch: ['train_loss'] });
  assert.deepEqual(brief(items, ['train_loss']), [
    'trainStarted 0/0',
    'trainBatchEnded 0/1 train_loss=1',
    'trainBatchEnded 0/2 last train_loss=0.5',
    'validationEnded 0/2 train_loss=0.5',
    'trainEpochEnded 0/2 train_loss=0.8',
    'trainBatchEnded 1/3 train_loss=0.25',
    'trainBatchEnded 1/4 last train_loss=0.125',
    'validationEnded 1/4 train_loss=0.125',
    'trainEpochEnded 1/4 train_loss=0.2',
    'trainEnded 2/4 train_loss=0.2',
  ]);
});

test('validation every second epoch is inferred from the log (check_val_every_n_epoch=2)', async () => {
  const p = csv('cve2.csv', ['epoch,step,train_loss,val_loss', '0,1,1.0,', '1,3,0.9,', '1,3,,0.5', '2,5,0.8,', '3,7,0.7,', '3,7,,0.4']);
  const { items, rec } = await timeline(p, facts({ num_training_batches: 2, log_every_n_steps: 2 }));
  assert.deepEqual(brief(items), ['trainStarted 0/0', 'trainEpochEnded 0/2', 'validationEnded 1/4', 'trainEpochEnded 1/4', 'trainEpochEnded 2/6', 'validationEnded 3/8', 'trainEpochEnded 3/8', 'trainEnded 4/8']);
  assert.equal(rec.resolvedFacts!.checkValEveryNEpoch, 2);
});

test('two validations per epoch are inferred (val_check_interval in batches), and scheduled from then on', async () => {
  const p = csv('half.csv', ['epoch,step,val_loss', '0,1,0.9', '0,3,0.8', '1,5,0.7', '1,7,0.6', '2,9,0.5', '2,11,0.4']);
  const { items, rec } = await timeline(p, facts());
  assert.deepEqual(brief(items), [
    'trainStarted 0/0',
    'validationEnded 0/2',
    'validationEnded 0/4',
    'trainEpochEnded 0/4',
    'validationEnded 1/6',
    'validationEnded 1/8',
    'trainEpochEnded 1/8',
    'validationEnded 2/10',
    'validationEnded 2/12',
    'trainEpochEnded 2/12',
    'trainEnded 3/12',
  ]);
  assert.deepEqual(rec.resolvedFacts!.valCheckInterval, { kind: 'batches', value: 2 });
  assert.equal(rec.resolvedFacts!.numTrainingBatches, 4);
});

test('max_steps ends training in the middle of an epoch: its train epoch end still happens there', async () => {
  const p = csv('maxsteps.csv', ['epoch,step,train_loss,val_loss', '0,3,,0.9', '1,4,0.5,', '1,7,,0.8']);
  const { items, rec } = await timeline(p, facts({ num_training_batches: 4, max_steps: 6 }));
  assert.deepEqual(brief(items), ['trainStarted 0/0', 'validationEnded 0/4', 'trainEpochEnded 0/4', 'trainEpochEnded 1/6', 'trainEnded 2/6']);
  // the last row lies past max_steps: the facts and the log disagree, and it is said
  assert.ok(rec.remarks.some((r) => r.includes('after training ended')), rec.remarks.join('; '));
});

test('exception_at_step: hooks up to that step, then the exception and no end of training', async () => {
  const p = csv('crash.csv', ['epoch,step,val_loss', '0,3,0.9', '1,5,']);
  const { items } = await timeline(p, facts({ num_training_batches: 4, exception_at_step: 6 }), { stepTriggers: [5] });
  assert.deepEqual(brief(items), ['trainStarted 0/0', 'validationEnded 0/4', 'trainEpochEnded 0/4', 'trainBatchEnded 1/5', 'exceptionRaised 1/6']);
});

test('a log that starts mid-run is recognised as resumed from a checkpoint the log does not show', async () => {
  const p = csv('resumed.csv', ['epoch,step,val_loss', '5,119,0.9', '6,139,0.8']);
  const { rec } = await timeline(p, facts({ num_training_batches: 20, log_every_n_steps: 50 }));
  assert.equal(rec.fitStart!.how, 'unknown-resume');
  assert.equal(rec.fitStart!.globalStep, 100);
  const fresh = await timeline(tiny, facts({ num_training_batches: 4 }));
  assert.equal(fresh.rec.fitStart!.how, 'fresh');
});

test('rows carrying step = global step (after an exception-checkpoint resume) are recognised', async () => {
  // validation at the end of each 10-batch epoch sits at step 50, 60 instead of 49, 59
  const p = csv('offset0.csv', ['epoch,step,val_loss', '4,47,', '4,50,0.5', '5,51,', '5,60,0.4']);
  const { items, rec } = await timeline(p, facts({ num_training_batches: 10, log_every_n_steps: 2 }));
  assert.equal(rec.fitStart!.stepOffset, 0);
  assert.deepEqual(brief(items).slice(1, 5), ['validationEnded 4/50', 'trainEpochEnded 4/50', 'validationEnded 5/60', 'trainEpochEnded 5/60']);
});

test('without batches per epoch and without validation, an epoch end is a range the log cannot narrow', async () => {
  const p = csv('norange.csv', ['epoch,step,train_loss', '0,49,1.0', '1,99,0.9', '2,149,0.8']);
  const { items } = await timeline(p, facts());
  const ends = items.filter((i) => i.kind === 'event' && i.event.type === 'trainEpochEnded') as Extract<TimelineItem, { kind: 'event' }>[];
  assert.deepEqual(
    ends.map((e) => [(e.event as { view: { globalStep: number } }).view.globalStep, e.stepRange]),
    [
      [50, [50, 99]],
      [100, [100, 149]],
      // the last epoch: at or after the last row
      [150, [150, Infinity]],
    ],
  );
});

test('trainer facts: Lightning names, 1.0 is a fraction and 1 a batch count, other Trainer keys noted, typos refused', () => {
  const ok = parseTrainerText('max_epochs: 3\nval_check_interval: 1.0\naccelerator: cpu\naccumulate_grad_batches: 2\n', 't.yaml');
  assert.ok(E.isRight(ok));
  const f = ok.right.fits[0]!;
  assert.deepEqual(f.valCheckInterval, { kind: 'fraction', value: 1 });
  assert.equal(f.maxEpochs, 3);
  assert.deepEqual(ok.right.notes, ["trainer key 'accelerator' is not modelled and was ignored", "trainer key 'accumulate_grad_batches' is not modelled and was ignored (global steps then count optimizer steps, not batches; the simulation may differ)"]);
  const batches = parseTrainerText('{"val_check_interval": 1}', 't.json');
  assert.ok(E.isRight(batches));
  assert.deepEqual(batches.right.fits[0]!.valCheckInterval, { kind: 'batches', value: 1 });
  const bad = parseTrainerText('max_epoch: 3\nval_check_interval: 1.5\n', 't.yaml');
  assert.ok(E.isLeft(bad));
  assert.deepEqual(
    bad.left.map((i) => `${i.source}:${i.position?.line}:${i.position?.col}: ${i.field}: ${i.message}`),
    [
      "t.yaml:1:1: max_epoch: unknown key 'max_epoch' (did you mean 'max_epochs'?); expected Lightning Trainer arguments (max_epochs, max_steps, val_check_interval, check_val_every_n_epoch, limit_val_batches, log_every_n_steps, num_training_batches, num_val_batches), ckpt_path, exception_at_step or fits",
      't.yaml:2:1: val_check_interval: a fraction must be at most 1.0, got 1.5 (write an integer for a number of batches)',
    ],
  );
});
