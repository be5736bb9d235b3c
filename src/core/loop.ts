/**
 * Turning a simple training plan into the events Lightning's fit loop would produce, in its hook
 * order: setup, sanity validation, train start, then per batch `trainBatchEnded` (and a validation
 * run when one is due), per epoch `trainEpochEnded`, and finally `trainEnded`. Used by the demo,
 * the property tests and the benchmarks; real loops send their own events.
 */
import type { FileEntry } from './files.ts';
import type { LoopEvent, Metrics, TrainerFacts } from './events.ts';

export interface FitPlan {
  readonly epochs: number;
  readonly batchesPerEpoch: number;
  /** validation after every `valEveryNBatches` batches of an epoch (default: once, after the last batch); 0 disables it */
  readonly valEveryNBatches?: number;
  readonly numValBatches?: number;
  /** metrics logged by training steps (train_loss, ...) for a given global step */
  readonly trainMetrics?: (epoch: number, globalStep: number) => Metrics;
  /** metrics logged by a validation run */
  readonly valMetrics?: (epoch: number, globalStep: number) => Metrics;
  readonly batchSeconds?: number;
  readonly trainer?: TrainerFacts;
  readonly files?: readonly FileEntry[];
  readonly sanityCheck?: boolean;
}

export function* fitEvents(plan: FitPlan): Generator<LoopEvent> {
  const valEvery = plan.valEveryNBatches ?? plan.batchesPerEpoch;
  const validates = valEvery > 0;
  const numVal = validates ? [plan.numValBatches ?? 1] : [];
  const trainer: TrainerFacts = {
    enableValidation: validates,
    valCheckInterval: validates ? (valEvery === plan.batchesPerEpoch ? 1.0 : valEvery) : 1.0,
    ...plan.trainer,
  };
  const dt = plan.batchSeconds ?? 1;
  let time = 0;
  let step = 0;
  let metrics: Record<string, number> = {};
  yield { type: 'setup', stage: 'fit', trainer, files: plan.files ?? [], view: { epoch: 0, globalStep: 0, time } };
  if (validates && plan.sanityCheck !== false && plan.valMetrics) {
    yield { type: 'validationEnded', view: { epoch: 0, globalStep: 0, time, sanityChecking: true, numValBatches: numVal, metrics: plan.valMetrics(0, 0) } };
  }
  yield { type: 'trainStarted', view: { epoch: 0, globalStep: 0, time, numValBatches: numVal, metrics } };
  for (let epoch = 0; epoch < plan.epochs; epoch++) {
    let valHasRun = false;
    for (let b = 0; b < plan.batchesPerEpoch; b++) {
      time += dt;
      if (plan.trainMetrics) metrics = { ...metrics, ...plan.trainMetrics(epoch, step) };
      step += 1;
      const isLastBatch = b === plan.batchesPerEpoch - 1;
      const base = { epoch, globalStep: step, time, isLastBatch, numValBatches: numVal };
      yield { type: 'trainBatchEnded', batchIdx: b, view: { ...base, valLoopHasRun: valHasRun, metrics } };
      if (validates && (b + 1) % valEvery === 0) {
        if (plan.valMetrics) metrics = { ...metrics, ...plan.valMetrics(epoch, step) };
        valHasRun = true;
        yield { type: 'validationEnded', view: { ...base, valLoopHasRun: true, metrics } };
      }
    }
    yield { type: 'trainEpochEnded', view: { epoch, globalStep: step, time, isLastBatch: true, valLoopHasRun: valHasRun, numValBatches: numVal, metrics } };
  }
  yield { type: 'trainEnded', view: { epoch: plan.epochs, globalStep: step, time, numValBatches: numVal, metrics } };
}
