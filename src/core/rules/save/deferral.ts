/**
 * Deferral: a step or time trigger fired, but the monitored value is missing, or stale at the
 * epoch's last batch with validation about to run; the save waits for the next validation end.
 * Its slice is the flag the validation end reads.
 */
import type { LoopView } from '../../events.ts';
import type { PolicyState, ResolvedTrainer } from '../../state.ts';
import { sum } from '../hook.ts';

export type DeferSlice = Pick<PolicyState, 'deferSaveUntilValidation'>;
export type DeferCause = 'monitorMissing' | 'validationNext';

/** Why a due step/time save waits, or null. `atTrainEpochEnd` is the resolved save hook. */
export function deferCause(monitorLogged: boolean, atTrainEpochEnd: boolean, t: ResolvedTrainer, view: LoopView, manual: boolean): DeferCause | null {
  if (!monitorLogged) return 'monitorMissing';
  if (manual || atTrainEpochEnd || !view.isLastBatch) return null;
  const cve = t.checkValEveryNEpoch;
  const willRunVal = t.enableValidation && sum(view.numValBatches) > 0 && (cve === null || (view.epoch + 1) % cve === 0);
  return willRunVal ? 'validationNext' : null;
}
