/**
 * io-ts codecs for what a decision log holds: loop events, effects with their reasons, and the
 * notes of decisions not to act. Every number goes through LogNumber, so NaN, infinities and -0
 * come back exactly as the reducer saw them. Decoding is strict on types and lenient on unknown
 * fields (a newer writer may add some).
 */
import * as t from 'io-ts';
import { LogNumber } from './canonical.ts';
import { Nullable } from '../core/stateCodec.ts';

const Num = LogNumber;

/**
 * A union told apart by one field (`type`, `rule`, `kind`): decoding picks the member by that field,
 * so an error names the member's own field instead of every member's mismatch.
 */
export function tagged<M extends Record<string, t.Mixed>>(name: string, tag: string, members: M): t.Type<t.TypeOf<M[keyof M]>, t.OutputOf<M[keyof M]>, unknown> {
  const names = Object.keys(members);
  return new t.Type<t.TypeOf<M[keyof M]>, t.OutputOf<M[keyof M]>, unknown>(
    name,
    (u): u is t.TypeOf<M[keyof M]> => typeof u === 'object' && u !== null && names.some((n) => members[n]!.is(u)),
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `an object with a "${tag}" field`);
      const v = (u as Record<string, unknown>)[tag];
      const member = typeof v === 'string' && Object.hasOwn(members, v) ? members[v] : undefined;
      if (member === undefined) return t.failure(v, t.appendContext(c, tag, t.string, v), `one of ${names.join(', ')}`);
      return member.validate(u, c);
    },
    (a) => {
      const v = (a as Record<string, unknown>)[tag] as string;
      return members[v]!.encode(a);
    },
  );
}
/** Loop events as the rest of the project reads them. */
export { LoopEventCodec } from '../core/eventCodec.ts';

const TriggerC = t.keyof({
  trainEpochEnd: null,
  validationEnd: null,
  deferredToValidationEnd: null,
  everyNTrainSteps: null,
  trainTimeInterval: null,
  exception: null,
  trainEnd: null,
});

const ReasonC = tagged('Reason', 'rule', {
  topK: t.type({ rule: t.literal('topK'), trigger: TriggerC, monitor: t.string, score: Num, k: Num, keepAll: t.boolean, kthValue: Nullable(Num), epoch: Num, step: Num }),
  noMonitor: t.type({ rule: t.literal('noMonitor'), trigger: TriggerC, epoch: Num, step: Num }),
  last: t.type({ rule: t.literal('last'), trigger: TriggerC, epoch: Num, step: Num }),
  exception: t.type({ rule: t.literal('exception'), exceptionType: t.string, epoch: Num, step: Num }),
  displaced: t.type({ rule: t.literal('displaced'), by: t.string, score: Nullable(Num) }),
  superseded: t.type({ rule: t.literal('superseded'), by: t.string, series: t.keyof({ last: null, noMonitor: null }) }),
});

export const EffectCodec = tagged('Effect', 'type', {
  save: t.type({ type: t.literal('save'), path: t.string, weightsOnly: t.boolean, reason: ReasonC }),
  remove: t.type({ type: t.literal('remove'), path: t.string, reason: ReasonC }),
  link: t.type({ type: t.literal('link'), target: t.string, path: t.string, relTarget: t.string, fallback: t.literal('copy'), reason: ReasonC }),
  log: t.intersection([t.type({ type: t.literal('log'), level: t.keyof({ debug: null, info: null, warning: null }), message: t.string }), t.partial({ category: t.string })]),
  error: t.type({ type: t.literal('error'), errorType: t.string, message: t.string }),
});

const SkipCauseC = t.keyof({ fastDevRun: null, notFitting: null, sanityCheck: null, sameGlobalStep: null });

const NotDueC = tagged('NotDue', 'trigger', {
  everyNTrainSteps: t.type({ trigger: t.literal('everyNTrainSteps'), n: Num, step: Num }),
  trainTimeInterval: t.type({ trigger: t.literal('trainTimeInterval'), interval: Num, elapsed: Nullable(Num) }),
  everyNEpochs: t.type({ trigger: t.literal('everyNEpochs'), n: Num, epoch: Num }),
});

export const NoteCodec = tagged('Note', 'kind', {
  noDecision: t.type({ kind: t.literal('noDecision'), event: t.keyof({ setup: null, stateLoaded: null, trainStarted: null, filesListed: null }) }),
  skipped: t.type({ kind: t.literal('skipped'), cause: SkipCauseC, step: Num, lastSavedStep: Num, stateFn: t.string }),
  notDue: t.type({ kind: t.literal('notDue'), checks: t.array(NotDueC) }),
  otherHook: t.type({ kind: t.literal('otherHook'), actsAt: t.keyof({ trainEpochEnd: null, validationEnd: null }), setting: t.keyof({ given: null, derived: null }) }),
  deferred: t.type({ kind: t.literal('deferred'), cause: t.keyof({ monitorMissing: null, validationNext: null }), monitor: t.string, trigger: TriggerC }),
  topKZero: t.type({ kind: t.literal('topKZero'), trigger: TriggerC }),
  monitorMissing: t.type({ kind: t.literal('monitorMissing'), monitor: t.string, available: t.array(t.string), trigger: TriggerC, epoch: Num, step: Num }),
  rejected: t.type({
    kind: t.literal('rejected'),
    trigger: TriggerC,
    monitor: t.string,
    mode: t.keyof({ min: null, max: null }),
    score: Num,
    k: Num,
    kthValue: Num,
    kthPath: t.string,
    epoch: Num,
    step: Num,
  }),
  lastNotDue: t.type({ kind: t.literal('lastNotDue'), cause: t.keyof({ nothingSavedAtThisStep: null, alreadySavedThisFit: null }) }),
  lastUnchanged: t.type({ kind: t.literal('lastUnchanged'), path: t.string }),
  noExceptionSave: t.type({ kind: t.literal('noExceptionSave'), cause: t.keyof({ disabled: null, fastDevRun: null, sanityCheck: null, sameGlobalStep: null }) }),
  noLastConfigured: t.type({ kind: t.literal('noLastConfigured') }),
  versionBump: t.type({ kind: t.literal('versionBump'), path: t.string, taken: t.string }),
  raised: t.type({ kind: t.literal('raised'), errorType: t.string, message: t.string }),
});
