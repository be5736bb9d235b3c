/**
 * Effects: what the policy asks the world to do, as plain serialisable data. A save always comes
 * before the removal it causes; an interpreter must carry them out in order and must not perform
 * a removal whose preceding save failed.
 */

import type { CheckpointPath } from './brands.ts';
import type { KeepMember } from './notes.ts';

/** Which rule made the policy act; the numbers involved are kept for audits and `explain`. */
export type Trigger =
  | 'trainEpochEnd'
  | 'validationEnd'
  | 'deferredToValidationEnd'
  | 'everyNTrainSteps'
  | 'trainTimeInterval'
  | 'exception'
  | 'trainEnd';

export type Reason =
  /** admitted into the top k: `score` beat the k-th value (or fewer than k were kept) */
  | { readonly rule: 'topK'; readonly trigger: Trigger; readonly monitor: string; readonly score: number; readonly k: number; readonly keepAll: boolean; readonly kthValue: number | null; readonly epoch: number; readonly step: number }
  /** no monitor: every trigger saves (save_top_k 1 keeps only the newest) */
  | { readonly rule: 'noMonitor'; readonly trigger: Trigger; readonly epoch: number; readonly step: number }
  /** the last checkpoint (save_last) */
  | { readonly rule: 'last'; readonly trigger: Trigger; readonly epoch: number; readonly step: number }
  /** save_on_exception */
  | { readonly rule: 'exception'; readonly exceptionType: string; readonly epoch: number; readonly step: number }
  /** a top-k checkpoint pushed out by a better one */
  | { readonly rule: 'displaced'; readonly by: string; readonly score: number | null }
  /** the previous file of a one-file series (last, or top-1 without monitor) replaced by a new name */
  | { readonly rule: 'superseded'; readonly by: string; readonly series: 'last' | 'noMonitor' }
  /** composed retention: written because keep_* members keep it (top-k did not take it) */
  | { readonly rule: 'kept'; readonly trigger: Trigger; readonly members: readonly KeepMember[]; readonly epoch: number; readonly step: number }
  /** composed retention: `member` let go of it (e.g. no longer among the latest n) and no other member keeps it */
  | { readonly rule: 'released'; readonly member: KeepMember; readonly by: string };

export type LogLevel = 'debug' | 'info' | 'warning';

export type Effect =
  | { readonly type: 'save'; readonly path: CheckpointPath; readonly weightsOnly: boolean; readonly reason: Reason }
  | { readonly type: 'remove'; readonly path: CheckpointPath; readonly reason: Reason }
  /** save_last='link': a relative symlink at `path` pointing to `target` (`relTarget` is the link text); copy where symlinks are refused */
  | { readonly type: 'link'; readonly target: CheckpointPath; readonly path: CheckpointPath; readonly relTarget: string; readonly fallback: 'copy'; readonly reason: Reason }
  /** Lightning's warnings (category set), rank-zero info lines and debug lines, with Lightning's exact text */
  | { readonly type: 'log'; readonly level: LogLevel; readonly message: string; readonly category?: string }
  /** Lightning raised: the hook stopped here; the loop should treat it as the exception `errorType` */
  | { readonly type: 'error'; readonly errorType: string; readonly message: string };

export type EffectType = Effect['type'];
