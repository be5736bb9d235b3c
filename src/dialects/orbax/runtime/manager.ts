/**
 * Orbax's CheckpointManager carrying out its own decisions on a CheckpointStore. Every call is
 * answered by the pure manager (`start`/`reduce` of ../manager.ts); this module only turns the
 * directory operations it lists into store writes and removals, in its order, so the decisions are
 * Orbax's (documented bugs included; the fixes of ../fixes.ts on request).
 *
 * Time. The pure manager models a write's duration with a fixed clock; here writes take what they
 * take. The manager is told a write takes no time to block and one microsecond to complete (async),
 * and it is never shown a time past a write's completion before that write really completed: a
 * call that needs the write finished (save when a policy says save, wait_until_finished, delete,
 * reload, close) waits for it first; `should_save`, `best_step` and a save the policies refuse are
 * answered while it is in flight, at the in-flight save's time, so `ContinuousCheckpointingPolicy`
 * skips steps during a write as in Orbax. When the write completes, its save's deletions run at
 * once (Orbax's finalize thread).
 *
 * Failure. A write that rejects (an item, the metrics, the commit marker) is answered as Orbax
 * answers a failed write: the pure manager is asked the same save again with `fail_write`, so the
 * step is not listed, nothing that save's retention chose is deleted, and `in_progress` stays set
 * (unless `clear_in_progress_on_error`). An async write's failure is raised by the next call.
 */
import { StoreError, type CheckpointStore, type Payload } from '../../../core/store.ts';
import { DEFAULT_LEASE_TTL_MS, WriterLease } from '../../../runtime/lease.ts';
import { describeCause, LeaseLostError } from '../../../runtime/errors.ts';
import type { Metrics } from '../checkpointInfo.ts';
import { buildName, parseStepName, TMP_SUFFIX } from '../directory.ts';
import { decodeFixes, type OrbaxFixes } from '../fixes.ts';
import { reduce, start, type Call, type CallOutput, type LogLine, type ManagerState, type Op } from '../manager.ts';
import { checkItems, checkMetrics, checkStep, itemPayload, OrbaxError, OrbaxInputError, type Items } from './inputs.ts';
import { MARKER, markerText, METRICS_KEY, metricsText, parseMarker, readListing } from './layout.ts';

/** One microsecond, Orbax's time resolution: how long the pure manager believes an async write runs. */
const WRITE_SECONDS = 1e-6;

export interface OrbaxManagerOptions {
  /** where the step folders go (fs, S3, memory, IndexedDB: src/core/store.ts) */
  readonly store: CheckpointStore;
  /** `CheckpointManagerOptions` as data, Orbax's names (snake_case or camelCase; docs/orbax.md) */
  readonly options?: unknown;
  /** opt-in fixes of Orbax's checkpoint-losing behaviours (../fixes.ts); none by default */
  readonly fixes?: unknown;
  /** seconds since the epoch (default the system clock); time-based policies read it */
  readonly now?: () => number;
  /** Orbax's log lines (default: warnings and errors to console.warn) */
  readonly log?: (line: LogLine) => void;
  /** every answer of the pure manager, with the call it answered (`background`: a finished async write's finalize) */
  readonly onCall?: (call: Call, output: CallOutput, background: boolean) => void;
  /** take the folder's writer lease from a live run that holds it (default false) */
  readonly takeOver?: boolean;
  readonly leaseTtlMs?: number;
}

export interface SaveOptions {
  readonly metrics?: Readonly<Record<string, number | string | null>> | null;
  readonly force?: boolean;
  /** the preemption sync point is reached at this step (Orbax's `reached_preemption(step)`) */
  readonly preempt?: boolean;
}

interface Pending {
  readonly step: number;
  readonly name: string;
  /** the manager's time of the save: calls answered during the write are asked at it */
  readonly t: number;
  readonly before: ManagerState;
  readonly call: Extract<Call, { call: 'save' }>;
  readonly job: Promise<void>;
  done: boolean;
  error: unknown;
}

const defaultLog = (l: LogLine): void => {
  if (l.level === 'warning' || l.level === 'error') console.warn(`orbax: ${l.message}`);
};

/** The manager folder's label for Orbax's messages: the location's parent and its last segment. */
function splitLocation(location: string): { rootLabel: string; dir: string } {
  const loc = location.replace(/\/+$/, '');
  const i = loc.lastIndexOf('/');
  const dir = i === -1 ? loc : loc.slice(i + 1);
  return { rootLabel: i === -1 ? '.' : loc.slice(0, i), dir: dir === '' ? 'checkpoints' : dir };
}

export class OrbaxCheckpointManager {
  private chain: Promise<unknown> = Promise.resolve();
  private pending: Pending | null = null;
  private lastT = -Infinity;
  private closed = false;
  /** an async write's failure or a lost lease seen by the finalize, raised by the next call */
  private deferred: unknown = null;

  private constructor(
    private state: ManagerState,
    readonly store: CheckpointStore,
    private readonly dir: string,
    private lease: WriterLease | null,
    private readonly opts: OrbaxManagerOptions,
    private readonly clock: () => number,
  ) {}

  /**
   * Orbax's constructor on a store: the options checked (Orbax's errors, as OrbaxError), the
   * writer lease taken, the listing read (committed steps with their commit times and, when
   * `best_fn` wrote them, metrics), temporaries cleaned when `cleanup_tmp_directories` says so.
   */
  static async open(o: OrbaxManagerOptions): Promise<OrbaxCheckpointManager> {
    const fixes = decodeFixes(o.fixes);
    if (fixes._tag === 'Left') throw new OrbaxInputError(fixes.left);
    const clock = o.now ?? (() => Date.now() / 1000);
    const t = clock();
    if (!Number.isFinite(t)) throw new OrbaxInputError(`now: the clock gave ${String(t)}: expected seconds since the epoch`);
    const options = o.options ?? {};
    const { rootLabel, dir } = splitLocation(o.store.location);
    // the options first, on an empty listing: errors before the store is read or leased
    const [probe, probeOut] = start({ options, clock: { save_seconds: 0 }, t, entries: [], directory: dir, rootLabel });
    if (probe === null) throw initError(probeOut.error!);
    checkNames(probe);
    const async = probe.options.async;
    const lease = probe.options.readOnly ? null : await acquire(o);
    try {
      const listing = await readListing(o.store, dir, (n) => parseStepName({ prefix: probe.options.stepPrefix, fixedLength: probe.options.stepFormatFixedLength }, n) !== null);
      const [state, out] = start({
        options,
        clock: async ? { async_blocking_seconds: 0, async_write_seconds: WRITE_SECONDS } : { save_seconds: 0 },
        t,
        entries: listing.entries,
        directory: dir,
        rootLabel,
        fixes: fixes.right as OrbaxFixes,
      });
      if (state === null) throw initError(out.error!);
      const m = new OrbaxCheckpointManager(state, o.store, dir, lease, o, clock);
      m.lastT = t;
      for (const l of out.logs) (o.log ?? defaultLog)(l);
      await m.carryOut(out.ops);
      return m;
    } catch (e) {
      await lease?.release();
      throw e;
    }
  }

  // ---- Orbax's methods -----------------------------------------------------------------------

  /**
   * `save(step, args, metrics=, force=)`: true when the checkpoint was written (and, async, its
   * write started). Items are written under the step's folder, then the commit marker; then the
   * steps this save's retention removed are deleted (after the commit, when async).
   */
  save(step: number, items?: Items, opts: SaveOptions = {}): Promise<boolean> {
    return this.serial(async () => {
      checkStep(step, 'save');
      const checked = checkItems(items);
      const metrics = checkMetrics(opts.metrics);
      const base = { call: 'save' as const, step, ...(metrics !== null ? { metrics } : {}), ...(opts.force === true ? { force: true } : {}), ...(opts.preempt === true ? { preempt: true } : {}) };
      const p = this.pending;
      if (p !== null && !p.done && opts.force !== true) {
        // Orbax decides before it waits for the write in flight: a refusal does not wait
        const [, probe] = reduce(this.state, { call: 'should_save', step, t: p.t, ...(opts.preempt === true ? { preempt: true } : {}) });
        if (probe.error === undefined && probe.result !== true) return this.answer(await this.call({ ...base, t: p.t }, checked)) === true;
      }
      await this.settle();
      return this.answer(await this.call({ ...base, t: this.tick() }, checked)) === true;
    });
  }

  /** `should_save(step)`: the save-decision policies' answer (while a write is in flight, as they see it). */
  should_save(step: number, opts: { preempt?: boolean } = {}): Promise<boolean> {
    return this.serial(async () => {
      checkStep(step, 'should_save');
      return this.answer(await this.call({ call: 'should_save', step, t: await this.moment(), ...(opts.preempt === true ? { preempt: true } : {}) })) === true;
    });
  }

  /** `all_steps()`: the manager's list, in its order (a forced older step sits at the end, as in Orbax). */
  all_steps(): number[] {
    return this.state.checkpoints.map((c) => c.step);
  }

  /** `latest_step()`: the last step of the list, or null. */
  latest_step(): number | null {
    return this.state.checkpoints[this.state.checkpoints.length - 1]?.step ?? null;
  }

  /** `best_step()`: by `best_fn`/`best_mode` among the kept steps with metrics; the latest without `best_fn`. */
  best_step(): Promise<number | null> {
    return this.serial(async () => this.answer(await this.call({ call: 'best_step', t: await this.moment() })) as number | null);
  }

  /** `is_saving_in_progress()`, as Orbax's policies see it. */
  is_saving_in_progress(): Promise<boolean> {
    return this.serial(async () => {
      if (this.pending !== null && !this.pending.done) return true;
      await this.finalizeFinished();
      return this.state.inProgress;
    });
  }

  /** The items of a kept step, as they were saved (the commit marker lists them). */
  restore(step: number): Promise<Record<string, Payload>> {
    return this.serial(async () => {
      checkStep(step, 'restore');
      await this.settle();
      if (!this.all_steps().includes(step)) throw new OrbaxError('FileNotFoundError', `No step path found for step=${step} with NameFormat under ${this.store.location} (kept: ${JSON.stringify(this.all_steps())}).`);
      const name = this.nameOf(step);
      const marker = parseMarker(text(await this.store.read(`${name}/${MARKER}`)));
      if (marker === null) throw new OrbaxError('FileNotFoundError', `step ${step}: ${this.store.location}/${name}/${MARKER} is not a commit marker`);
      const items = marker.items ?? (await this.store.list(`${name}/`)).map((e) => e.key.slice(name.length + 1)).filter((k) => k !== MARKER && k !== METRICS_KEY);
      const out: Record<string, Payload> = {};
      for (const i of items) out[i] = await this.store.read(`${name}/${i}`);
      return out;
    });
  }

  /** `delete(step)`: FileNotFoundError for a step not kept (Orbax's text). */
  delete(step: number): Promise<void> {
    return this.serial(async () => {
      checkStep(step, 'delete');
      await this.settle();
      this.answer(await this.call({ call: 'delete', step, t: this.tick() }));
    });
  }

  /**
   * `reload()`: the list read back from the directory (this run is its only writer: the lease).
   * As in Orbax it does not wait: a step still being written is not listed.
   */
  reload(): Promise<void> {
    return this.serial(async () => {
      this.answer(await this.call({ call: 'reload', t: await this.moment() }));
    });
  }

  /** `wait_until_finished()`: the write in flight committed, its deletions done. */
  wait_until_finished(): Promise<void> {
    return this.serial(async () => {
      await this.settle();
      this.answer(await this.call({ call: 'wait_until_finished', t: this.tick() }));
    });
  }

  /** `close()`: waits like wait_until_finished, then releases the writer lease (the store stays open: it is the caller's). */
  close(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      try {
        await this.settle();
        this.answer(await this.call({ call: 'close', t: this.tick() }));
      } finally {
        this.closed = true;
        await this.lease?.release();
      }
    });
  }

  // ---- the loop ------------------------------------------------------------------------------

  /** One call at a time, in order; a closed manager refuses. */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closed) throw new OrbaxInputError(`the CheckpointManager of ${this.store.location} is closed`);
      if (this.deferred !== null) {
        const e = this.deferred;
        this.deferred = null;
        throw e;
      }
      return f();
    };
    const r = this.chain.then(run, run);
    this.chain = r.catch(() => undefined);
    return r;
  }

  /** The clock, never going back (the pure manager's times only move forward). */
  private tick(): number {
    const t = Math.max(this.clock(), this.lastT);
    this.lastT = t;
    return t;
  }

  /**
   * The time to ask a call that need not wait at: the in-flight save's while its write runs (the
   * manager then sees it in flight); once it ended, the clock, after the write was settled (a failed
   * one is raised here, before the manager could take it for committed and delete for it).
   */
  private async moment(): Promise<number> {
    if (this.pending !== null && !this.pending.done) return this.pending.t;
    await this.settle();
    return this.tick();
  }

  private nameOf(step: number): string {
    return buildName({ prefix: this.state.options.stepPrefix, fixedLength: this.state.options.stepFormatFixedLength }, step);
  }

  /** The call's Orbax exception, raised; else its result. */
  private answer(out: CallOutput): boolean | number | null {
    if (out.error !== undefined) throw new OrbaxError(out.error.type, out.error.message);
    return out.result;
  }

  private report(c: Call, out: CallOutput, background = false): void {
    for (const l of out.logs) (this.opts.log ?? defaultLog)(l);
    this.opts.onCall?.(c, out, background);
  }

  /** Asks the pure manager, then carries out the operations it lists. */
  private async call(c: Call, items?: Items): Promise<CallOutput> {
    const before = this.state;
    const [next, out] = reduce(before, c);
    this.state = next;
    // a call that waited for a write moved the manager's clock past the call's time
    if (out.t_end !== undefined) this.lastT = Math.max(this.lastT, out.t_end);
    this.report(c, out);
    if (c.call === 'save') return this.carrySave(before, c, out, items ?? {});
    await this.carryOut(out.ops);
    return out;
  }

  /** A save's operations: those before the write, the write (then, sync, its commit), those after. */
  private async carrySave(before: ManagerState, c: Extract<Call, { call: 'save' }>, out: CallOutput, items: Items): Promise<CallOutput> {
    const at = out.ops.findIndex((o) => o.op === 'save' && o.by === undefined);
    if (at === -1) {
      await this.carryOut(out.ops);
      return out;
    }
    const fail = (e: unknown): CallOutput => {
      // Orbax's failed write: the step is not listed and nothing its retention chose is deleted
      if (e instanceof LeaseLostError) throw e;
      const [s, failed] = reduce(before, { ...c, fail_write: describeCause(e) });
      this.state = s;
      this.report(c, failed);
      return failed;
    };
    const name = this.nameOf(c.step);
    try {
      // this step's destination or stale folder that cannot be removed is not written over
      const own = new Set([`${this.dir}/${name}`, `${this.dir}/${name}${TMP_SUFFIX}`]);
      for (const op of out.ops.slice(0, at)) await this.carryOut([op], op.op !== 'blocked_until' && own.has(op.path));
    } catch (e) {
      return fail(e);
    }
    const writeMetrics = c.metrics !== undefined && c.metrics !== null && this.state.options.bestFn !== null && !this.state.options.preventWriteMetrics;
    // the items are taken in the blocking part, as Orbax copies the state before an async write:
    // the loop may change or delete what it passed once save answered
    let payloads: Array<readonly [string, Payload]>;
    try {
      payloads = [];
      for (const i of Object.keys(items).sort()) payloads.push([i, await itemPayload(i, items[i]!)]);
    } catch (e) {
      return fail(e);
    }
    const write = () => this.writeStep(name, payloads, writeMetrics ? c.metrics! : null, c.t);
    if (!this.state.options.async) {
      try {
        await write();
      } catch (e) {
        return fail(e);
      }
      await this.carryOut(out.ops.slice(at + 1));
      return out;
    }
    await this.carryOut(out.ops.slice(at + 1));
    // async: bytes are copied now, so the loop may reuse its buffers once save answered
    payloads = payloads.map(([i, p]) => [i, p.kind === 'bytes' ? { kind: 'bytes', data: p.data.slice() } : p] as const);
    const job = write().then(
      () => {
        p.done = true;
        // Orbax's finalize thread: the deletions of this save follow its commit
        this.serial(() => this.finalizeFinished()).catch((e) => {
          if (!this.closed) this.deferred ??= e;
        });
      },
      (e) => {
        p.done = true;
        p.error = e;
      },
    );
    const p: Pending = { step: c.step, name, t: c.t, before, call: c, done: false, error: null, job };
    this.pending = p;
    return out;
  }

  /** Waits for the write in flight; a failed one is Orbax's failed write (raised here, after the rebase). */
  private async settle(): Promise<void> {
    const p = this.pending;
    if (p === null) return;
    await p.job;
    this.pending = null;
    // later calls are asked after the write's end as the manager models it (one microsecond after the save)
    this.lastT = Math.max(this.lastT, p.t + 2 * WRITE_SECONDS);
    if (p.error !== null) {
      if (p.error instanceof LeaseLostError) throw p.error;
      const [s, failed] = reduce(p.before, { ...p.call, fail_write: describeCause(p.error) });
      this.state = s;
      this.report(p.call, failed);
      throw new OrbaxError(failed.error?.type ?? 'WriteFailure', `the write of step ${p.step} failed: ${describeCause(p.error)}`);
    }
  }

  /** A finished async write: the manager commits it and its deletions are carried out now. */
  private async finalizeFinished(): Promise<void> {
    const p = this.pending;
    if (p === null || !p.done) return;
    await this.settle();
    const c: Call = { call: 'latest_step', t: this.tick() };
    const [next, out] = reduce(this.state, c);
    this.state = next;
    this.report(c, out, true);
    await this.carryOut(out.ops);
  }

  // ---- the store -----------------------------------------------------------------------------

  /** A step's keys: the items, the metrics when `best_fn` is set, the commit marker last. */
  private async writeStep(name: string, items: ReadonlyArray<readonly [string, Payload]>, metrics: Metrics, initTime: number): Promise<void> {
    const names = items.map(([i]) => i);
    await this.ensureLease();
    for (const [i, payload] of items) await this.store.save(`${name}/${i}`, payload);
    if (metrics !== null) await this.store.save(`${name}/${METRICS_KEY}`, bytes(metricsText(metrics)));
    // the commit: checked again, so a run that lost the folder never commits in it
    await this.ensureLease();
    await this.store.save(`${name}/${MARKER}`, bytes(markerText(initTime, this.clock(), names)));
  }

  /**
   * The manager's directory operations on the store, in order. `commit` writes nothing here: the
   * write committed already (its marker is its last key). A removal the store refuses is logged
   * and skipped (the step stays, and comes back at the next start) unless `strict` (before a
   * write, which then fails); a lost lease stops everything.
   */
  private async carryOut(ops: readonly Op[], strict = false): Promise<void> {
    for (const op of ops) {
      switch (op.op) {
        case 'save':
        case 'commit':
        case 'blocked_until':
          break;
        case 'remove':
          if (op.failed !== undefined) break;
          await this.guarded(op.path, () => this.removePath(op.path), strict);
          break;
        case 'rename':
          await this.guarded(op.path, () => this.renamePath(op.path, op.to), strict);
          break;
      }
    }
  }

  private async guarded(path: string, f: () => Promise<void>, strict: boolean): Promise<void> {
    if (strict) return f();
    try {
      await f();
    } catch (e) {
      if (e instanceof LeaseLostError || e instanceof StoreError && e.code === 'escape') throw e;
      (this.opts.log ?? defaultLog)({ level: 'warning', message: `could not remove ${path} from ${this.store.location} (${describeCause(e)}); it stays there and a restart lists it again` });
    }
  }

  /** The store key (or key prefix) of a manager path `dir/...`. */
  private keyOf(path: string): string {
    if (!path.startsWith(`${this.dir}/`)) throw new StoreError('escape', path, `${path} is outside the manager directory ${this.dir}`);
    return path.slice(this.dir.length + 1);
  }

  /** A folder's keys, the commit marker first so that a removal cut short never looks committed. */
  private async folderKeys(prefix: string): Promise<string[]> {
    const keys = (await this.store.list(prefix)).map((e) => e.key);
    return [...keys.filter((k) => k === `${prefix}${MARKER}`), ...keys.filter((k) => k !== `${prefix}${MARKER}`)];
  }

  private async removeFolder(prefix: string): Promise<void> {
    const keys = await this.folderKeys(prefix);
    if (keys.length > 0) await this.ensureLease();
    for (const k of keys) await this.store.remove(k);
  }

  private async removePath(path: string): Promise<void> {
    const key = this.keyOf(path);
    if (key.endsWith(TMP_SUFFIX)) {
      // Orbax's temporary: a real one, or a step folder that never committed
      await this.removeFolder(`${key}/`);
      const base = key.slice(0, -TMP_SUFFIX.length);
      if (!(await this.store.exists(`${base}/${MARKER}`))) await this.removeFolder(`${base}/`);
      return;
    }
    await this.removeFolder(`${key}/`);
    if (await this.store.exists(key)) {
      await this.ensureLease();
      await this.store.remove(key);
    }
  }

  /** `todelete_subdir`: the step's keys copied under the subfolder (marker last), then removed. */
  private async renamePath(path: string, to: string): Promise<void> {
    const from = `${this.keyOf(path)}/`;
    const dest = `${this.keyOf(to)}/`;
    const keys = await this.folderKeys(from);
    const ordered = keys[0] === `${from}${MARKER}` ? [...keys.slice(1), keys[0]] : keys;
    for (const k of ordered) {
      await this.ensureLease();
      await this.store.save(dest + k.slice(from.length), await this.store.read(k));
    }
    await this.removeFolder(from);
  }

  private async ensureLease(): Promise<void> {
    // a read-only manager takes the lease at its first write (a forced save)
    if (this.lease === null) this.lease = await acquire(this.opts);
    await this.lease.ensure();
  }
}

// ---- helpers -------------------------------------------------------------------------------

function acquire(o: OrbaxManagerOptions): Promise<WriterLease> {
  return WriterLease.acquire(o.store, {
    takeOver: o.takeOver ?? false,
    ttlMs: o.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
    run: `orbax-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
    log: (level, message) => (o.log ?? defaultLog)({ level: level === 'warning' ? 'warning' : 'info', message }),
  });
}

function initError(e: NonNullable<ReturnType<typeof start>[1]['error']>): Error {
  if (e.type === 'OptionsError') return new OrbaxInputError(`CheckpointManagerOptions: ${e.message}`);
  return new OrbaxError(e.type, e.message);
}

/** Step names are one segment of a store key: `step_prefix` and `todelete_subdir` cannot leave the folder. */
function checkNames(s: ManagerState): void {
  const segment = (v: string): boolean => v !== '' && v !== '.' && v !== '..' && !v.includes('/') && !v.includes('\\') && !v.includes('\0');
  const p = s.options.stepPrefix;
  if (p !== null && !segment(`${p}_`)) throw new OrbaxInputError(`step_prefix: ${JSON.stringify(p)} is not allowed here: step folders are one segment of the store's keys (no '/' or '\\')`);
  const d = s.options.todeleteSubdir;
  if (d !== null && !segment(d)) throw new OrbaxInputError(`todelete_subdir: ${JSON.stringify(d)} is not allowed here: expected one folder name inside the manager directory (no '/', '\\', '.' or '..')`);
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Payload => ({ kind: 'bytes', data: enc.encode(s) });
const text = (p: Payload): string => (p.kind === 'bytes' ? dec.decode(p.data) : '');
