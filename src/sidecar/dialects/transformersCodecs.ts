/**
 * io-ts codecs for the transformers dialect's events (types.ts `HfEvent`, which it types but does
 * not decode) and for the facts `Trainer(...)` is built with (`TrainerSetupFacts`). Checked against
 * the dialect's types below.
 */
import * as t from 'io-ts';
import { FileEntryCodec } from '../../dialects/transformers/files.ts';
import { PyFloat, TrainerStateFileCodec, type HfEvent } from '../../dialects/transformers/types.ts';
import type { TrainerSetupFacts } from '../../dialects/transformers/reduce.ts';

const Time = t.refinement(t.number, Number.isFinite, 'a finite time in seconds');
const Step = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');
const Epoch = t.refinement(t.number, (n) => Number.isFinite(n) && n >= 0, 'a non-negative number (fractional within an epoch)');
const Files = t.array(FileEntryCodec);

export const HfEventCodec = t.union([
  t.type({ type: t.literal('trainBegan'), time: Time, files: Files, resumeFromCheckpoint: t.union([t.boolean, t.string, t.null]) }),
  t.type({ type: t.literal('trainerStateRead'), state: t.union([TrainerStateFileCodec, t.null]) }),
  t.type({ type: t.literal('stepEnded'), globalStep: Step, epoch: Epoch, time: Time }),
  t.type({ type: t.literal('epochEnded'), globalStep: Step, epoch: Epoch, time: Time }),
  t.type({ type: t.literal('evaluated'), metrics: t.record(t.string, PyFloat) }),
  t.type({ type: t.literal('checkpointSaved'), path: t.string, time: Time, files: Files }),
  t.type({ type: t.literal('checkpointSaveFailed'), path: t.string, error: t.type({ type: t.string, message: t.string }) }),
  t.type({ type: t.literal('trainEnded'), time: Time, files: Files }),
]);

export const TrainerSetupCodec = t.intersection([
  t.type({
    /** batches per epoch: ceil(train samples / per_device_train_batch_size) */
    trainBatches: t.refinement(t.number, (n) => Number.isInteger(n) && n > 0, 'a positive integer (batches per epoch)'),
    hasEvalDataset: t.boolean,
  }),
  t.partial({
    cwd: t.string,
    files: Files,
    earlyStopping: t.union([t.intersection([t.type({ patience: Step }), t.partial({ threshold: t.number })]), t.null]),
  }),
]);

const _event = (e: t.TypeOf<typeof HfEventCodec>): HfEvent => e;
const _setup = (s: t.TypeOf<typeof TrainerSetupCodec>): TrainerSetupFacts => ({ cwd: '', files: [], ...s });
void _event, void _setup;
