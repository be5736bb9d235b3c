/**
 * What a Keras `ModelCheckpoint(...)` would have written on a run you have the log of:
 * `simulateKerasLog(options, log)` drives the dialect's pure reducer with the log's epochs, in
 * Keras's hook order (on_train_begin; per epoch on_epoch_begin, on_epoch_end with the row's logs;
 * on_train_end), answering every Save as written. Keras overwrites and never deletes, so the
 * report says per epoch which file was written or overwritten, which file holds which epoch at the
 * end, the best monitored epoch, and (save_best_only) whether the last file written holds it.
 *
 * Undetermined rather than guessed: an integer `save_freq` (it counts batches; an epoch log has
 * none), and `mode='auto'` on a monitor whose name does not decide the direction
 * (rules/directionByName.ts) unless `mode` is given.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeOptions, construct, KerasOptionsError, type KerasConfig, type PyError } from './options.ts';
import { init } from './reduce.ts';
import { settle } from './settle.ts';
import type { KerasEvent } from './events.ts';
import type { KerasState, KerasFixes } from './state.ts';
import type { SaveReason, SkipReason } from './rules/saveDecision.ts';
import type { CompiledMetric, MonitorOp } from './rules/monitorOp.ts';
import { metricFromName } from './rules/directionByName.ts';
import type { KerasLog, LogPlace } from './log.ts';
import { isArray, logGet } from './values.ts';

export interface SimulateKerasOptions {
  /**
   * A log with several `fit` calls (CSVLogger `append=True`): one callback instance across them
   * (Keras keeps `best`; the same `ModelCheckpoint` passed to each `fit`, as in one script), or a
   * new instance per `fit` (a script run again: `best` starts from None). Default 'oneCallback'.
   */
  readonly fits?: 'oneCallback' | 'callbackPerFit';
  /** the dialect's opt-in fixes (docs/keras.md) */
  readonly fixes?: Partial<KerasFixes>;
}

export type EpochAction =
  | { readonly _tag: 'Wrote'; readonly filepath: string; readonly reason: SaveReason }
  /** the path was written before in this run: Keras replaces it */
  | { readonly _tag: 'Overwrote'; readonly filepath: string; readonly reason: SaveReason; readonly previous: { readonly fit: number; readonly epoch: number } }
  | { readonly _tag: 'NotSaved'; readonly reason: SkipReason };

export interface EpochOutcome {
  readonly fit: number;
  /** 0-based, as logged */
  readonly epoch: number;
  readonly at: LogPlace;
  /** the monitored value at this epoch (null: absent or not a number) */
  readonly value: number | null;
  readonly action: EpochAction;
}

export interface KeptFile {
  readonly filepath: string;
  /** the epoch whose model the file holds at the end (its last write) */
  readonly fit: number;
  readonly epoch: number;
  readonly value: number | null;
  readonly writes: number;
}

export type KerasSimulation =
  /** Keras's constructor raised (a bad suffix, save_freq): nothing runs */
  | { readonly _tag: 'ConstructionFailed'; readonly error: PyError }
  /** the log cannot tell: `what` names the option, `message` says why and what to give */
  | { readonly _tag: 'Undetermined'; readonly what: 'save_freq' | 'mode'; readonly message: string }
  | {
      readonly _tag: 'Simulated';
      readonly config: KerasConfig;
      /** the direction used, and where it came from */
      readonly monitorOp: MonitorOp | null;
      readonly modeFrom: 'given' | 'name';
      readonly fits: 'oneCallback' | 'callbackPerFit';
      readonly epochs: readonly EpochOutcome[];
      /** the files at the end, in the order first written (a Map update keeps its place) */
      readonly files: readonly KeptFile[];
      /** the best monitored epoch of the log (float32 comparison as Keras's, the earliest of ties; NaN never best) */
      readonly best: { readonly fit: number; readonly epoch: number; readonly value: number } | null;
      readonly lastWritten: KeptFile | null;
      /** save_best_only: whether the last file written holds a best epoch's value (null: not save_best_only, or nothing monitored) */
      readonly lastHoldsBest: boolean | null;
      /** Keras's warnings and printed lines, with the epoch they came at */
      readonly messages: readonly { readonly fit: number; readonly epoch: number | null; readonly level: 'print' | 'warning'; readonly message: string }[];
      /** Keras raised during the run (e.g. a filepath key missing from the logs): fit ended there */
      readonly stopped: { readonly fit: number; readonly epoch: number; readonly error: PyError } | null;
    };

const monitored = (logs: KerasLog['epochs'][number]['logs'], monitor: string | null): number | null => {
  if (monitor === null) return null;
  const v = logGet(logs, monitor);
  return v === undefined || isArray(v) ? null : v;
};

const better = (op: MonitorOp, a: number, b: number) => (op === 'less' ? Math.fround(a) < Math.fround(b) : Math.fround(a) > Math.fround(b));

/**
 * Simulates `ModelCheckpoint(**options)` on `log`. Options as Keras spells them (or camelCase);
 * a shape problem throws KerasOptionsError naming the field, the value and what is allowed.
 */
export function simulateKerasLog(options: unknown, log: KerasLog, opts: SimulateKerasOptions = {}): KerasSimulation {
  const decoded = decodeOptions(options);
  if (E.isLeft(decoded)) throw new KerasOptionsError(decoded.left);
  const c = construct(decoded.right);
  if (c._tag === 'ConstructionFailed') return { _tag: 'ConstructionFailed', error: c.error };
  const config = c.config;
  if (config.save_freq !== 'epoch') {
    return {
      _tag: 'Undetermined',
      what: 'save_freq',
      message: `save_freq=${String(config.save_freq)} saves every ${Number(config.save_freq)} batches, counted across epochs; an epoch log (${log.format}) holds no batches, so which batches saved cannot be determined. Simulate save_freq='epoch', or replay the batch logs through the reducer.`,
    };
  }
  let metrics: CompiledMetric[] = [];
  if (config.mode === 'auto' && config.monitor !== null) {
    const m = metricFromName(config.monitor);
    if (m === null) {
      return {
        _tag: 'Undetermined',
        what: 'mode',
        message: `mode='auto' with monitor='${config.monitor}': Keras takes the direction from the compiled metric object of that name, which a log does not record, and the name does not decide it. Give mode='min' or mode='max' (what Keras would have resolved).`,
      };
    }
    if (m !== 'loss') metrics = [{ name: m.name, direction: m.direction }];
  }
  const fits = opts.fits ?? 'oneCallback';
  const fresh = (): KerasState => init(c, opts.fixes)[0];
  const messages: Extract<KerasSimulation, { _tag: 'Simulated' }>['messages'][number][] = c.messages.map((m) => ({ fit: 0, epoch: null, level: m.level, message: m.message }));
  const epochs: EpochOutcome[] = [];
  const files = new Map<string, KeptFile>();
  let lastWritten: KeptFile | null = null;
  let stopped: { fit: number; epoch: number; error: PyError } | null = null;
  let state = fresh();
  let monitorOp: MonitorOp | null = null;

  /** Folds one hook, answering each Save as written; returns the epoch's action, or the exception. */
  const hook = (event: KerasEvent, fit: number, epoch: number | null): EpochAction | PyError | null => {
    let action: EpochAction | null = null;
    let raised: PyError | null = null;
    state = settle(state, event, (e) => {
      switch (e._tag) {
        case 'Print':
        case 'Warn':
          messages.push({ fit, epoch, level: e._tag === 'Print' ? 'print' : 'warning', message: e.message });
          return null;
        case 'Raise':
          raised = e.error;
          return 'stop';
        case 'NotSaved':
          action = { _tag: 'NotSaved', reason: e.reason };
          return null;
        case 'Save': {
          const before = files.get(e.filepath);
          action = before === undefined ? { _tag: 'Wrote', filepath: e.filepath, reason: e.reason } : { _tag: 'Overwrote', filepath: e.filepath, reason: e.reason, previous: { fit: before.fit, epoch: before.epoch } };
          return { _tag: 'SaveCompleted' };
        }
      }
    });
    if (raised !== null) return raised;
    return action;
  };

  let prevFit: number | null = null;
  run: for (const row of log.epochs) {
    if (row.fit !== prevFit) {
      if (prevFit !== null) hook({ _tag: 'TrainEnded', logs: {} }, prevFit, null);
      if (prevFit !== null && fits === 'callbackPerFit') state = fresh();
      hook({ _tag: 'TrainBegan' }, row.fit, null);
      prevFit = row.fit;
    }
    hook({ _tag: 'EpochBegan', epoch: row.epoch }, row.fit, row.epoch);
    const outcome = hook({ _tag: 'EpochEnded', epoch: row.epoch, logs: row.logs, metrics }, row.fit, row.epoch);
    monitorOp = state.monitorOp ?? monitorOp;
    if (outcome === null) throw new Error(`the Keras reducer decided nothing at epoch ${row.epoch} with save_freq='epoch'`);
    if (!('_tag' in outcome)) {
      stopped = { fit: row.fit, epoch: row.epoch, error: outcome };
      break run;
    }
    const value = monitored(row.logs, config.monitor);
    epochs.push({ fit: row.fit, epoch: row.epoch, at: row.at, value, action: outcome });
    if (outcome._tag !== 'NotSaved') {
      const kept: KeptFile = { filepath: outcome.filepath, fit: row.fit, epoch: row.epoch, value, writes: (files.get(outcome.filepath)?.writes ?? 0) + 1 };
      files.set(outcome.filepath, kept);
      lastWritten = kept;
    }
  }
  if (prevFit !== null && stopped === null) hook({ _tag: 'TrainEnded', logs: {} }, prevFit, null);

  let best: { fit: number; epoch: number; value: number } | null = null;
  if (monitorOp !== null) {
    for (const e of epochs) {
      if (e.value === null || Number.isNaN(e.value)) continue;
      if (best === null || better(monitorOp, e.value, best.value)) best = { fit: e.fit, epoch: e.epoch, value: e.value };
    }
  }
  const lastHoldsBest =
    !config.save_best_only || best === null ? null
    : lastWritten !== null && lastWritten.value !== null && Math.fround(lastWritten.value) === Math.fround(best.value);
  return {
    _tag: 'Simulated',
    config,
    monitorOp,
    modeFrom: config.mode === 'auto' ? 'name' : 'given',
    fits,
    epochs,
    files: [...files.values()],
    best,
    lastWritten,
    lastHoldsBest,
    messages,
    stopped,
  };
}
