/**
 * Skip rules: Lightning's `_should_skip_saving_checkpoint` (fast_dev_run, not fitting, sanity
 * check, the global step already saved), naming the first cause that holds, and the variant the
 * exception hook uses (`_should_save_on_exception`).
 */
import type { PolicyConfig } from '../../config.ts';
import type { LoopView } from '../../events.ts';
import type { SkipCause } from '../../notes.ts';
import type { ResolvedTrainer } from '../../state.ts';

export function skipCause(t: ResolvedTrainer, view: LoopView, lastGlobalStepSaved: number): SkipCause | null {
  if (t.fastDevRun) return 'fastDevRun';
  if (t.stateFn !== 'fit') return 'notFitting';
  if (view.sanityChecking) return 'sanityCheck';
  if (lastGlobalStepSaved === view.globalStep) return 'sameGlobalStep';
  return null;
}

export type NoExceptionSave = 'disabled' | 'fastDevRun' | 'sanityCheck' | 'sameGlobalStep';

/** Why the exception hook saves nothing, or null when it saves. */
export function exceptionSkip(c: PolicyConfig, t: ResolvedTrainer, view: LoopView, lastGlobalStepSaved: number): NoExceptionSave | null {
  if (!c.saveOnException) return 'disabled';
  if (t.fastDevRun) return 'fastDevRun';
  if (view.sanityChecking) return 'sanityCheck';
  if (lastGlobalStepSaved === view.globalStep) return 'sameGlobalStep';
  return null;
}
