/**
 * Notes: what the reducer decided NOT to do, and the comparisons it made, as data returned by
 * `reduce` beside the effects. Effects say why something was saved, removed or linked; notes cover
 * every rule that was evaluated and produced nothing: a skip, a trigger not due, a deferral, a
 * top-k rejection with the numbers compared, a missing monitor, a last checkpoint not due, a file
 * one rule let go of that another still keeps. The audit, `ckpt explain`, the simulator and the
 * reports read these; nothing re-derives a rule.
 *
 * The types are derived from the codecs (the decision log stores notes as JSON).
 */
import { t } from './deps.cts';
import { JsonNumber as Num, Nullable } from './jsonNumber.ts';
import { tagged } from './tagged.ts';

export const TriggerCodec = t.keyof({
  trainEpochEnd: null,
  validationEnd: null,
  deferredToValidationEnd: null,
  everyNTrainSteps: null,
  trainTimeInterval: null,
  exception: null,
  trainEnd: null,
});

/** Why a hook skipped saving (Lightning's `_should_skip_saving_checkpoint`, first cause that holds). */
export const SkipCauseCodec = t.keyof({ fastDevRun: null, notFitting: null, sanityCheck: null, sameGlobalStep: null });
export type SkipCause = t.TypeOf<typeof SkipCauseCodec>;

/** A trigger that was checked and was not due. */
export const NotDueCodec = tagged('NotDue', 'trigger', {
  /** `n` = 0: every_n_train_steps is not set (and no train_time_interval): batches never trigger */
  everyNTrainSteps: t.type({ trigger: t.literal('everyNTrainSteps'), n: Num, step: Num }),
  /** `elapsed` null: no clock reading yet (or none in the event) */
  trainTimeInterval: t.type({ trigger: t.literal('trainTimeInterval'), interval: Num, elapsed: Nullable(Num) }),
  /** `n` = 0: every_n_epochs is 0 (a step or time trigger is used instead) */
  everyNEpochs: t.type({ trigger: t.literal('everyNEpochs'), n: Num, epoch: Num }),
});
export type NotDue = t.TypeOf<typeof NotDueCodec>;

/** The members of a composed retention policy (src/core/rules/keep/). */
export const KeepMemberCodec = t.keyof({ topK: null, latest: null, everyNSteps: null, everyNSeconds: null, steps: null, last: null });
export type KeepMember = t.TypeOf<typeof KeepMemberCodec>;

const NOTE_MEMBERS = {
  /** a hook where the policy decides nothing (it records facts: setup, restored state, clock, listing) */
  noDecision: t.type({ kind: t.literal('noDecision'), event: t.keyof({ setup: null, stateLoaded: null, trainStarted: null, filesListed: null }) }),
  skipped: t.type({ kind: t.literal('skipped'), cause: SkipCauseCodec, step: Num, lastSavedStep: Num, stateFn: t.string }),
  notDue: t.type({ kind: t.literal('notDue'), checks: t.array(NotDueCodec) }),
  /** this hook is not where the callback acts (save_on_train_epoch_end, given or derived from the loop) */
  otherHook: t.type({ kind: t.literal('otherHook'), actsAt: t.keyof({ trainEpochEnd: null, validationEnd: null }), setting: t.keyof({ given: null, derived: null }) }),
  /** a step/time trigger fired but the save waits for the next validation end */
  deferred: t.type({ kind: t.literal('deferred'), cause: t.keyof({ monitorMissing: null, validationNext: null }), monitor: t.string, trigger: TriggerCodec }),
  topKZero: t.type({ kind: t.literal('topKZero'), trigger: TriggerCodec }),
  /** the monitored key was not in the logged metrics: nothing was compared or saved (Lightning warns) */
  monitorMissing: t.type({ kind: t.literal('monitorMissing'), monitor: t.string, available: t.array(t.string), trigger: TriggerCodec, epoch: Num, step: Num }),
  /** the top-k check failed: `score` did not beat the k-th kept value (ties never displace, unless tie_break='latest') */
  rejected: t.type({
    kind: t.literal('rejected'),
    trigger: TriggerCodec,
    monitor: t.string,
    mode: t.keyof({ min: null, max: null }),
    score: Num,
    k: Num,
    kthValue: Num,
    kthPath: t.string,
    epoch: Num,
    step: Num,
  }),
  /** save_last is set but last was not written here */
  lastNotDue: t.type({ kind: t.literal('lastNotDue'), cause: t.keyof({ nothingSavedAtThisStep: null, alreadySavedThisFit: null }) }),
  /** save_last='link' would link last to itself */
  lastUnchanged: t.type({ kind: t.literal('lastUnchanged'), path: t.string }),
  noExceptionSave: t.type({ kind: t.literal('noExceptionSave'), cause: t.keyof({ disabled: null, fastDevRun: null, sanityCheck: null, sameGlobalStep: null }) }),
  /** trainEnded without save_last */
  noLastConfigured: t.type({ kind: t.literal('noLastConfigured') }),
  /** the name was taken, so the version counter gave this save a -vN suffix */
  versionBump: t.type({ kind: t.literal('versionBump'), path: t.string, taken: t.string }),
  /** composed retention: `released` let go of `path`, but other members still keep it, so it stays */
  keptBy: t.type({ kind: t.literal('keptBy'), path: t.string, released: KeepMemberCodec, members: t.array(KeepMemberCodec) }),
  /** Lightning raised: the hook stopped there */
  raised: t.type({ kind: t.literal('raised'), errorType: t.string, message: t.string }),
};

export const NoteCodec = tagged('Note', 'kind', NOTE_MEMBERS);

export type Note = t.TypeOf<typeof NoteCodec>;
export type NoteKind = Note['kind'];

/** Every kind of note, in the codec's order. */
export const NOTE_KINDS = Object.keys(NOTE_MEMBERS) as NoteKind[];
