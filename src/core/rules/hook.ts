/**
 * One hook call's working context: the event's view of the loop, the config and its derived
 * triggers, a private draft of the state, and what the call has produced so far (effects, notes).
 *
 * Rules (src/core/rules/save, src/core/rules/keep) are functions over their own slice of the
 * draft. The draft is written in Lightning's order on purpose: when Lightning raises halfway
 * through a hook, the attributes it had already changed stay changed, and `Raised` ends the call
 * with the draft as it was at that point.
 */
import { triggers, type PolicyConfig, type Triggers } from '../config.ts';
import type { Effect } from '../effects.ts';
import type { LoopView } from '../events.ts';
import type { PyValue } from '../format/pyformat.ts';
import type { Note } from '../notes.ts';
import type { PolicyState, ResolvedTrainer } from '../state.ts';

/** A Python exception raised by the callback: ends the hook. */
export class Raised {
  constructor(readonly errorType: string, readonly message: string) {}
}

export type Draft = { -readonly [K in keyof PolicyState]: PolicyState[K] };
export type Candidates = Map<string, PyValue>;

const TRIGGERS = new WeakMap<PolicyConfig, Triggers>();
/** The derived triggers of a config, computed once per config object (the reducer runs per event). */
export function triggersOf(config: PolicyConfig): Triggers {
  let tr = TRIGGERS.get(config);
  if (tr === undefined) TRIGGERS.set(config, (tr = triggers(config)));
  return tr;
}

export const NO_VIEW: LoopView = { epoch: 0, globalStep: 0 };

export interface Hook {
  readonly s: Draft;
  readonly c: PolicyConfig;
  readonly tr: Triggers;
  readonly view: LoopView;
  readonly effects: Effect[];
  readonly notes: Note[];
  /** version-counter notes, appended after the hook's other notes */
  readonly bumps: Note[];
  memo: Candidates | null;
}

export function openHook(state: PolicyState, view: LoopView): Hook {
  return { s: draftOf(state), c: state.config, tr: triggersOf(state.config), view, effects: [], notes: [], bumps: [], memo: null };
}

/**
 * A copy of the state to write on. Field by field rather than `{ ...state }`: one object shape
 * for every state, built in a few nanoseconds (the spread was a third of a non-saving event).
 * The Draft type makes a field added to PolicyState a compile error here until it is copied.
 */
function draftOf(s: PolicyState): Draft {
  return {
    config: s.config,
    cwd: s.cwd,
    dirpath: s.dirpath,
    bestModelPath: s.bestModelPath,
    bestModelScore: s.bestModelScore,
    currentScore: s.currentScore,
    bestKModels: s.bestKModels,
    kthBestModelPath: s.kthBestModelPath,
    kthValue: s.kthValue,
    lastModelPath: s.lastModelPath,
    lastGlobalStepSaved: s.lastGlobalStepSaved,
    lastCheckpointSaved: s.lastCheckpointSaved,
    deferSaveUntilValidation: s.deferSaveUntilValidation,
    lastTimeChecked: s.lastTimeChecked,
    trainer: s.trainer,
    files: s.files,
    warned: s.warned,
    extremaTracked: s.extremaTracked,
    keep: s.keep,
  };
}

export function trainerOf(h: Hook): ResolvedTrainer {
  if (h.s.trainer === null) throw new Raised('RuntimeError', 'ckpt-policy: a loop event arrived before setup; send a setup event first');
  return h.s.trainer;
}

export function warn(h: Hook, message: string) {
  h.effects.push({ type: 'log', level: 'warning', message, category: 'UserWarning' });
}

export function log(h: Hook, level: 'debug' | 'info', message: string) {
  h.effects.push({ type: 'log', level, message });
}

/** `_monitor_candidates`: callback_metrics (float32) with epoch/step as ints, appended unless logged. */
export function candidates(h: Hook): Candidates {
  if (h.memo) return h.memo;
  const m: Candidates = new Map();
  const metrics = h.view.metrics ?? {};
  for (const name in metrics) m.set(name, { type: 'float', value: Math.fround(metrics[name]!) });
  const epoch = m.get('epoch');
  m.set('epoch', { type: 'int', value: epoch ? toInt32(epoch.value) : h.view.epoch });
  const step = m.get('step');
  m.set('step', { type: 'int', value: step ? toInt32(step.value) : h.view.globalStep });
  h.memo = m;
  return m;
}

/**
 * One candidate, without building the whole map while nothing else asked for it: a non-saving
 * event reads only the monitor, epoch and step (the map is for file names).
 */
export function candidate(h: Hook, name: string): PyValue | undefined {
  if (h.memo) return h.memo.get(name);
  if (name === 'epoch' || name === 'step') {
    const es = epochStep(h);
    return { type: 'int', value: name === 'epoch' ? es.epoch : es.step };
  }
  const metrics = h.view.metrics;
  return metrics !== undefined && Object.hasOwn(metrics, name) ? { type: 'float', value: Math.fround(metrics[name]!) } : undefined;
}

/**
 * The candidates as a file name template reads them: `get`/`has` answer from the event without
 * building the map (a saving event formats one name or more); anything else builds it.
 */
export class CandidateView implements ReadonlyMap<string, PyValue> {
  constructor(private readonly h: Hook) {}
  get(name: string): PyValue | undefined {
    return candidate(this.h, name);
  }
  has(name: string): boolean {
    return candidate(this.h, name) !== undefined;
  }
  get size(): number {
    return candidates(this.h).size;
  }
  forEach(fn: (value: PyValue, key: string, map: ReadonlyMap<string, PyValue>) => void): void {
    candidates(this.h).forEach((v, k) => fn(v, k, this));
  }
  entries(): MapIterator<[string, PyValue]> {
    return candidates(this.h).entries();
  }
  keys(): MapIterator<string> {
    return candidates(this.h).keys();
  }
  values(): MapIterator<PyValue> {
    return candidates(this.h).values();
  }
  [Symbol.iterator](): MapIterator<[string, PyValue]> {
    return candidates(this.h)[Symbol.iterator]();
  }
}

export function epochStep(h: Hook): { epoch: number; step: number } {
  if (h.memo) return { epoch: h.memo.get('epoch')!.value, step: h.memo.get('step')!.value };
  const m = h.view.metrics;
  const epoch = m !== undefined && Object.hasOwn(m, 'epoch') ? toInt32(Math.fround(m['epoch']!)) : h.view.epoch;
  const step = m !== undefined && Object.hasOwn(m, 'step') ? toInt32(Math.fround(m['step']!)) : h.view.globalStep;
  return { epoch, step };
}

export function sum(xs: readonly number[] | undefined): number {
  let total = 0;
  for (const x of xs ?? []) total += x;
  return total;
}

/** torch's float -> int32 conversion (`.int()`): truncation; NaN and overflow give INT32_MIN on x86. */
export function toInt32(x: number): number {
  const v = Math.trunc(x);
  return Number.isFinite(v) && v >= -2147483648 && v <= 2147483647 ? v : -2147483648;
}
