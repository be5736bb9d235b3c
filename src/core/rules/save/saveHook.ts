/**
 * Which hook the callback acts at: `save_on_train_epoch_end`, given or derived from the loop
 * (time-based validation, `check_val_every_n_epoch != 1`, no validation batches,
 * `val_check_interval == 1.0`).
 */
import type { PolicyConfig } from '../../config.ts';
import type { LoopView } from '../../events.ts';
import type { ResolvedTrainer } from '../../state.ts';
import { sum } from '../hook.ts';

export interface SaveHook {
  readonly atTrainEpochEnd: boolean;
  readonly setting: 'given' | 'derived';
}

export function saveHook(c: PolicyConfig, t: ResolvedTrainer, view: LoopView): SaveHook {
  if (c.saveOnTrainEpochEnd !== null) return { atTrainEpochEnd: c.saveOnTrainEpochEnd, setting: 'given' };
  const derived = t.valCheckTimeInterval !== null ? false : t.checkValEveryNEpoch !== 1 ? false : sum(view.numValBatches) === 0 ? true : t.valCheckInterval === 1;
  return { atTrainEpochEnd: derived, setting: 'derived' };
}
