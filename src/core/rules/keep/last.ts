/**
 * The "last" checkpoint (save_last): `last.ckpt` (CHECKPOINT_NAME_LAST) versioned against files
 * that exist (its own previous file exempt), written as a copy, or with 'link' as a symlink to the
 * last checkpoint written when there is one (and save_top_k is not 0). Its slice is
 * `lastModelPath`; it keeps that one file.
 */
import type { PolicyConfig } from '../../config.ts';
import type { PolicyState } from '../../state.ts';

export type LastSlice = { -readonly [K in 'lastModelPath']: PolicyState[K] };

/** Whether the last checkpoint is a link to `lastWritten` (else a file of its own). */
export function linksTo(c: PolicyConfig, lastWritten: string): boolean {
  return c.saveLast === 'link' && lastWritten !== '' && c.saveTopK !== 0;
}

/** After a top-k attempt at an epoch or validation end: last is written when this hook saved, or 'link' has a checkpoint to point at. */
export function lastDueAfterTopK(c: PolicyConfig, savedThisHook: boolean, lastWritten: string): boolean {
  return savedThisHook || (c.saveLast === 'link' && lastWritten !== '');
}

export function keepsLast(s: LastSlice, path: string): boolean {
  return s.lastModelPath === path;
}
