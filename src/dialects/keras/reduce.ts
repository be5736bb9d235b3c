/**
 * Keras 3.15's ModelCheckpoint as a pure reducer: `init(construction)` and
 * `reduce(state, event) => [state, effects]`. No I/O: a save is an effect whose outcome comes back
 * as an event (SaveCompleted / SaveFailed), the way the callback's `model.save` returns or raises.
 *
 * The hooks: `on_epoch_begin` records the epoch; `on_train_batch_end` runs the integer save_freq
 * counter (rules/saveFreq.ts) and saves when it is due; `on_epoch_end` resolves `monitor_op` once
 * (rules/monitorOp.ts), then saves when save_freq is 'epoch'. A save formats the path first
 * (rules/filepath.ts), then decides (rules/saveDecision.ts), then writes.
 */
import type { Construction, PyError } from './options.ts';
import { saveFreqBatches } from './options.ts';
import { messageEffect, saveFormat, type KerasEffect } from './effects.ts';
import type { KerasEvent } from './events.ts';
import { NO_FIXES, type KerasFixes, type KerasState } from './state.ts';
import { formatFilepath } from './rules/filepath.ts';
import { resolveMonitorOp, type CompiledMetric } from './rules/monitorOp.ts';
import { decideSave } from './rules/saveDecision.ts';
import { checkBatch } from './rules/saveFreq.ts';
import { verboseOn } from './rules/verbose.ts';
import type { Logs } from './values.ts';

export type Step = [state: KerasState, effects: KerasEffect[]];

/** The state of a constructed callback, with its constructor's warnings as effects. */
export function init(c: Extract<Construction, { _tag: 'Constructed' }>, fixes: Partial<KerasFixes> = {}): Step {
  const state: KerasState = {
    config: c.config,
    fixes: { ...NO_FIXES, ...fixes },
    best: c.initialBest,
    monitorOp: null,
    batchesSeenSinceLastSaving: 0,
    lastBatchSeen: null,
    currentEpoch: null,
    pending: null,
  };
  return [state, c.messages.map(messageEffect)];
}

const raise = (state: KerasState, error: PyError, before: KerasEffect[] = []): Step => [state, [...before, { _tag: 'Raise', error }]];

function save(state: KerasState, epoch: number, batch: number | null, logs: Logs): Step {
  const filepath = formatFilepath(state.config.filepath, epoch, batch, logs);
  if (typeof filepath !== 'string') return raise(state, filepath);
  const d = decideSave({ config: state.config, best: state.best, monitorOp: state.monitorOp, epoch, logs, filepath, nanSafe: state.fixes.nanSafeBest });
  const messages = d.messages.map(messageEffect);
  switch (d._tag) {
    case 'Fail':
      return raise(state, d.error, messages);
    case 'Skip':
      return [state, [...messages, { _tag: 'NotSaved', epoch, batch, reason: d.reason }]];
    case 'Save': {
      const weightsOnly = state.config.save_weights_only;
      const effect: KerasEffect = { _tag: 'Save', filepath, weightsOnly, format: saveFormat(filepath, weightsOnly), epoch, batch, reason: d.reason };
      return [{ ...state, best: d.best, pending: { filepath, epoch } }, [...messages, effect]];
    }
  }
}

/** MonitorCallback._set_monitor_op, if not done yet. */
function withMonitorOp(state: KerasState, metrics: readonly CompiledMetric[] | undefined): KerasState | PyError {
  if (state.monitorOp !== null) return state;
  const op = resolveMonitorOp(state.config, metrics ?? []);
  return typeof op === 'string' ? { ...state, monitorOp: op } : op;
}

/** What the callback did with the outcome of its write. */
function saveOutcome(state: KerasState, error: PyError | null): Step {
  const pending = state.pending;
  if (pending === null) throw new Error(`a save outcome arrived with no save pending (${error === null ? 'SaveCompleted' : 'SaveFailed'})`);
  const next = { ...state, pending: null };
  if (error !== null) {
    if (error.type === 'IsADirectoryError') {
      return raise(next, { type: 'OSError', message: `Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an existing directory: ${pending.filepath}` });
    }
    // Keras's h5py 2.x branch: an IOError whose first argument says "is a directory" (its text has a stray 'f')
    if (isOSError(error.type) && !error.message.startsWith('[Errno') && error.message.toLowerCase().includes('is a directory')) {
      return raise(next, { type: 'OSError', message: `Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an existing directory: f${pending.filepath}` });
    }
    return raise(next, error);
  }
  const v = verboseOn(state.config.verbose);
  if (typeof v !== 'boolean') return raise(next, v);
  return [next, v ? [{ _tag: 'Print', message: `\nEpoch ${pending.epoch + 1}: finished saving model to ${pending.filepath}` }] : []];
}

const OS_ERRORS = new Set(['OSError', 'IOError', 'FileNotFoundError', 'FileExistsError', 'NotADirectoryError', 'IsADirectoryError', 'PermissionError', 'BlockingIOError', 'InterruptedError']);
const isOSError = (type: string) => OS_ERRORS.has(type);

export function reduce(state: KerasState, event: KerasEvent): Step {
  if (state.pending !== null && event._tag !== 'SaveCompleted' && event._tag !== 'SaveFailed') {
    throw new Error(`${event._tag} arrived while the save of ${state.pending.filepath} awaits SaveCompleted or SaveFailed`);
  }
  switch (event._tag) {
    case 'TrainBegan':
    case 'TrainEnded':
      return [state, []];
    case 'EpochBegan':
      return [{ ...state, currentEpoch: event.epoch }, []];
    case 'TrainBatchEnded': {
      const every = saveFreqBatches(state.config.save_freq);
      if (every === 'epoch') return [state, []];
      const check = checkBatch(state, event.batch, every);
      let next: KerasState = { ...state, ...check.counter };
      if (!check.due) return [next, []];
      const epoch = next.currentEpoch;
      if (epoch === null) return raise(next, { type: 'AttributeError', message: "'ModelCheckpoint' object has no attribute '_current_epoch'" });
      // the opt-in fix: resolve the mode where Keras would call a still-unset monitor_op
      if (next.fixes.batchMonitorOp && next.config.save_best_only && next.best !== null && next.monitorOp === null) {
        const resolved = withMonitorOp(next, event.metrics);
        if (!('config' in resolved)) return raise(next, resolved);
        next = resolved;
      }
      return save(next, epoch, event.batch, event.logs);
    }
    case 'EpochEnded': {
      const resolved = withMonitorOp(state, event.metrics);
      if (!('config' in resolved)) return raise(state, resolved);
      if (resolved.config.save_freq !== 'epoch') return [resolved, []];
      return save(resolved, event.epoch, null, event.logs);
    }
    case 'SaveCompleted':
      return saveOutcome(state, null);
    case 'SaveFailed':
      return saveOutcome(state, event.error);
  }
}
