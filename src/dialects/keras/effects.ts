/**
 * What the Keras dialect asks for: plain data, in the order Keras does things within a hook. Keras
 * never deletes a checkpoint and has no version counter, so there is one write effect; a second
 * write to the same path overwrites. `NotSaved` is a note (no I/O) on a decision not to save.
 */
import type { KerasMessage, PyError } from './options.ts';
import type { SaveReason, SkipReason } from './rules/saveDecision.ts';

export type SaveFormat = 'keras' | 'h5' | 'weights.h5';

export type KerasEffect =
  | { readonly _tag: 'Print'; readonly message: string }
  | { readonly _tag: 'Warn'; readonly category: 'UserWarning'; readonly message: string }
  /**
   * Write the model (`model.save`) or its weights (`model.save_weights`) to `filepath`, after
   * creating `os.path.dirname(filepath)` when it is non-empty and missing. Answer with SaveCompleted
   * or SaveFailed.
   */
  | {
      readonly _tag: 'Save';
      readonly filepath: string;
      readonly weightsOnly: boolean;
      readonly format: SaveFormat;
      readonly epoch: number;
      readonly batch: number | null;
      readonly reason: SaveReason;
    }
  | { readonly _tag: 'NotSaved'; readonly epoch: number; readonly batch: number | null; readonly reason: SkipReason }
  /** the hook raised this exception: in Keras it leaves `fit` (no further hook runs) */
  | { readonly _tag: 'Raise'; readonly error: PyError };

export const messageEffect = (m: KerasMessage): KerasEffect =>
  m.level === 'print' ? { _tag: 'Print', message: m.message } : { _tag: 'Warn', category: m.category, message: m.message };

/** The format `model.save` picks from the suffix (a `.weights.h5` path saved as a full model is legacy H5). */
export const saveFormat = (filepath: string, weightsOnly: boolean): SaveFormat =>
  weightsOnly ? 'weights.h5' : filepath.endsWith('.keras') ? 'keras' : 'h5';
