/**
 * Opt-in fixes for the two Orbax 0.12.4 behaviours that lose a checkpoint. Off by default: the
 * dialect's contract is agreement with Orbax, so a fix is something a caller asks for, by name,
 * and every call it changes says so (`CallOutput.fixed`).
 *
 * - `keep_just_written`: retention never removes the step the same `save` just wrote. Orbax decides
 *   retention after the write over all checkpoints, the new one included, so a `BestN` that does not
 *   rank the new metric among the n best (or `max_to_keep=0`) deletes the checkpoint it was asked to
 *   save. With the fix the new step stays until a later save's retention removes it (so up to one
 *   checkpoint more than the policy's count is on disk between saves).
 * - `clear_in_progress_on_error`: a `save` that raises after it marked the save in progress
 *   (`StepAlreadyExistsError`, a `best_fn` error, a failed write, a retention error) no longer leaves
 *   `is_saving_in_progress()` true forever; a write still in flight clears it when it commits, as a
 *   successful async save does. Without it, `ContinuousCheckpointingPolicy` alone never saves again.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { PathReporter } from 'io-ts/lib/PathReporter.js';

export const OrbaxFixesCodec = t.exact(t.partial({ keep_just_written: t.boolean, clear_in_progress_on_error: t.boolean }));
export type OrbaxFixes = t.TypeOf<typeof OrbaxFixesCodec>;
export type FixName = keyof OrbaxFixes;
export const FIX_NAMES: readonly FixName[] = ['keep_just_written', 'clear_in_progress_on_error'];

export const NO_FIXES: OrbaxFixes = {};

/** What a fix changed in one call. */
export type FixApplied =
  | { readonly fix: 'keep_just_written'; readonly step: number }
  | { readonly fix: 'clear_in_progress_on_error'; readonly error: string; readonly when: 'now' | 'at_commit' };

/** Decode `{keep_just_written?, clear_in_progress_on_error?}`; an unknown name is an error naming it. */
export function decodeFixes(input: unknown): E.Either<string, OrbaxFixes> {
  if (input === undefined || input === null) return E.right(NO_FIXES);
  if (typeof input !== 'object' || Array.isArray(input)) return E.left(`fixes: ${JSON.stringify(input)} is not valid: expected an object of booleans with keys ${FIX_NAMES.join(', ')}`);
  const unknown = Object.keys(input).filter((k) => !(FIX_NAMES as readonly string[]).includes(k));
  if (unknown.length > 0) return E.left(`fixes: unknown fix ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${FIX_NAMES.join(', ')}`);
  const r = OrbaxFixesCodec.decode(input);
  return E.isLeft(r) ? E.left(`fixes: ${JSON.stringify(input)} is not valid (${PathReporter.report(r)[0]})`) : E.right(r.right);
}

/** `keep_just_written`: the retention verdict less the step just written. */
export function spareJustWritten(fixes: OrbaxFixes, remove: readonly number[], written: number): { remove: number[]; applied: FixApplied | null } {
  if (fixes.keep_just_written !== true || !remove.includes(written)) return { remove: [...remove], applied: null };
  return { remove: remove.filter((s) => s !== written), applied: { fix: 'keep_just_written', step: written } };
}

/**
 * `clear_in_progress_on_error`: after a save raised having set in_progress. With no write in flight
 * the flag is cleared now; with one in flight (async, retention raised) its commit clears it.
 */
export function unstick<I extends { readonly finalize: boolean }>(
  fixes: OrbaxFixes,
  error: string,
  inflight: I | null,
): { inProgress: boolean | null; inflight: I | null; applied: FixApplied | null } {
  if (fixes.clear_in_progress_on_error !== true) return { inProgress: null, inflight, applied: null };
  if (inflight !== null && !inflight.finalize) return { inProgress: null, inflight: { ...inflight, finalize: true }, applied: { fix: 'clear_in_progress_on_error', error, when: 'at_commit' } };
  return { inProgress: false, inflight, applied: { fix: 'clear_in_progress_on_error', error, when: 'now' } };
}
