/**
 * A Keras-style ModelCheckpoint for TensorFlow.js: `modelCheckpoint({ filepath, monitor,
 * saveBestOnly, ... })` returns a `tf.Callback` for `model.fit` / `model.fitDataset` (tfjs has
 * `tf.callbacks.earlyStopping` but no checkpoint callback), deciding exactly as Keras 3 does (the
 * dialect's reducer) and writing through any CheckpointStore (filesystem, memory, S3, IndexedDB).
 *
 * Hooks: onTrainBegin, onEpochBegin, onBatchEnd (tfjs's 0-based batch index, the `batch` and
 * `size` entries of tfjs's batch logs dropped since Keras's logs hold metrics only), onEpochEnd,
 * onTrainEnd. A checkpoint's key is the formatted filepath (relative to the store's root);
 * `saveWeightsOnly` saves the weights without the optimizer (tfjs `includeOptimizer: false`),
 * otherwise the whole model with its optimizer. Keras's prints go to `log('print', ...)`, its
 * warnings to `log('warning', ...)`; an exception Keras would raise rejects the hook, which ends
 * `fit` as it does in Keras.
 *
 * Keras keeps `best` only inside one callback instance: a new `modelCheckpoint` starts from None.
 * Pass `state` (from `callback.state` of an earlier run, through JSON) to carry it across runs.
 *
 * `decisionLog` (in Node, `openDialectLog(path, 'keras')` from src/audit/dialectLog.ts) records the
 * callback's decisions as `ckpt serve --dialect keras --decision-log` does: the options as an init
 * line (and the state as a resume line), each hook's event and each save's outcome as a line, each
 * with the answer the sidecar would give, so `ckpt audit verify` replays them. The caller closes it.
 */
import * as tf from '@tensorflow/tfjs';
import type { CheckpointStore } from '../../core/store.ts';
import { captureTfjsModel } from '../../../plugins/payload/model.ts';
import type { KerasEffect } from './effects.ts';
import type { KerasEvent } from './events.ts';
import { parseOptions, type KerasCamelOptions, type KerasOptions, type PyError } from './options.ts';
import { init, reduce } from './reduce.ts';
import type { CompiledMetric } from './rules/monitorOp.ts';
import { decodeState, type KerasFixes, type KerasState } from './state.ts';
import type { Logs } from './values.ts';
import { kerasDialect } from '../../sidecar/dialects/keras.ts';
import { answerLine, type LineRecorder } from '../../sidecar/dialects/session.ts';

export interface KerasTfjsOptions {
  readonly store: CheckpointStore;
  /** Keras's printed lines and warnings (default: console.log / console.warn) */
  readonly log?: (level: 'print' | 'warning', message: string) => void;
  /** opt-in departures from Keras (docs/keras.md) */
  readonly fixes?: Partial<KerasFixes>;
  /** a state saved from an earlier callback (`callback.state`, JSON), to keep `best` and the batch counter */
  readonly state?: unknown;
  /** records every decision as a dialect session line (see above) */
  readonly decisionLog?: LineRecorder;
}

/** A line as the sidecar reads it: NaN and the infinities as the strings the Keras dialect revives. */
const wire = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));

/** The callback's decisions as a session of the sidecar's Keras dialect: its lines and answers, recorded. */
class SessionRecord {
  private state: KerasState | null = null;
  private line = 0;
  constructor(private readonly recorder: LineRecorder) {}
  record(input: unknown): void {
    const text = wire(input);
    const [next, answer] = answerLine(kerasDialect, this.state, ++this.line, text);
    this.recorder.line(this.line, text, answer);
    this.state = next;
  }
}

/** An exception Keras's callback would raise, with its Python class. */
export class KerasCallbackError extends Error {
  constructor(readonly error: PyError) {
    super(`${error.type}: ${error.message}`);
    this.name = 'KerasCallbackError';
  }
}

/** tfjs metric names whose direction Keras's metric classes declare (`_direction`); others are unknown, as in Keras. */
const UP = /^(acc|accuracy|binary_?accuracy|categorical_?accuracy|sparse_?categorical_?accuracy|precision|recall|auc|cosine(_?proximity)?)$/i;
const DOWN = /^(mse|mae|mape|msle|mean_?squared_?error|mean_?absolute_?error|mean_?absolute_?percentage_?error|.*crossentropy|hinge|squared_?hinge)$/i;

/** The compiled metrics of a tfjs model, as mode='auto' reads them (the loss is not one of them). */
export function tfjsCompiledMetrics(model: tf.LayersModel): CompiledMetric[] {
  const names = (model.metricsNames ?? []).filter((n) => n !== 'loss' && !n.endsWith('_loss'));
  return names.map((name) => ({ name, direction: UP.test(name) ? 'up' : DOWN.test(name) ? 'down' : null }));
}

async function resolveLogs(logs: tf.Logs | undefined): Promise<Logs> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(logs ?? {})) {
    if (k === 'batch' || k === 'size') continue;
    if (typeof v === 'number') out[k] = v;
    else if (v && typeof (v as tf.Scalar).data === 'function') out[k] = (await (v as tf.Scalar).data())[0]!;
  }
  return out;
}

export class KerasModelCheckpoint extends tf.Callback {
  private current: KerasState;
  private readonly store: CheckpointStore;
  private readonly log: (level: 'print' | 'warning', message: string) => void;
  /** the keys written, in order (a key written twice appears twice: Keras overwrites) */
  readonly saved: string[] = [];
  private readonly session: SessionRecord | null;

  constructor(options: KerasOptions | KerasCamelOptions, runtime: KerasTfjsOptions) {
    super();
    const c = parseOptions(options);
    const log = runtime.log ?? ((level, m) => (level === 'print' ? console.log(m) : console.warn(m)));
    for (const m of c.messages) log(m.level, m.message);
    if (c._tag === 'ConstructionFailed') throw new KerasCallbackError(c.error);
    this.current = runtime.state !== undefined ? decodeState(runtime.state) : init(c, runtime.fixes)[0];
    this.store = runtime.store;
    this.log = log;
    this.session = runtime.decisionLog ? new SessionRecord(runtime.decisionLog) : null;
    this.session?.record({ type: 'init', options, ...(runtime.fixes !== undefined ? { fixes: runtime.fixes } : {}) });
    if (runtime.state !== undefined) this.session?.record({ type: 'resume', state: runtime.state });
  }

  /** The dialect's state (JSON through encodeState): `best`, `monitorOp`, the batch counter. */
  get state(): KerasState {
    return this.current;
  }

  private async dispatch(event: KerasEvent): Promise<void> {
    const queue: KerasEvent[] = [event];
    for (let ev = queue.shift(); ev; ev = queue.shift()) {
      const [next, effects] = reduce(this.current, ev);
      this.current = next;
      this.session?.record(ev);
      for (const e of effects) {
        const outcome = await this.perform(e);
        if (outcome) queue.push(outcome);
      }
    }
  }

  private async perform(e: KerasEffect): Promise<KerasEvent | null> {
    switch (e._tag) {
      case 'Print':
        this.log('print', e.message);
        return null;
      case 'Warn':
        this.log('warning', e.message);
        return null;
      case 'NotSaved':
        return null;
      case 'Raise':
        throw new KerasCallbackError(e.error);
      case 'Save':
        try {
          await this.store.save(e.filepath, await captureTfjsModel(this.model as tf.LayersModel, { weightsOnly: e.weightsOnly }));
          this.saved.push(e.filepath);
          return { _tag: 'SaveCompleted' };
        } catch (err) {
          return { _tag: 'SaveFailed', error: { type: 'OSError', message: (err as Error).message } };
        }
    }
  }

  override async onTrainBegin(): Promise<void> {
    await this.dispatch({ _tag: 'TrainBegan' });
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    await this.dispatch({ _tag: 'EpochBegan', epoch });
  }

  override async onBatchEnd(batch: number, logs?: tf.Logs): Promise<void> {
    await this.dispatch({ _tag: 'TrainBatchEnded', batch, logs: await resolveLogs(logs), metrics: tfjsCompiledMetrics(this.model as tf.LayersModel) });
  }

  override async onEpochEnd(epoch: number, logs?: tf.Logs): Promise<void> {
    await this.dispatch({ _tag: 'EpochEnded', epoch, logs: await resolveLogs(logs), metrics: tfjsCompiledMetrics(this.model as tf.LayersModel) });
  }

  override async onTrainEnd(logs?: tf.Logs): Promise<void> {
    await this.dispatch({ _tag: 'TrainEnded', logs: await resolveLogs(logs) });
  }
}

/** `tf.callbacks.earlyStopping`'s sibling: a Keras-style checkpoint callback. */
export function modelCheckpoint(options: KerasOptions | KerasCamelOptions, runtime: KerasTfjsOptions): KerasModelCheckpoint {
  return new KerasModelCheckpoint(options, runtime);
}
