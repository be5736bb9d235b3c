/**
 * Replays a scenario recorded from Keras 3's ModelCheckpoint (test/fixtures/conformance/keras-*)
 * through the dialect and reports the first difference: the constructor's outcome, then per hook
 * the file operations in order, the messages, the error and the state; the files after each `fit`.
 *
 * The dialect is pure, so the replay is also its interpreter: a virtual filesystem (the scenario
 * root, with POSIX path resolution for `..`) performs each Save effect as Python would (makedirs
 * of a missing parent directory, then the write, or the OSError it raises) and answers with the
 * outcome event. `<root>` in the trace stands for the absolute scenario root; it is used as is.
 */
import { isDeepStrictEqual } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { pyStrRepr } from '../../core/format/pyformat.ts';
import { describeDifference, type Difference } from '../../conformance/replay.ts';
import type { ConformanceSet } from '../../conformance/sets.ts';
import type { KerasEffect } from './effects.ts';
import type { KerasEvent } from './events.ts';
import { construct, decodeOptions, type PyError } from './options.ts';
import { init } from './reduce.ts';
import { settle } from './settle.ts';
import type { CompiledMetric } from './rules/monitorOp.ts';
import type { KerasState } from './state.ts';
import type { LogValue, Logs } from './values.ts';

// ---- trace records (the fields the replay reads) ---------------------------------------------

interface TMetric { readonly role?: string; readonly name: string; readonly direction?: 'up' | 'down' | null; readonly metrics?: readonly TMetric[] }
interface THook {
  readonly hook: 'on_train_begin' | 'on_epoch_begin' | 'on_train_batch_end' | 'on_epoch_end' | 'on_train_end';
  readonly epoch?: number;
  readonly batch?: number;
  readonly logs: Record<string, unknown>;
  readonly ops: readonly Record<string, unknown>[];
  readonly messages: readonly unknown[];
  readonly error?: unknown;
  readonly state?: unknown;
}
interface TPhase {
  readonly callback: 'new' | 'same';
  readonly kwargs?: Record<string, unknown>;
  readonly init?: { readonly messages: readonly unknown[]; readonly error?: unknown; readonly config?: unknown; readonly state?: unknown };
  readonly hooks: readonly THook[];
  readonly files_after: readonly unknown[];
}
export interface KerasScenario {
  readonly id: string;
  readonly preexisting: readonly { readonly path: string; readonly kind: 'file' | 'dir' }[];
  readonly model: { readonly metrics: readonly TMetric[] };
  readonly phases: readonly TPhase[];
}

export function parseKerasScenarios(text: string, file: string): KerasScenario[] {
  return text
    .split('\n')
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, n]) => {
      try {
        return JSON.parse(line) as KerasScenario;
      } catch (e) {
        throw new Error(`${file}:${n}: not a JSON scenario (${(e as Error).message})`);
      }
    });
}

// ---- decoding the trace's values ---------------------------------------------------------------

const num = (v: unknown): number => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : (v as number));

function decodeLogs(logs: Record<string, unknown>): Logs {
  const out: Record<string, LogValue> = {};
  for (const [k, v] of Object.entries(logs)) {
    if (typeof v === 'object' && v !== null && 'ndarray' in v) {
      const a = v as { ndarray: unknown[]; dtype: string; shape: number[] };
      out[k] = { ndarray: a.ndarray.map(num), dtype: a.dtype, shape: a.shape };
    } else out[k] = num(v);
  }
  return out;
}

/** The leaves of CompileMetrics / MetricsList: what mode='auto' consults. */
export function compiledMetrics(metrics: readonly TMetric[]): CompiledMetric[] {
  return metrics.flatMap((m) => (m.metrics ? m.metrics.map((x) => ({ name: x.name, direction: x.direction ?? null })) : []));
}

const encodeNum = (n: number | null) => (n === null ? null : Number.isNaN(n) ? 'NaN' : n === Infinity ? 'Infinity' : n === -Infinity ? '-Infinity' : n);

/** The state as the traces record it. */
export function stateSnapshot(s: KerasState): unknown {
  return {
    best: encodeNum(s.best),
    monitor_op: s.monitorOp,
    min_delta: 0,
    batches_seen_since_last_saving: s.batchesSeenSinceLastSaving,
    last_batch_seen: s.lastBatchSeen,
    current_epoch: s.currentEpoch,
  };
}

// ---- a virtual filesystem with Python's semantics ------------------------------------------------

type Entry = { readonly kind: 'dir' } | { readonly kind: 'file'; readonly writtenBy?: { readonly phase: number; readonly hook: number } };

const ROOT = '<root>';

class Fs {
  readonly entries = new Map<string, Entry>(); // root-relative normalised path -> entry ('' is the root)

  constructor(preexisting: KerasScenario['preexisting']) {
    this.entries.set('', { kind: 'dir' });
    for (const p of preexisting) {
      const parts = p.path.split('/');
      for (let i = 1; i < parts.length; i++) this.entries.set(parts.slice(0, i).join('/'), { kind: 'dir' });
      this.entries.set(p.path, { kind: p.kind });
    }
  }

  /** Components of a path, relative to the root ('<root>/x' is absolute inside the root). */
  private parts(p: string): string[] {
    if (p === ROOT || p.startsWith(ROOT + '/')) p = p.slice(ROOT.length);
    else if (p.startsWith('/')) throw new Error(`not supported in the replay: an absolute path outside the scenario root (${p})`);
    return p.split('/').filter((c) => c !== '' && c !== '.');
  }

  /** Walks like the kernel: each step but the last must be an existing directory. */
  private walk(parts: readonly string[]): { at: string[]; missing: boolean; notDir: boolean } {
    const at: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const here = this.entries.get(at.join('/'));
      if (here === undefined) return { at, missing: true, notDir: false };
      if (here.kind !== 'dir') return { at, missing: false, notDir: true };
      const c = parts[i]!;
      if (c === '..') at.pop();
      else at.push(c);
    }
    return { at, missing: !this.entries.has(at.join('/')), notDir: false };
  }

  private stat(p: string): Entry | undefined {
    const w = this.walk(this.parts(p));
    return w.missing || w.notDir ? undefined : this.entries.get(w.at.join('/'));
  }

  exists = (p: string) => this.stat(p) !== undefined;

  /** os.mkdir: the created directory, or the errno class it raises. */
  private mkdir(p: string): string | { error: string } {
    const parts = this.parts(p);
    const parent = this.walk(parts.slice(0, -1));
    if (parent.missing) return { error: 'FileNotFoundError' };
    if (parent.notDir || this.entries.get(parent.at.join('/'))?.kind !== 'dir') return { error: 'NotADirectoryError' };
    const last = parts[parts.length - 1];
    if (last === undefined || last === '..' || this.entries.has([...parent.at, last].join('/'))) return { error: 'FileExistsError' };
    const made = [...parent.at, last].join('/');
    this.entries.set(made, { kind: 'dir' });
    return made;
  }

  /** os.makedirs(p, exist_ok=True): the directories it created, or the errno class it raised. */
  makedirs(p: string, created: string[] = []): string[] | { error: string } {
    let slash = p.replace(/\/+$/, '').lastIndexOf('/');
    const head = slash < 0 ? '' : p.slice(0, slash).replace(/\/+$/, '') || '/';
    const tail = p.replace(/\/+$/, '').slice(slash + 1);
    if (head && tail && !this.exists(head)) {
      const r = this.makedirs(head, created);
      if ('error' in r && r.error !== 'FileExistsError') return r;
      if (tail === '.') return created;
    }
    const r = this.mkdir(p);
    if (typeof r === 'string') created.push(r);
    else if (this.stat(p)?.kind !== 'dir') return r;
    return created;
  }

  /** open(p, 'wb'): whether it replaced a file, or the errno class. */
  write(p: string, writtenBy: { phase: number; hook: number }): boolean | { error: string } {
    const parts = this.parts(p);
    const parent = this.walk(parts.slice(0, -1));
    if (parent.missing) return { error: 'FileNotFoundError' };
    if (parent.notDir || this.entries.get(parent.at.join('/'))?.kind !== 'dir') return { error: 'NotADirectoryError' };
    const target = parts[parts.length - 1] === '..' ? parent.at.slice(0, -1).join('/') : [...parent.at, parts[parts.length - 1]].join('/');
    const existing = this.entries.get(target);
    if (existing?.kind === 'dir') return { error: 'IsADirectoryError' };
    this.entries.set(target, { kind: 'file', writtenBy });
    return existing !== undefined;
  }

  /** Lexical normalisation, root-relative (the traces' `path`). */
  norm(p: string): string {
    const out: string[] = [];
    for (const c of this.parts(p)) {
      if (c === '..') out.pop();
      else out.push(c);
    }
    return out.join('/') || '.';
  }

  listing(): unknown[] {
    const paths = [...this.entries.keys()].filter((p) => p !== '').sort();
    return paths
      .filter((p) => this.entries.get(p)!.kind === 'file' || !paths.some((q) => q.startsWith(p + '/')))
      .map((p) => {
        const e = this.entries.get(p)!;
        return e.kind === 'dir' ? { path: p, kind: 'dir' } : e.writtenBy ? { path: p, kind: 'file', written_by: e.writtenBy } : { path: p, kind: 'file' };
      });
  }
}

const ERRNO: Record<string, [number, string]> = {
  NotADirectoryError: [20, 'Not a directory'],
  IsADirectoryError: [21, 'Is a directory'],
  FileNotFoundError: [2, 'No such file or directory'],
  FileExistsError: [17, 'File exists'],
};
const osError = (type: string, path: string): PyError => ({ type, message: `[Errno ${ERRNO[type]![0]}] ${ERRNO[type]![1]}: ${pyStrRepr(path)}` });

/** Performs one Save effect: the trace ops it makes and the outcome event. */
function perform(fs: Fs, e: Extract<KerasEffect, { _tag: 'Save' }>, writtenBy: { phase: number; hook: number }): { ops: unknown[]; outcome: KerasEvent } {
  const ops: unknown[] = [];
  const slash = e.filepath.lastIndexOf('/');
  const dirname = slash < 0 ? '' : e.filepath.slice(0, slash).replace(/\/+$/, '') || '/';
  if (dirname && !fs.exists(dirname)) {
    const made = fs.makedirs(dirname);
    if ('error' in made) {
      ops.push({ op: 'makedirs', path: fs.norm(dirname), created: [], failed: made.error });
      return { ops, outcome: { _tag: 'SaveFailed', error: osError(made.error, dirname) } };
    }
    ops.push({ op: 'makedirs', path: fs.norm(dirname), created: [...made].sort() });
  }
  const path = fs.norm(e.filepath);
  const op: Record<string, unknown> = { op: 'save', path, weights_only: e.weightsOnly, format: e.format };
  if (e.filepath !== path) op['filepath'] = e.filepath;
  const r = fs.write(e.filepath, writtenBy);
  if (typeof r === 'object') {
    ops.push({ ...op, failed: r.error });
    return { ops, outcome: { _tag: 'SaveFailed', error: osError(r.error, e.filepath) } };
  }
  ops.push({ ...op, overwrote: r });
  return { ops, outcome: { _tag: 'SaveCompleted' } };
}

// ---- replay -----------------------------------------------------------------------------------

interface HookResult { ops: unknown[]; messages: unknown[]; error: PyError | undefined }

function runEvent(state: KerasState, event: KerasEvent, fs: Fs, writtenBy: { phase: number; hook: number }): [KerasState, HookResult] {
  const out: HookResult = { ops: [], messages: [], error: undefined };
  const next = settle(state, event, (e) => {
    switch (e._tag) {
      case 'Print':
        out.messages.push({ level: 'print', message: e.message });
        return null;
      case 'Warn':
        out.messages.push({ level: 'warning', category: e.category, message: e.message });
        return null;
      case 'Save': {
        const r = perform(fs, e, writtenBy);
        out.ops.push(...r.ops);
        return r.outcome;
      }
      case 'Raise':
        out.error = e.error;
        return null;
      case 'NotSaved':
        return null;
    }
  });
  return [next, out];
}

function toEvent(h: THook, metrics: readonly CompiledMetric[]): KerasEvent {
  const logs = decodeLogs(h.logs);
  switch (h.hook) {
    case 'on_train_begin':
      return { _tag: 'TrainBegan' };
    case 'on_epoch_begin':
      return { _tag: 'EpochBegan', epoch: h.epoch! };
    case 'on_train_batch_end':
      return { _tag: 'TrainBatchEnded', batch: h.batch!, logs };
    case 'on_epoch_end':
      return { _tag: 'EpochEnded', epoch: h.epoch!, logs, metrics: [...metrics] };
    case 'on_train_end':
      return { _tag: 'TrainEnded', logs };
  }
}

const errorRecord = (e: PyError | undefined) => (e === undefined ? undefined : e.str === undefined ? { type: e.type, message: e.message } : { ...e });

/** The first difference between the dialect and the recording, or null. */
export function replayKerasScenario(s: KerasScenario): Difference | null {
  const fs = new Fs(s.preexisting);
  const metrics = compiledMetrics(s.model.metrics);
  let state: KerasState | null = null;
  let snapshot: unknown = null;
  for (const [p, phase] of s.phases.entries()) {
    const diff = (hook: Difference['hook'], field: string, expected: unknown, actual: unknown, hookName?: string): Difference | null =>
      isDeepStrictEqual(expected, actual) ? null : { phase: p, hook, field, expected, actual, ...(hookName ? { hookName } : {}) };
    if (phase.callback === 'new') {
      const decoded = decodeOptions(phase.kwargs ?? {});
      if (E.isLeft(decoded)) return { phase: p, hook: 'init', field: 'kwargs', expected: phase.kwargs, actual: decoded.left.map((i) => i.message) };
      const c = construct(decoded.right);
      const messages = c.messages;
      const d =
        diff('init', 'messages', phase.init?.messages, messages) ??
        diff('init', 'error', phase.init?.error, c._tag === 'ConstructionFailed' ? c.error : undefined) ??
        (c._tag === 'Constructed' ? diff('init', 'config', phase.init?.config, c.config) : null);
      if (d) return d;
      if (c._tag === 'ConstructionFailed') {
        state = null;
        const end = diff('end', 'files_after', phase.files_after, fs.listing());
        if (end) return end;
        continue;
      }
      [state] = init(c);
      snapshot = stateSnapshot(state);
      const ds = diff('init', 'state', phase.init?.state, snapshot);
      if (ds) return ds;
    }
    if (state === null) return { phase: p, hook: 'init', field: 'callback', expected: 'an instance from an earlier phase', actual: null };
    for (const [i, h] of phase.hooks.entries()) {
      const [next, out] = runEvent(state, toEvent(h, metrics), fs, { phase: p, hook: i });
      state = next;
      if (h.state !== undefined) snapshot = h.state;
      const d =
        diff(i, 'ops', h.ops, out.ops, h.hook) ??
        diff(i, 'messages', h.messages, out.messages, h.hook) ??
        diff(i, 'error', h.error, errorRecord(out.error), h.hook) ??
        diff(i, 'state', snapshot, stateSnapshot(state), h.hook);
      if (d) return d;
    }
    const end = diff('end', 'files_after', phase.files_after, fs.listing());
    if (end) return end;
  }
  return null;
}

/** The Keras set for `ckpt conformance` (registered in src/conformance/sets.ts under the manifest key `keras`). */
export const kerasConformance: ConformanceSet = {
  title: 'Keras 3 ModelCheckpoint',
  replayFile: (text, file) =>
    parseKerasScenarios(text, file).map((s) => {
      let d: Difference | null;
      try {
        d = replayKerasScenario(s);
      } catch (e) {
        return { id: s.id, failure: `the replay threw: ${(e as Error).message}` };
      }
      return { id: s.id, failure: d === null ? null : describeDifference(d) };
    }),
};
