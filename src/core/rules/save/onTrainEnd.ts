/** `on_train_end`: the last checkpoint is written only if save_last is set and nothing was saved in this fit. */
import type { PolicyConfig } from '../../config.ts';

export type NoTrainEndSave = 'noLastConfigured' | 'alreadySavedThisFit';

export function trainEndSkip(c: PolicyConfig, lastCheckpointSaved: string): NoTrainEndSave | null {
  if (!c.saveLast) return 'noLastConfigured';
  return lastCheckpointSaved ? 'alreadySavedThisFit' : null;
}
