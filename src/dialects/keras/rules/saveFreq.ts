/**
 * The integer `save_freq` rule (ModelCheckpoint._should_save_on_batch): the counter adds the
 * distance from the last batch index seen, or `batch + 1` when the index did not grow (a new epoch,
 * or the first check); it runs across epochs and `fit` calls and is reset only by a save. Indices
 * are those Keras passes: with steps_per_execution = k, the last of each execution, even past the
 * epoch's end. A `save_freq` of 0, a negative number or True saves after every batch.
 */
export interface BatchCounter {
  readonly batchesSeenSinceLastSaving: number;
  /** null before the first check: the first index counts as `batch + 1` */
  readonly lastBatchSeen: number | null;
}

export type BatchCheck = { readonly counter: BatchCounter; readonly due: boolean; readonly seen: number };

export function checkBatch(counter: BatchCounter, batch: number, every: number): BatchCheck {
  const last = counter.lastBatchSeen;
  const add = last === null || batch <= last ? batch + 1 : batch - last;
  const seen = counter.batchesSeenSinceLastSaving + add;
  const due = seen >= every;
  return { due, seen, counter: { batchesSeenSinceLastSaving: due ? 0 : seen, lastBatchSeen: batch } };
}
