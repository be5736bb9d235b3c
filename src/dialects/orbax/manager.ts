/**
 * Orbax's CheckpointManager as a pure reducer: `start` builds the state from the options and the
 * directory listing (Orbax's resume), `reduce(state, call)` answers one call. No I/O, no clock:
 * the time of each call arrives in it, and how long a write takes is part of the state (`clock`),
 * so asynchronous completions are derived, in order, at the next call that reaches them.
 *
 * Outputs are records in the shape the conformance traces use: the decision and its reasons, the
 * retention verdict per child policy, the directory operations in order, the kept steps, logs.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { CheckpointInfo, Metrics } from './checkpointInfo.ts';
import { lookupMetric } from './checkpointInfo.ts';
import { TMP_SUFFIX, buildName, formatRepr, parseStepName, sortEntries, type DirEntry, type NameFormat } from './directory.ts';
import { constructOptions, decodeOrbaxOptions, type InitError, type ResolvedOptions } from './options.ts';
import { NO_FIXES, spareJustWritten, unstick, type FixApplied, type OrbaxFixes } from './fixes.ts';
import { anyOf, shouldPreserve } from './preservation.ts';
import { append, build, planOf, removeAll, toRemove, type Plan, type RetentionIndex } from './retentionIndex.ts';
import { EMPTY_LIST, fromArray, hasStep, lastOf, push, toArray, withoutSteps, type CheckpointList, type Listed } from './checkpointList.ts';
import { SortedMap, stringOrder } from './sortedMap.ts';
import { errorRecord, PyError, pyError, type ErrorRecord } from './pyerror.ts';
import { pySortedIndices } from './pyvalue.ts';
import { leafIndexOf, shouldSaveAfter } from './saveDecision.ts';

// ---- model ---------------------------------------------------------------------------------

/** How long writes take: a synchronous save blocks `save_seconds`; an async one blocks, then completes. */
export type Clock =
  | { readonly save_seconds: number }
  | { readonly async_blocking_seconds: number; readonly async_write_seconds: number };

interface Inflight {
  readonly step: number;
  readonly name: string;
  readonly tDone: number;
  readonly toRemove: readonly number[];
  /** false when the save raised after starting the write: no finalize thread, in_progress stays set */
  readonly finalize: boolean;
}

export interface ManagerState {
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly root: string;
  /** the manager directory relative to the root, as entry paths start */
  readonly directory: string;
  readonly checkpoints: readonly CheckpointInfo[];
  readonly inProgress: boolean;
  readonly inflight: Inflight | null;
  readonly entries: readonly DirEntry[];
  /** seconds spent waiting since the last save, for Orbax's "Waiting for previous save" warning */
  readonly waitAccum: number;
  readonly missingMetricsLogged: boolean;
  /** the opt-in fixes of Orbax's checkpoint-losing behaviours (fixes.ts); none by default */
  readonly fixes: OrbaxFixes;
}

export type Op =
  | { op: 'save' | 'commit' | 'remove'; path: string; step?: number; t?: number; by?: 'background'; failed?: string }
  | { op: 'rename'; path: string; to: string; t?: number; by?: 'background' }
  | { op: 'blocked_until'; t_done: number; t: number };

export interface LogLine {
  level: 'info' | 'warning' | 'error' | 'user';
  message: string;
  thread?: string;
}

export interface Decision {
  latest_step: number | null;
  in_progress: boolean;
  preemption: boolean;
  checked?: 'read_only' | 'not_after_latest_step' | 'policy';
  policies?: Array<[number, boolean]>;
  result?: boolean;
  error?: ErrorRecord;
}

export interface Preservation {
  checkpoints: number[];
  remove?: number[];
  by_policy?: Array<number[] | { error: string }>;
}

export interface CallOutput {
  result: boolean | number | null;
  error?: ErrorRecord;
  decision?: Decision;
  preservation?: Preservation;
  ops: Op[];
  added?: CheckpointInfo;
  kept: number[];
  in_progress: boolean;
  checkpoints?: CheckpointInfo[];
  logs: LogLine[];
  t_end?: number;
  /** where an opt-in fix made this call differ from Orbax (absent when none did) */
  fixed?: FixApplied[];
}

export type Call =
  | { call: 'save'; step: number; t: number; metrics?: Metrics; force?: boolean; preempt?: boolean; fail_write?: string }
  | { call: 'should_save'; step: number; t: number; preempt?: boolean }
  | { call: 'wait_until_finished' | 'reload' | 'best_step' | 'latest_step' | 'close' | 'crash'; t: number }
  | { call: 'delete'; step: number; t: number };

export interface StartInput {
  readonly options: unknown;
  readonly clock: Clock;
  readonly t: number;
  /** the directory listing: entries under the root, as `preexisting` / `files_after` give them */
  readonly entries: readonly DirEntry[];
  /** the manager directory relative to the root (Orbax's `directory`) */
  readonly directory?: string;
  /** how logs name the root (the traces use `<root>`) */
  readonly rootLabel?: string;
  /** carried over from an earlier process of the same Python interpreter; false for a new process */
  readonly missingMetricsLogged?: boolean;
  /** opt-in fixes (fixes.ts): off unless named */
  readonly fixes?: OrbaxFixes;
}

export interface StartOutput {
  ops: Op[];
  kept: number[];
  in_progress: boolean;
  checkpoints: CheckpointInfo[];
  logs: LogLine[];
  error: (InitError | { stage: 'options'; type: 'OptionsError'; message: string }) | null;
}

// ---- helpers -------------------------------------------------------------------------------

const FORMATS = new WeakMap<ResolvedOptions, NameFormat>();
/** The step name format of the options, one object per options. */
const fmt = (s: ManagerState): NameFormat => {
  let f = FORMATS.get(s.options);
  if (f === undefined) FORMATS.set(s.options, (f = { prefix: s.options.stepPrefix, fixedLength: s.options.stepFormatFixedLength }));
  return f;
};
const dirLabel = (s: ManagerState): string => `${s.root}`;
/** The traces name an op's step when the path (less the temporary suffix) ends in a number. */
const stepOf = (name: string): number | undefined => {
  const base = name.endsWith(TMP_SUFFIX) ? name.slice(0, -TMP_SUFFIX.length) : name;
  const m = /-?\d+$/.exec(base);
  return m === null ? undefined : Number(m[0]);
};

/**
 * A state's data as persistent values (sortedMap.ts): the checkpoint list with its step lookup,
 * the retention index and the listing by path. A call derives its state's from the one it started
 * from in O(log n) per change, sharing the rest, so a save costs the same whatever the number of
 * checkpoints kept, and the state a call started from keeps answering the same (used twice, it
 * is as good as new). `checkpoints` and `entries` are built from these when first read.
 */
interface Internal {
  readonly list: CheckpointList;
  /** null when the policy or a kept metric needs the full evaluation (retentionIndex.ts) */
  readonly index: RetentionIndex | null;
  readonly entries: SortedMap<string, DirEntry>;
}
const INTERNAL = new WeakMap<ManagerState, Internal>();

function internalOf(s: ManagerState): Internal {
  const known = INTERNAL.get(s);
  if (known !== undefined) return known;
  // a state built elsewhere (a spread copy, a decoded one): indexed from its public fields once
  const [list, listed] = fromArray(s.checkpoints);
  const plan = planOf(s.options.preservation);
  let entries = SortedMap.empty<string, DirEntry>(stringOrder);
  // a path listed twice: the first counts, as a search of the sorted listing finds it
  for (const e of s.entries) if (!entries.has(e.path)) entries = entries.set(e.path, e);
  const made: Internal = { list, index: plan === null ? null : build(plan, listed), entries };
  INTERNAL.set(s, made);
  return made;
}

/**
 * A working copy for one call; the reducer returns a fresh frozen-by-convention state. Every
 * change makes new persistent values: the state the call started from is never touched.
 */
class Work {
  ops: Op[] = [];
  logs: LogLine[] = [];
  private es: SortedMap<string, DirEntry>;
  /**
   * This call's changes to single paths not yet in `es` (null: removed): a save's temporary entry,
   * put and committed in the same call, then never touches the tree (a few entries at most).
   */
  private readonly pending = new Map<string, DirEntry | null>();
  private list: CheckpointList;
  private index: RetentionIndex | null;
  private readonly plan: Plan | null;
  inProgress: boolean;
  inflight: Inflight | null;
  waitAccum: number;
  missingMetricsLogged: boolean;
  now: number;
  /** this call's save set in_progress (a raise after it leaves the flag stuck in Orbax) */
  markedInProgress = false;
  fixed: FixApplied[] = [];
  constructor(
    readonly s: ManagerState,
    readonly t: number,
    readonly dir: string,
  ) {
    const d = internalOf(s);
    this.es = d.entries;
    this.list = d.list;
    this.index = d.index;
    this.plan = planOf(s.options.preservation);
    this.inProgress = s.inProgress;
    this.inflight = s.inflight;
    this.waitAccum = s.waitAccum;
    this.missingMetricsLogged = s.missingMetricsLogged;
    this.now = t;
  }
  /** The listing, sorted by path (O(n): start and reload read it whole). */
  get entries(): readonly DirEntry[] {
    return this.settled().values();
  }
  /** The listing with this call's pending changes applied. */
  private settled(): SortedMap<string, DirEntry> {
    for (const [path, e] of this.pending) this.es = e === null ? this.es.delete(path) : this.es.set(path, e);
    this.pending.clear();
    return this.es;
  }
  /** The checkpoint list as an array (O(n) once per list value: for the rules that read it whole). */
  get checkpoints(): readonly CheckpointInfo[] {
    return toArray(this.list);
  }
  /** The checkpoint list as it is now: a value later changes leave alone. */
  get listNow(): CheckpointList {
    return this.list;
  }
  get count(): number {
    return this.list.bySeq.size;
  }
  get last(): CheckpointInfo | undefined {
    return lastOf(this.list);
  }
  hasStep(step: number): boolean {
    return hasStep(this.list, step);
  }
  /** A whole new list (start, reload). */
  setCheckpoints(cps: readonly CheckpointInfo[]): void {
    const [list, listed] = fromArray(cps);
    this.list = list;
    this.index = this.plan === null ? null : build(this.plan, listed);
  }
  append(c: CheckpointInfo): void {
    const x: Listed = { seq: this.list.nextSeq, c };
    this.list = push(this.list, c);
    if (this.plan !== null && this.index !== null) this.index = append(this.plan, this.index, x);
  }
  /** The checkpoints whose step is in `steps` leave the list. */
  removeSteps(steps: readonly number[]): void {
    if (steps.length === 0) return;
    const [list, gone] = withoutSteps(this.list, steps);
    this.list = list;
    if (this.plan !== null && this.index !== null) this.index = removeAll(this.plan, this.index, gone);
  }
  /** The steps retention removes now, or null when it takes the full evaluation. */
  fastRemove(): number[] | null {
    if (this.plan === null) return null;
    // an index dropped for a NaN or missing key is tried again: that checkpoint may have left
    this.index ??= build(this.plan, this.list.bySeq.entries().map(([seq, c]) => ({ seq, c })));
    return this.index === null ? null : toRemove(this.plan, this.index, this.list);
  }
  at(op: Op, by?: 'background'): void {
    if (op.op !== 'blocked_until' && (by !== undefined || this.now !== this.t)) op.t = this.now;
    if (by !== undefined && op.op !== 'blocked_until') op.by = by;
    this.ops.push(op);
  }
  pathOp(kind: 'save' | 'commit' | 'remove', path: string, by?: 'background'): void {
    const name = path.slice(this.dir.length + 1);
    const step = stepOf(name);
    const op: Op = { op: kind, path };
    if (by !== undefined || this.now !== this.t) op.t = this.now;
    if (by !== undefined) op.by = by;
    if (step !== undefined) op.step = step;
    this.ops.push(op);
  }
  find(path: string): DirEntry | undefined {
    const p = this.pending.get(path);
    return p !== undefined ? (p ?? undefined) : this.es.get(path);
  }
  /** `path` and everything under it leave the listing. */
  drop(path: string): void {
    const below = `${path}/`;
    for (const k of this.pending.keys()) if (k.startsWith(below)) this.pending.set(k, null);
    // the paths starting `path/` are those in [`path/`, `path0`): '0' follows '/'
    this.es = this.es.deleteRange(below, `${path}0`);
    if (this.pending.get(path) != null || this.es.has(path)) this.pending.set(path, null);
  }
  put(e: DirEntry): void {
    this.drop(e.path);
    this.pending.set(e.path, e);
  }
  state(): ManagerState {
    const p = this.s;
    const list = this.list;
    const es = this.settled();
    // own enumerable getters (spread, JSON and deep-equal see the lists), built once per list value
    const s: ManagerState = {
      options: p.options,
      clock: p.clock,
      root: p.root,
      directory: p.directory,
      get checkpoints() {
        return toArray(list);
      },
      inProgress: this.inProgress,
      inflight: this.inflight,
      get entries() {
        return entriesArray(es);
      },
      waitAccum: this.waitAccum,
      missingMetricsLogged: this.missingMetricsLogged,
      fixes: p.fixes,
    };
    INTERNAL.set(s, { list, index: this.index, entries: es });
    return s;
  }
}

const ENTRY_ARRAYS = new WeakMap<SortedMap<string, DirEntry>, readonly DirEntry[]>();
function entriesArray(es: SortedMap<string, DirEntry>): readonly DirEntry[] {
  let a = ENTRY_ARRAYS.get(es);
  if (a === undefined) ENTRY_ARRAYS.set(es, (a = es.values()));
  return a;
}

// ---- directory operations ------------------------------------------------------------------

function commit(w: Work, name: string, by?: 'background'): void {
  const final = `${w.dir}/${name}`;
  const tmp = w.find(final + TMP_SUFFIX);
  w.pathOp('commit', final, by);
  if (tmp === undefined) return;
  w.drop(tmp.path);
  const files = [...(tmp.files ?? []), 'commit_success.txt'].sort();
  w.put({ ...tmp, path: final, files, commit_time: w.now });
}

/** Orbax's deleter: the uncommitted temporary first, else the step; rmtree or rename to todelete_subdir. */
function deleteStep(w: Work, step: number, thread: string | undefined, by?: 'background'): void {
  const name = buildName(fmt(w.s), step);
  const final = `${w.dir}/${name}`;
  const tmp = w.find(final + TMP_SUFFIX);
  const committed = w.find(final);
  const target = tmp?.kind === 'dir' ? tmp : committed?.kind === 'dir' ? committed : undefined;
  if (target === undefined) {
    logFrom(w, thread, {
      level: 'warning',
      message: `Unable to find the step ${step} for deletion or renaming, err=No step path found with name=${name}, NameFormat=${formatRepr(fmt(w.s))} for step=${step} under ${dirLabel(w.s)}.`,
    });
    return;
  }
  const sub = w.s.options.todeleteSubdir;
  if (sub !== null) {
    const to = `${w.dir}/${sub}/${name}`;
    const op: Op = { op: 'rename', path: target.path, to };
    if (by !== undefined || w.now !== w.t) op.t = w.now;
    if (by !== undefined) op.by = by;
    w.ops.push(op);
    renameInto(w, target, `${w.dir}/${sub}`, name);
    logFrom(w, thread, { level: 'info', message: `Renamed step ${step} to ${dirLabel(w.s)}/${sub}/${name}` });
    return;
  }
  w.pathOp('remove', target.path, by);
  w.drop(target.path);
}

function logFrom(w: Work, thread: string | undefined, l: LogLine): void {
  w.logs.push(thread !== undefined ? { ...l, thread } : l);
}

/** A step moved under the todelete subdirectory: the subdirectory's entry lists its files. */
function renameInto(w: Work, target: DirEntry, subPath: string, name: string): void {
  w.drop(target.path);
  const sub = w.find(subPath);
  const moved = (target.files ?? []).map((f) => `${name}/${f}`);
  const files = [...(sub?.files ?? []), ...moved].sort();
  w.put({ path: subPath, kind: 'dir', files });
}

/** The async finalize thread's work: commit, then delete what that save's retention removed. */
function finishInflight(w: Work, by?: 'background'): void {
  const f = w.inflight;
  if (f === null) return;
  const t = w.now;
  w.now = f.tDone;
  commit(w, f.name, by);
  if (by !== undefined) w.now = t; // deletions run when the harness lets the thread go: at the call
  w.inflight = null;
  if (!f.finalize) return;
  for (const s of f.toRemove) deleteStep(w, s, 'save_finalize', by);
  w.inProgress = false;
}

/** The async checkpointer itself waits for its previous write (no finalize thread to join). */
function waitForWrite(w: Work): void {
  const f = w.inflight;
  if (f === null) return;
  w.now = f.tDone;
  finishInflight(w);
}

/** Work the finalize thread finished before the call; a write ending exactly at a wait is the wait's. */
function background(w: Work, waits: boolean): void {
  if (w.inflight !== null && (w.inflight.tDone < w.t || (!waits && w.inflight.tDone === w.t))) finishInflight(w, 'background');
}

function waitUntilFinished(w: Work): void {
  const f = w.inflight;
  if (f === null || !f.finalize) return;
  w.ops.push(f.tDone !== w.t ? { op: 'blocked_until', t_done: f.tDone, t: f.tDone } : ({ op: 'blocked_until', t_done: f.tDone } as Op));
  w.waitAccum += f.tDone - w.now;
  w.now = f.tDone;
  finishInflight(w);
}

// ---- start (Orbax's constructor and resume) ------------------------------------------------

/** Orbax's JSON reader error for the common broken metrics file; other texts are approximate. */
function jsonDecodeError(text: string): PyError {
  const i = text.search(/\S/);
  if (i === -1) return pyError('JSONDecodeError', `Expecting value: line 1 column ${text.length + 1} (char ${text.length})`);
  if (text[i] === '{') {
    const j = text.slice(i + 1).search(/\S/);
    const at = j === -1 ? text.length : i + 1 + j;
    return pyError('JSONDecodeError', `Expecting property name enclosed in double quotes: line 1 column ${at + 1} (char ${at})`);
  }
  return pyError('JSONDecodeError', `Expecting value: line 1 column ${i + 1} (char ${i})`);
}

/** Orbax's `_load_checkpoint_infos`: step directories by name, sorted by step. */
function loadCheckpoints(w: Work): CheckpointInfo[] {
  if (!w.entries.some((e) => e.path === w.dir) && !w.entries.some((e) => e.path.startsWith(`${w.dir}/`))) return [];
  const found: CheckpointInfo[] = [];
  const children = sortEntries(w.entries.filter((e) => e.path.startsWith(`${w.dir}/`)));
  for (const e of children) {
    const name = e.path.slice(w.dir.length + 1);
    if (e.kind !== 'dir' || name.includes(TMP_SUFFIX)) continue;
    const step = parseStepName(fmt(w.s), name);
    if (step === null) continue;
    if (w.s.options.lightweightInitialize) {
      found.push({ step, time: 'datetime.min', metrics: null });
      continue;
    }
    if (!(e.files ?? []).includes('_CHECKPOINT_METADATA')) w.logs.push({ level: 'warning', message: `Metadata file does not exist: ${dirLabel(w.s)}/${name}/_CHECKPOINT_METADATA` });
    if (e.metrics_text !== undefined) throw jsonDecodeError(e.metrics_text);
    const metrics = e.metrics ?? null;
    if (e.metrics === undefined && !w.missingMetricsLogged) {
      w.logs.push({ level: 'info', message: `Missing metrics for step ${step}` });
      w.missingMetricsLogged = true;
    }
    found.push({ step, time: e.commit_time ?? e.mtime ?? 0, metrics });
  }
  found.sort((a, b) => a.step - b.step);
  w.logs.push({ level: 'info', message: `Found ${found.length} checkpoint steps in ${dirLabel(w.s)}` });
  return found;
}

export function start(input: StartInput): [ManagerState | null, StartOutput] {
  const fail = (error: StartOutput['error']): [null, StartOutput] => [null, { ops: [], kept: [], in_progress: false, checkpoints: [], logs: [], error }];
  const decoded = decodeOrbaxOptions(input.options);
  if (E.isLeft(decoded)) return fail({ stage: 'options', type: 'OptionsError', message: decoded.left.map((i) => i.message).join('; ') });
  const built = constructOptions(decoded.right);
  if (E.isLeft(built)) return fail(built.left);
  const dir = input.directory ?? 'ckpt';
  const root = `${input.rootLabel ?? '<root>'}/${dir}`;
  const s0: ManagerState = {
    options: built.right.resolved,
    clock: input.clock,
    root,
    directory: dir,
    checkpoints: [],
    inProgress: false,
    inflight: null,
    entries: sortEntries(input.entries),
    waitAccum: 0,
    missingMetricsLogged: input.missingMetricsLogged ?? false,
    fixes: input.fixes ?? NO_FIXES,
  };
  const w = new Work(s0, input.t, dir);
  for (const m of built.right.warnings) w.logs.push({ level: 'warning', message: m });
  if (s0.options.readOnly) w.logs.push({ level: 'warning', message: `Given directory is read only=${root}` });
  const exists = w.entries.some((e) => e.path === dir || e.path.startsWith(`${dir}/`));
  if (s0.options.create && !exists) {
    w.put({ path: dir, kind: 'dir', files: [] });
    w.logs.push({ level: 'info', message: `Created directory=${root}` });
  }
  if (s0.options.cleanupTmpDirectories)
    for (const e of sortEntries(w.entries)) if (e.path.startsWith(`${dir}/`) && e.path.endsWith(TMP_SUFFIX)) {
      w.pathOp('remove', e.path);
      w.drop(e.path);
    }
  try {
    w.setCheckpoints(loadCheckpoints(w));
  } catch (e) {
    const r = errorRecord(e);
    return [null, { ops: w.ops, kept: [], in_progress: false, checkpoints: [], logs: w.logs, error: { stage: 'manager', ...r } }];
  }
  const s = w.state();
  return [s, { ops: w.ops, kept: s.checkpoints.map((c) => c.step), in_progress: false, checkpoints: [...s.checkpoints], logs: w.logs, error: null }];
}

// ---- calls ---------------------------------------------------------------------------------

function preemptWarning(w: Work, step: number): void {
  w.logs.push({ level: 'warning', message: `[process=0][thread=MainThread] Reached preemption sync point, step=${step}` });
}

/** Orbax's `should_save`: read-only, then the latest-step check, then the save-decision policy. */
function decide(w: Work, step: number, preempt: boolean): Decision {
  const last = w.last;
  const latest = last?.step ?? null;
  const inProgress = w.s.options.inProgressCheck ? w.inProgress : false;
  const d: Decision = { latest_step: latest, in_progress: inProgress, preemption: preempt };
  if (w.s.options.readOnly) {
    w.logs.push({ level: 'warning', message: `${dirLabel(w.s)} is read only, save will be skipped` });
    return { ...d, checked: 'read_only', result: false };
  }
  if (latest !== null && latest >= step) return { ...d, checked: 'not_after_latest_step', result: false };
  if (preempt) preemptWarning(w, step);
  const policy = w.s.options.saveDecision;
  try {
    const v = shouldSaveAfter(policy, step, w.now, { last, count: w.count }, { isSavingInProgress: inProgress, reachedPreemption: preempt }, leafIndexOf(policy));
    for (const m of v.userLogs) w.logs.push({ level: 'user', message: m });
    return { ...d, checked: 'policy', policies: v.evaluated, result: v.result };
  } catch (e) {
    return { ...d, error: errorRecord(e) };
  }
}

function retention(w: Work): { preservation: Preservation; remove: number[] | null; error?: ErrorRecord } {
  const p = w.s.options.preservation;
  const ctx = { now: w.now };
  const children = p.type === 'AnyPreservationPolicy' ? p.policies : [p];
  const fast = w.fastRemove();
  if (fast !== null) {
    // the same verdicts without reading the whole list; the lists every output names are built when read
    const list = w.listNow;
    let steps: number[] | undefined;
    let byPolicy: Preservation['by_policy'];
    const preservation: Preservation = {
      get checkpoints() {
        return (steps ??= toArray(list).map((c) => c.step));
      },
      set checkpoints(v) {
        steps = v;
      },
      remove: fast,
      get by_policy() {
        if (byPolicy === undefined) {
          const cps = toArray(list);
          byPolicy = children.map((c) => keptSteps(shouldPreserve(c, cps, ctx), cps));
        }
        return byPolicy;
      },
      set by_policy(v) {
        byPolicy = v;
      },
    };
    return { preservation, remove: fast };
  }
  const cps = w.checkpoints;
  const steps = cps.map((c) => c.step);
  const byPolicy: Preservation['by_policy'] = [];
  const flagsBy: boolean[][] = [];
  for (const c of children) {
    try {
      const f = shouldPreserve(c, cps, ctx);
      flagsBy.push(f);
      byPolicy.push(keptSteps(f, cps));
    } catch (e) {
      const r = errorRecord(e);
      return { preservation: { checkpoints: steps }, remove: null, error: r };
    }
  }
  try {
    const keep = p.type === 'AnyPreservationPolicy' ? anyOf(flagsBy, cps.length) : flagsBy[0]!;
    const remove = steps.filter((_, i) => keep[i] !== true);
    return { preservation: { checkpoints: steps, remove, by_policy: byPolicy }, remove };
  } catch (e) {
    return { preservation: { checkpoints: steps }, remove: null, error: errorRecord(e) };
  }
}

const keptSteps = (flags: readonly boolean[], cps: readonly CheckpointInfo[]): number[] => cps.flatMap((c, i) => (flags[i] === true ? [c.step] : []));

function save(w: Work, c: Extract<Call, { call: 'save' }>, out: CallOutput): void {
  const preempt = c.preempt === true;
  if (c.force !== true) {
    const d = decide(w, c.step, preempt);
    out.decision = d;
    if (d.error !== undefined) {
      out.error = d.error;
      out.result = null;
      return;
    }
    if (d.result !== true) {
      out.result = false;
      return;
    }
  }
  if (preempt) {
    preemptWarning(w, c.step);
    w.logs.push({ level: 'info', message: `[process=0] Saving checkpoint at step ${c.step} due to preemption.` });
  }
  waitUntilFinished(w);
  if (w.waitAccum > 1) w.logs.push({ level: 'warning', message: `Waiting for previous save to complete took ${w.waitAccum.toFixed(6)} seconds. If this number is high, consider checkpointing less frequently.` });
  w.waitAccum = 0;
  // Orbax marks the save in progress before the checks below: a raise leaves it stuck
  w.inProgress = true;
  w.markedInProgress = true;
  if (w.hasStep(c.step)) {
    out.error = { type: 'StepAlreadyExistsError', message: `Checkpoint for step ${c.step} already exists.` };
    out.result = null;
    return;
  }
  const metrics = c.metrics ?? null;
  const o = w.s.options;
  if (o.bestFn !== null && metrics === null) w.logs.push({ level: 'warning', message: 'Requested `tracked_metric`; did not provide metrics.' });
  const name = buildName(fmt(w.s), c.step);
  const final = `${w.dir}/${name}`;
  const existing = w.find(final);
  if (existing?.kind === 'file') {
    // the checkpointer's forced overwrite rmtree()s the destination; a file makes it raise
    w.pathOp('remove', final);
    const op = w.ops.pop()!;
    const { step: opStep, ...rest } = op as { step?: number };
    w.ops.push({ ...(rest as Op), failed: 'NotADirectoryError', ...(opStep !== undefined ? { step: opStep } : {}) } as Op);
    out.error = { type: 'NotADirectoryError', message: `[Errno 20] Not a directory: Path('${dirLabel(w.s)}/${name}')` };
    out.result = null;
    return;
  }
  if (existing !== undefined) {
    w.pathOp('remove', final);
    w.drop(final);
  }
  if (w.find(final + TMP_SUFFIX) !== undefined) {
    w.logs.push({ level: 'warning', message: `Attempted to create temporary directory ${dirLabel(w.s)}/${name}${TMP_SUFFIX} which already exists. Removing existing directory since it is not finalized.` });
    w.pathOp('remove', final + TMP_SUFFIX);
    w.drop(final + TMP_SUFFIX);
  }
  waitForWrite(w);
  const writeMetrics = metrics !== null && o.bestFn !== null && !o.preventWriteMetrics;
  w.pathOp('save', final);
  if (c.fail_write !== undefined) {
    // the injected failure hits after the temporary directory and its metadata exist
    w.put({ path: final + TMP_SUFFIX, kind: 'dir', files: ['_CHECKPOINT_METADATA'], init_time: w.now });
    out.error = { type: 'WriteFailure', message: c.fail_write };
    out.result = null;
    return;
  }
  w.put({ path: final + TMP_SUFFIX, kind: 'dir', files: ['_CHECKPOINT_METADATA', 'default/oracle_item.json', ...(writeMetrics ? ['metrics/metrics'] : [])], init_time: w.now, ...(writeMetrics ? { metrics } : {}) });
  const clock = w.s.clock;
  if ('save_seconds' in clock) {
    w.now += clock.save_seconds;
    commit(w, name);
    // a synchronous finalize asks about preemption again, on the main thread
    if (preempt) preemptWarning(w, c.step);
  } else {
    w.now += clock.async_blocking_seconds;
  }
  const added: CheckpointInfo = { step: c.step, time: w.now, metrics };
  w.append(added);
  const r = retention(w);
  out.preservation = r.preservation;
  if (r.remove === null) {
    // retention raised after the write: the step stays listed and on disk
    out.added = added;
    out.error = r.error!;
    out.result = null;
    if (!('save_seconds' in clock)) w.inflight = { step: c.step, name, tDone: w.now + clock.async_write_seconds, toRemove: [], finalize: false };
    return;
  }
  const spared = spareJustWritten(w.s.fixes, r.remove, c.step);
  const remove = spared.remove;
  if (spared.applied !== null) {
    w.fixed.push(spared.applied);
    out.preservation = { ...r.preservation, remove };
  }
  w.removeSteps(remove);
  if (w.hasStep(c.step)) out.added = added;
  if ('save_seconds' in clock) {
    for (const s of remove) deleteStep(w, s, undefined);
    w.inProgress = false;
  } else {
    w.inflight = { step: c.step, name, tDone: w.now + clock.async_write_seconds, toRemove: remove, finalize: true };
  }
  out.result = true;
}

function bestStep(w: Work): number | null {
  const o = w.s.options;
  const latest = w.last?.step ?? null;
  if (o.bestFn === null) return latest;
  if (w.checkpoints.length === 0) return null;
  const withMetrics = w.checkpoints.filter((c) => c.metrics !== null);
  const keys = withMetrics.map((c) => lookupMetric(c.metrics!, o.bestFn!.metric));
  const order = pySortedIndices(keys, o.bestMode === 'min');
  return order.length === 0 ? null : withMetrics[order[order.length - 1]!]!.step;
}

/** One call of the manager: the new state and what the call did. */
export function reduce(state: ManagerState, c: Call): [ManagerState, CallOutput] {
  const w = new Work(state, c.t, state.directory);
  // `kept` is built when read (a save's cost does not grow with the list when nobody reads it)
  let keptList = EMPTY_LIST;
  let kept: number[] | undefined;
  const out: CallOutput = {
    result: null,
    ops: w.ops,
    get kept() {
      return (kept ??= toArray(keptList).map((x) => x.step));
    },
    set kept(v) {
      kept = v;
    },
    in_progress: false,
    logs: w.logs,
  };
  if (c.call !== 'crash') background(w, c.call === 'close');
  try {
    switch (c.call) {
      case 'save':
        save(w, c, out);
        break;
      case 'should_save': {
        const d = decide(w, c.step, c.preempt === true);
        out.decision = d;
        if (d.error !== undefined) out.error = d.error;
        else out.result = d.result ?? false;
        break;
      }
      case 'wait_until_finished':
      case 'close':
        waitUntilFinished(w);
        waitForWrite(w);
        break;
      case 'crash':
        break;
      case 'reload':
        w.setCheckpoints(loadCheckpoints(w));
        out.checkpoints = [...w.checkpoints];
        break;
      case 'delete':
        if (w.s.options.readOnly) {
          w.logs.push({ level: 'warning', message: `${dirLabel(w.s)} is read only, delete will be skipped` });
          break;
        }
        if (!w.hasStep(c.step)) throw pyError('FileNotFoundError', `Requested deleting a non-existent step: ${c.step}.`);
        deleteStep(w, c.step, undefined);
        w.removeSteps([c.step]);
        break;
      case 'best_step':
        out.result = bestStep(w);
        break;
      case 'latest_step':
        out.result = w.last?.step ?? null;
        break;
    }
  } catch (e) {
    out.error = errorRecord(e);
    out.result = null;
  }
  if (c.call === 'save' && out.error !== undefined && w.markedInProgress) {
    const u = unstick(w.s.fixes, out.error.type, w.inflight);
    if (u.applied !== null) w.fixed.push(u.applied);
    if (u.inProgress !== null) w.inProgress = u.inProgress;
    w.inflight = u.inflight;
  }
  if (w.fixed.length > 0) out.fixed = w.fixed;
  const s = w.state();
  keptList = w.listNow;
  kept = undefined;
  out.in_progress = s.inProgress;
  if (w.now !== c.t) out.t_end = w.now;
  return [s, out];
}
