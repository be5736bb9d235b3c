/**
 * What the training loop tells the Keras dialect: the hooks ModelCheckpoint overrides, with the
 * arguments Keras passes (0-based epoch and batch indices, `logs` after pythonify_logs), and the
 * outcome of a save it asked for. Past-tense facts; codecs first, types derived.
 */
import * as t from 'io-ts';
import { PyError } from './codecs.ts';
import { CompiledMetricCodec } from './rules/monitorOp.ts';
import { Logs } from './values.ts';

export const KerasEventCodec = t.union([
  t.type({ _tag: t.literal('TrainBegan') }),
  t.type({ _tag: t.literal('EpochBegan'), epoch: t.number }),
  t.intersection([
    t.type({ _tag: t.literal('TrainBatchEnded'), batch: t.number, logs: Logs }),
    // only read by the opt-in fix that resolves mode='auto' at a batch-level decision
    t.partial({ metrics: t.array(CompiledMetricCodec) }),
  ]),
  t.intersection([
    t.type({ _tag: t.literal('EpochEnded'), epoch: t.number, logs: Logs }),
    // the model's compiled metric objects, read by mode='auto' at the first epoch end
    t.partial({ metrics: t.array(CompiledMetricCodec) }),
  ]),
  t.type({ _tag: t.literal('TrainEnded'), logs: Logs }),
  /** the Save effect's write (and directory creation) succeeded */
  t.type({ _tag: t.literal('SaveCompleted') }),
  /** it raised: the Python exception class (IsADirectoryError, NotADirectoryError, ...) and its str() */
  t.type({ _tag: t.literal('SaveFailed'), error: PyError }),
]);
export type KerasEvent = t.TypeOf<typeof KerasEventCodec>;
