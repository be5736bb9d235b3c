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

export { tagged } from '../core/tagged.ts';
import { tagged } from '../core/tagged.ts';
import { KeepMemberCodec, TriggerCodec } from '../core/notes.ts';
/** Loop events as the rest of the project reads them. */
export { LoopEventCodec } from '../core/eventCodec.ts';

const TriggerC = TriggerCodec;

const ReasonC = tagged('Reason', 'rule', {
  topK: t.type({ rule: t.literal('topK'), trigger: TriggerC, monitor: t.string, score: Num, k: Num, keepAll: t.boolean, kthValue: Nullable(Num), epoch: Num, step: Num }),
  noMonitor: t.type({ rule: t.literal('noMonitor'), trigger: TriggerC, epoch: Num, step: Num }),
  last: t.type({ rule: t.literal('last'), trigger: TriggerC, epoch: Num, step: Num }),
  exception: t.type({ rule: t.literal('exception'), exceptionType: t.string, epoch: Num, step: Num }),
  displaced: t.type({ rule: t.literal('displaced'), by: t.string, score: Nullable(Num) }),
  superseded: t.type({ rule: t.literal('superseded'), by: t.string, series: t.keyof({ last: null, noMonitor: null }) }),
  kept: t.type({ rule: t.literal('kept'), trigger: TriggerC, members: t.array(KeepMemberCodec), epoch: Num, step: Num }),
  released: t.type({ rule: t.literal('released'), member: KeepMemberCodec, by: t.string }),
});

export const EffectCodec = tagged('Effect', 'type', {
  save: t.type({ type: t.literal('save'), path: t.string, weightsOnly: t.boolean, reason: ReasonC }),
  remove: t.type({ type: t.literal('remove'), path: t.string, reason: ReasonC }),
  link: t.type({ type: t.literal('link'), target: t.string, path: t.string, relTarget: t.string, fallback: t.literal('copy'), reason: ReasonC }),
  log: t.intersection([t.type({ type: t.literal('log'), level: t.keyof({ debug: null, info: null, warning: null }), message: t.string }), t.partial({ category: t.string })]),
  error: t.type({ type: t.literal('error'), errorType: t.string, message: t.string }),
});

/** The notes of decisions not to act: the core's codec (the Note type is derived from it). */
export { NoteCodec } from '../core/notes.ts';
