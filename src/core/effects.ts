/**
 * Effects: what the policy asks the world to do, as plain serialisable data. A save always comes
 * before the removal it causes; an interpreter must carry them out in order and must not perform
 * a removal whose preceding save failed.
 *
 * The types are derived from the codecs (the decision log stores effects as JSON). Numbers go
 * through JsonNumber, so NaN, infinities and -0 come back exactly as the reducer saw them.
 */
import { t } from './deps.cts';
import { CheckpointPathCodec } from './brands.ts';
import { JsonNumber as Num, Nullable } from './jsonNumber.ts';
import { KeepMemberCodec, TriggerCodec } from './notes.ts';
import { tagged } from './tagged.ts';

/** Which trigger made the policy act. */
export type Trigger = t.TypeOf<typeof TriggerCodec>;

const Members = t.readonlyArray(KeepMemberCodec);

/** Which rule made the policy act; the numbers involved are kept for audits and `explain`. */
export const ReasonCodec = tagged('Reason', 'rule', {
  /** admitted into the top k: `score` beat the k-th value (or fewer than k were kept) */
  topK: t.readonly(t.type({ rule: t.literal('topK'), trigger: TriggerCodec, monitor: t.string, score: Num, k: Num, keepAll: t.boolean, kthValue: Nullable(Num), epoch: Num, step: Num })),
  /** no monitor: every trigger saves (save_top_k 1 keeps only the newest) */
  noMonitor: t.readonly(t.type({ rule: t.literal('noMonitor'), trigger: TriggerCodec, epoch: Num, step: Num })),
  /** the last checkpoint (save_last) */
  last: t.readonly(t.type({ rule: t.literal('last'), trigger: TriggerCodec, epoch: Num, step: Num })),
  /** save_on_exception */
  exception: t.readonly(t.type({ rule: t.literal('exception'), exceptionType: t.string, epoch: Num, step: Num })),
  /** a top-k checkpoint pushed out by a better one */
  displaced: t.readonly(t.type({ rule: t.literal('displaced'), by: t.string, score: Nullable(Num) })),
  /** the previous file of a one-file series (last, or top-1 without monitor) replaced by a new name */
  superseded: t.readonly(t.type({ rule: t.literal('superseded'), by: t.string, series: t.keyof({ last: null, noMonitor: null }) })),
  /** composed retention: written because keep_* members keep it (top-k did not take it) */
  kept: t.readonly(t.type({ rule: t.literal('kept'), trigger: TriggerCodec, members: Members, epoch: Num, step: Num })),
  /** composed retention: `member` let go of it (e.g. no longer among the latest n) and no other member keeps it */
  released: t.readonly(t.type({ rule: t.literal('released'), member: KeepMemberCodec, by: t.string })),
});
export type Reason = t.TypeOf<typeof ReasonCodec>;

export const LogLevelCodec = t.keyof({ debug: null, info: null, warning: null });
export type LogLevel = t.TypeOf<typeof LogLevelCodec>;

const Path = CheckpointPathCodec;

export const EffectCodec = tagged('Effect', 'type', {
  save: t.readonly(t.type({ type: t.literal('save'), path: Path, weightsOnly: t.boolean, reason: ReasonCodec })),
  remove: t.readonly(t.type({ type: t.literal('remove'), path: Path, reason: ReasonCodec })),
  /** save_last='link': a relative symlink at `path` pointing to `target` (`relTarget` is the link text); copy where symlinks are refused */
  link: t.readonly(t.type({ type: t.literal('link'), target: Path, path: Path, relTarget: t.string, fallback: t.literal('copy'), reason: ReasonCodec })),
  /** Lightning's warnings (category set), rank-zero info lines and debug lines, with Lightning's exact text */
  log: t.readonly(t.intersection([t.type({ type: t.literal('log'), level: LogLevelCodec, message: t.string }), t.partial({ category: t.string })])),
  /** Lightning raised: the hook stopped here; the loop should treat it as the exception `errorType` */
  error: t.readonly(t.type({ type: t.literal('error'), errorType: t.string, message: t.string })),
});
export type Effect = t.TypeOf<typeof EffectCodec>;

export type EffectType = Effect['type'];
