/**
 * The checkpointer: the policy embedded in a live loop. It joins the reducer (what to do), a store
 * plugin (where) and a capture function (what the model is right now). The loop reports its
 * moments; each report is reduced, and the effects are carried out in order:
 *
 *  - a save captures the model synchronously (the only part that blocks the loop), then writes it
 *    in the background (or awaited, with `background: false`);
 *  - removals and links wait for every earlier write and are withheld once a save has failed;
 *  - a failed write is reported by the next report, by `flush`, and by `trainEnded`, never dropped;
 *  - Lightning's raises (an `error` effect) are thrown as PolicyRaisedError once the effects before
 *    them are complete.
 *
 * Every checkpoint carries a record of the policy state (see record.ts), so `open({resume})` can
 * continue a run exactly where its last checkpoint left it.
 */
import * as E from 'fp-ts/lib/Either.js';
import { stringify as yamlStringify } from 'yaml';
import { parseConfig, PolicyConfigCodec, stateKey, type CheckpointOptions, type PolicyConfig } from '../core/config.ts';
import type { Effect, LogLevel } from '../core/effects.ts';
import type { Exception, LoopEvent, LoopView, TrainerFacts } from '../core/events.ts';
import { exists, fileKey, listing, type FileEntry } from '../core/files.ts';
import { isLocalPath, pyAbspath } from '../core/paths.ts';
import { init, reduce, resolveCheckpointDir, resolveTrainer } from '../core/reduce.ts';
import { lightningStateDict, type PolicyState } from '../core/state.ts';
import { decodeState } from '../core/stateCodec.ts';
import { StoreError, type CheckpointStore, type Payload, type StoredEntry } from '../core/store.ts';
import { checkpointPath, storeKey, type StoreKey } from '../core/brands.ts';
import { CheckpointWriteError, describeCause, LeaseLostError, PolicyRaisedError, ResumeError, type EffectFailure } from './errors.ts';
import { DEFAULT_LEASE_TTL_MS, WriterLease } from './lease.ts';
import { filesOf, keyOf, pathOf } from './keys.ts';
import type { EffectOutcome, RuntimeObserver } from './observer.ts';
import { decodeRecord, makeRecord, recordInPayload, withRecord, type CheckpointRecord } from './record.ts';
import { EffectWriter, type StorageEffect, type WriteJob } from './writer.ts';

export type LogEffect = Extract<Effect, { type: 'log' }>;

/** What a save asks the capture function for. */
export interface CaptureRequest {
  readonly key: string;
  readonly path: string;
  readonly weightsOnly: boolean;
  /** the resume record; the runtime adds it to tfjs payloads itself, byte payloads must embed it */
  readonly record: CheckpointRecord;
}

/** Snapshots the model now. Whatever it returns must not change when training continues. */
export type Capture = (req: CaptureRequest) => Payload | Promise<Payload>;

export type ResumeRequest =
  /** start fresh (Lightning's ckpt_path=None): files already present only feed the version counter */
  | false
  /** the checkpoint with the most advanced record in the store; fresh when there is none (ckpt_path="last") */
  | 'latest'
  | { readonly key: string }
  /** a record the loop read back itself (byte payloads) */
  | { readonly record: unknown };

export interface CheckpointerOptions {
  /** ModelCheckpoint's options, Lightning's names or camelCase */
  readonly options: CheckpointOptions | Record<string, unknown>;
  /**
   * where checkpoints go; its location becomes dirpath when the options give none. Without one,
   * the store is opened (`openStore`) at dirpath, or at Lightning's default
   * `<default_root_dir>/checkpoints`.
   */
  readonly store?: CheckpointStore;
  /** opens the store when none is given (default in Node: plugins/index.ts's openStore; a web page passes plugins/browser.ts's, or a `store`) */
  readonly openStore?: (location: string) => Promise<CheckpointStore>;
  readonly capture: Capture;
  /** background writes with at most `maxInFlight` captured saves unfinished (default 2); false awaits each effect */
  readonly background?: false | { readonly maxInFlight?: number };
  /** the working directory relative dirpaths resolve against (default: process.cwd() in Node, '/' elsewhere) */
  readonly cwd?: string;
  readonly home?: string;
  readonly trainer?: TrainerFacts;
  readonly resume?: ResumeRequest;
  /** reads the record back from byte payloads (tfjs payloads need nothing) */
  readonly readRecord?: (payload: Payload) => unknown;
  /** Lightning's warnings and verbose lines (default: warnings and info to the console) */
  readonly log?: (level: LogLevel, message: string) => void;
  readonly observer?: RuntimeObserver;
  /**
   * Take the folder's writer lease even though another live run holds it (default false: open is
   * refused with a WriterLeaseError naming that run). The other run then saves and deletes nothing more.
   */
  readonly takeOver?: boolean;
  /** how long the writer lease lasts unrenewed (default 120000 ms); a crashed run's folder is free after it (at once on its own host) */
  readonly leaseTtlMs?: number;
}

export interface Resumed {
  readonly key: string;
  readonly record: CheckpointRecord;
  /** the checkpoint's contents (null when the loop handed the record over itself) */
  readonly payload: Payload | null;
  /** 'exact': the full policy state was restored; 'lightning': only Lightning's state_dict (the options changed) */
  readonly mode: 'exact' | 'lightning';
}

export interface KeptCheckpoint {
  readonly path: string;
  readonly key: string;
  readonly score: number;
}

const defaultLog = (level: LogLevel, message: string) => {
  if (level === 'warning') console.warn(`ckpt-policy warning: ${message}`);
  else if (level === 'info') console.log(message);
};

export class Checkpointer {
  private seq: number;
  private broken: CheckpointWriteError | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly writer: EffectWriter;
  private readonly background: boolean;
  /** lease records (orphans) being written; flush waits for them */
  private leaseWrites: Promise<unknown> = Promise.resolve();

  private constructor(
    private current: PolicyState,
    readonly store: CheckpointStore,
    readonly dirpath: string,
    private readonly opts: CheckpointerOptions,
    readonly runId: string,
    seq: number,
    /** the checkpoint this run continues from, if any */
    readonly resumed: Resumed | null,
    private readonly lease: WriterLease,
  ) {
    this.seq = seq;
    this.background = opts.background !== false;
    const maxInFlight = opts.background === false ? 1 : (opts.background?.maxInFlight ?? 2);
    this.writer = new EffectWriter(store, maxInFlight, (job, outcome) => this.settled(job, outcome), () => lease.ensure());
  }

  /** Validates the options, lists the store, resumes if asked, and sends the setup event. */
  static async open(opts: CheckpointerOptions): Promise<Checkpointer> {
    const cwd = opts.cwd ?? defaultCwd();
    const log = opts.log ?? defaultLog;
    const parsed = parseConfig(opts.options);
    const openStore = opts.openStore ?? openNodeStore;
    const store = opts.store ?? (await openStore(resolveCheckpointDir(init(parsed, { cwd, ...(opts.home !== undefined ? { home: opts.home } : {}) })[0], resolveTrainer(opts.trainer, cwd))));
    opts = { ...opts, store };
    const config = withStoreDirpath(parsed, store, cwd);
    const [fresh, initEffects] = init(config, { cwd, ...(opts.home !== undefined ? { home: opts.home } : {}) });
    const dirpath = resolveCheckpointDir(fresh, resolveTrainer(opts.trainer, cwd));
    for (const e of initEffects) if (e.type === 'log') log(e.level, e.message);

    // before anything is read or written: a second writer is refused here
    const lease = await WriterLease.acquire(store, { takeOver: opts.takeOver ?? false, ttlMs: opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, run: newRunId(), log });
    try {
      return await Checkpointer.openHolding(opts, store, config, fresh, dirpath, cwd, log, lease);
    } catch (e) {
      await lease.release();
      throw e;
    }
  }

  private static async openHolding(
    opts: CheckpointerOptions,
    store: CheckpointStore,
    config: PolicyConfig,
    fresh: PolicyState,
    dirpath: string,
    cwd: string,
    log: (level: LogLevel, message: string) => void,
    lease: WriterLease,
  ): Promise<Checkpointer> {
    const entries = await store.list();
    const found = await findRecord(store, opts, dirpath, log);
    const setup = (files: readonly FileEntry[]): LoopEvent => ({
      type: 'setup',
      stage: 'fit',
      ...(opts.trainer !== undefined ? { trainer: opts.trainer } : {}),
      files,
    });

    let start: PolicyState = fresh;
    let setupEvent = setup(filesOf(dirpath, entries));
    let after: LoopEvent | null = null;
    let resumed: Resumed | null = null;
    let runId = lease.runId;
    let seq = 0;
    if (found !== null) {
      const { key, record, payload } = found;
      const restored = decodeState(record.state);
      if (E.isLeft(restored)) throw new ResumeError(`ckpt-policy: the policy state in checkpoint ${key} is unreadable: ${restored.left.join('; ')}`);
      const prior = restored.right;
      seq = record.seq;
      if (sameConfig(prior.config, config) && prior.dirpath === dirpath) {
        // exact: the state the uninterrupted run had, with the files it believed in
        start = prior;
        runId = record.runId;
        setupEvent = setup(listing(prior.files, fileKey(dirpath, cwd)));
        // links first: a removal the decision made must not leave its link dangling
        await relinkDecision(store, record, entries, log);
        await finishRemovals(store, record, prior, dirpath, cwd, log);
        const known = new Set(listing(prior.files, fileKey(dirpath, cwd)).map((f) => f.path));
        const strays = entries.filter((e) => !known.has(fileKey(pathOf(dirpath, storeKey(e.key)), cwd)) && !record.pendingRemovals.includes(e.key));
        if (strays.length > 0) {
          log('warning', `resuming from ${key}: ${strays.length} file(s) written after that checkpoint are not tracked (${strays.map((s) => s.key).join(', ')}); saves of the same names overwrite them`);
        }
        resumed = { key, record, payload, mode: 'exact' };
      } else if (stateKey(prior.config) === stateKey(config)) {
        // Lightning's own resume: the callback state under the same state_key, nothing else
        after = { type: 'stateLoaded', stateDict: lightningStateDict(prior) };
        resumed = { key, record, payload, mode: 'lightning' };
      } else {
        log('warning', `checkpoint ${key} was written by a ModelCheckpoint with different options (${stateKey(prior.config)}); its policy state is not restored`);
        resumed = { key, record, payload, mode: 'lightning' };
      }
    }
    if (runId !== lease.runId) await lease.update({ run: runId });
    await retryOrphans(store, lease, resumed?.mode === 'exact' ? start : null, dirpath, cwd, log);
    const ck = new Checkpointer(start, store, dirpath, opts, runId, seq, resumed, lease);
    opts.observer?.opened?.({ state: start, resumedFrom: resumed?.key ?? null });
    await ck.report(setupEvent);
    if (after !== null) await ck.report(after);
    return ck;
  }

  // ---- reporting ----------------------------------------------------------------------------

  /** Reduces one loop event and carries out its effects; resolves when the loop may continue. */
  report(event: LoopEvent): Promise<readonly Effect[]> {
    const run = this.queue.then(() => this.step(event));
    this.queue = run.catch(() => undefined);
    return run;
  }

  trainStarted(view: LoopView) {
    return this.report({ type: 'trainStarted', view });
  }
  batchEnded(view: LoopView, batchIdx?: number) {
    return this.report({ type: 'trainBatchEnded', view, ...(batchIdx !== undefined ? { batchIdx } : {}) });
  }
  validationEnded(view: LoopView) {
    return this.report({ type: 'validationEnded', view });
  }
  epochEnded(view: LoopView) {
    return this.report({ type: 'trainEpochEnded', view });
  }
  exceptionRaised(exception: Exception, view: LoopView) {
    return this.report({ type: 'exceptionRaised', exception, view });
  }
  /** The train end hook, then a flush: rejects if any checkpoint operation of the run failed. */
  async trainEnded(view: LoopView): Promise<readonly Effect[]> {
    try {
      const effects = await this.report({ type: 'trainEnded', view });
      await this.flush();
      return effects;
    } finally {
      // the fit is over: the folder is free for the next run (a second fit opens a new Checkpointer)
      await this.releaseLease();
    }
  }

  /** Waits for every background write; rejects with every failure not reported yet. */
  async flush(): Promise<void> {
    await this.queue;
    await this.writer.drain();
    await this.leaseWrites;
    this.throwIfFailed();
    if (this.lease.lostError) throw this.lease.lostError;
    if (this.broken) throw this.broken;
  }

  /** Flushes, then releases the writer lease and the store. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.releaseLease();
      await this.store.close?.();
    }
  }

  /** The writer lease this run holds (who it says writes here, which removals failed). */
  get writerLease() {
    return this.lease.held;
  }

  private async releaseLease(): Promise<void> {
    await this.queue;
    await this.writer.drain();
    await this.leaseWrites;
    await this.lease.release();
  }

  private async step(event: LoopEvent): Promise<readonly Effect[]> {
    if (this.lease.lostError) throw this.lease.lostError;
    if (this.broken) throw this.broken;
    // once a write failed, let the rest settle so the error lists every consequence
    if (this.writer.hasFailed) await this.writer.drain();
    this.throwIfFailed();
    const [next, effects, notes] = reduce(this.current, event);
    this.current = next;
    const seq = ++this.seq;
    this.opts.observer?.decided?.({ seq, event, effects, stateAfter: next, notes });
    await this.carryOut(seq, event, effects, next);
    if (!this.background) {
      await this.writer.drain();
      this.throwIfFailed();
    }
    return effects;
  }

  private async carryOut(seq: number, event: LoopEvent, effects: readonly Effect[], stateAfter: PolicyState): Promise<void> {
    const log = this.opts.log ?? defaultLog;
    // a decision's removals go after its saves and links (Lightning removes the old top-k file
    // before re-pointing last.ckpt): a kill between them must not leave last.ckpt dangling
    const order = [...effects.keys()].sort((a, b) => Number(effects[a]!.type === 'remove') - Number(effects[b]!.type === 'remove'));
    for (const index of order) {
      const effect = effects[index]!;
      switch (effect.type) {
        case 'log':
          log(effect.level, effect.message);
          this.opts.observer?.effectSettled?.({ seq, index, effect, outcome: { status: 'done' } });
          break;
        case 'error':
          await this.writer.drain();
          this.opts.observer?.effectSettled?.({ seq, index, effect, outcome: { status: 'done' } });
          this.throwIfFailed();
          throw new PolicyRaisedError(effect.errorType, effect.message);
        case 'save': {
          await this.writer.reserve();
          const key = this.keyOf(effect.path);
          const record = this.recordFor(seq, event, key, effects, stateAfter);
          let payload: Payload;
          try {
            payload = withRecord(await this.opts.capture({ key, path: effect.path, weightsOnly: effect.weightsOnly, record }), record);
          } catch (e) {
            const cause = `capturing the model failed: ${describeCause(e)}`;
            this.writer.recordCaptureFailure({ seq, index, effect, key, cause });
            this.opts.observer?.effectSettled?.({ seq, index, effect, outcome: { status: 'failed', cause } });
            break;
          }
          await this.submit({ op: 'save', seq, index, effect, key, payload });
          break;
        }
        case 'remove':
          await this.submit({ op: 'remove', seq, index, effect, key: this.keyOf(effect.path) });
          break;
        case 'link':
          await this.submit({ op: 'link', seq, index, effect, key: this.keyOf(effect.path), targetKey: this.keyOf(effect.target) });
          break;
        default:
          return assertNever(effect);
      }
    }
  }

  private async submit(job: WriteJob): Promise<void> {
    const done = this.writer.submit(job);
    if (!this.background) await done;
  }

  private settled(job: WriteJob, outcome: EffectOutcome) {
    if (outcome.status === 'failed') {
      (this.opts.log ?? defaultLog)('warning', `${job.op} of checkpoint ${job.key} failed: ${outcome.cause}`);
      // a removal storage refused leaves an orphan: recorded in the lease, retried by the next open
      if (job.op === 'remove' && !outcome.cause.startsWith('withheld') && !outcome.cause.startsWith(LeaseLostError.name)) {
        this.leaseWrites = this.leaseWrites.then(() => this.lease.update({ orphansAdded: [job.key] })).catch(() => undefined);
      }
    }
    this.opts.observer?.effectSettled?.({ seq: job.seq, index: job.index, effect: job.effect, outcome });
  }

  private recordFor(seq: number, event: LoopEvent, key: string, effects: readonly Effect[], stateAfter: PolicyState): CheckpointRecord {
    const pending = this.writer.pendingKeys();
    const removals = new Set(pending.removals);
    for (const e of effects) if (e.type === 'remove') removals.add(this.keyOf(e.path));
    const siblings = effects.filter((e) => e.type === 'save').map((e) => this.keyOf(e.path)).filter((k) => k !== key);
    const links = effects.flatMap((e) => (e.type === 'link' ? [{ key: this.keyOf(e.path), target: this.keyOf(e.target) }] : []));
    return makeRecord(this.runId, seq, event, key, stateAfter, { removals: [...removals], saves: pending.saves.filter((k) => k !== key) }, siblings, links);
  }

  private throwIfFailed() {
    const failures = this.writer.takeFailures();
    if (failures.length === 0) return;
    const err = new CheckpointWriteError(failures);
    if (this.writer.hasFailed && failures.some(isSaveFailure)) this.broken = err;
    throw err;
  }

  // ---- what Lightning users read after training ------------------------------------------------

  get state(): PolicyState {
    return this.current;
  }
  get bestModelPath(): string {
    return this.current.bestModelPath;
  }
  get bestModelScore(): number | null {
    return this.current.bestModelScore;
  }
  get currentScore(): number | null {
    return this.current.currentScore;
  }
  get lastModelPath(): string {
    return this.current.lastModelPath;
  }
  get kthBestModelPath(): string {
    return this.current.kthBestModelPath;
  }
  get kthValue(): number {
    return this.current.kthValue;
  }
  /** best_k_models in Lightning's insertion order */
  get bestKModels(): KeptCheckpoint[] {
    return [...this.current.bestKModels.entries()].map(([path, score]) => ({ path, key: this.keyOf(path), score }));
  }
  /** ModelCheckpoint.state_dict() */
  stateDict() {
    return lightningStateDict(this.current);
  }
  /** ModelCheckpoint.to_yaml(): best_k_models as a YAML map (keys sorted, as yaml.dump does) */
  toYaml(): string {
    return yamlStringify(Object.fromEntries(this.current.bestKModels.entries()), { sortMapEntries: true });
  }
  /** Writes toYaml() into the store (Lightning's default file name). */
  async writeYaml(key = 'best_k_models.yaml'): Promise<void> {
    await this.lease.ensure();
    await this.store.save(key, { kind: 'bytes', data: new TextEncoder().encode(this.toYaml()) });
  }
  /** Reads a checkpoint back by its path (as the policy names it) or its store key. */
  read(pathOrKey: string): Promise<Payload> {
    const key = pathOrKey.startsWith(this.dirpath) || pathOrKey.startsWith('/') ? this.keyOf(pathOrKey) : pathOrKey;
    return this.store.read(key);
  }
  /** The store key of a checkpoint path the policy named (a plain string: this is public). */
  keyOf(path: string): StoreKey {
    return keyOf(this.dirpath, checkpointPath(path), this.current.cwd);
  }
}

// ---- opening ---------------------------------------------------------------------------------

/** dirpath comes from the options or, when they give none, from the store; the two must agree. */
function withStoreDirpath(config: PolicyConfig, store: CheckpointStore, cwd: string): PolicyConfig {
  if (config.dirpath === null || config.dirpath === '') return { ...config, dirpath: store.location };
  const norm = (p: string) => (isLocalPath(p) ? pyAbspath(p.replace(/^(file|local):\/\//i, ''), cwd) : p.replace(/\/+$/, ''));
  if (norm(config.dirpath) !== norm(store.location)) {
    throw new Error(`dirpath=${JSON.stringify(config.dirpath)} does not match the store's location ${JSON.stringify(store.location)}: give one of them, or the same place in both`);
  }
  return config;
}

function sameConfig(a: PolicyConfig, b: PolicyConfig): boolean {
  return JSON.stringify(PolicyConfigCodec.encode(a)) === JSON.stringify(PolicyConfigCodec.encode(b));
}

/** A checkpoint and the record inside it. */
export interface FoundRecord {
  readonly key: string;
  readonly record: CheckpointRecord;
  /** the checkpoint's contents (null when the loop handed the record over itself) */
  readonly payload: Payload | null;
}

/** How often a checkpoint that cannot be read is tried before resume gives up (the S3 client retries within each). */
export const RESUME_READ_ATTEMPTS = 3;

/** A checkpoint skipped while looking for the one to resume from, and why. */
export interface SkippedCheckpoint {
  readonly key: string;
  readonly why: string;
}

type ReadOutcome =
  | { readonly kind: 'found'; readonly found: FoundRecord }
  /** the checkpoint truly holds no usable record */
  | { readonly kind: 'skip'; readonly why: string }
  /** there is no such checkpoint (any more) */
  | { readonly kind: 'gone' }
  /** reading failed every time: nothing is known about what it holds */
  | { readonly kind: 'unreadable'; readonly why: string };

async function readRecordAt(store: CheckpointStore, key: string, readRecord?: (p: Payload) => unknown, attempts = RESUME_READ_ATTEMPTS): Promise<ReadOutcome> {
  let payload: Payload | null = null;
  let cause = '';
  for (let i = 0; i < attempts && payload === null; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100 * 4 ** (i - 1)));
    try {
      payload = await store.read(key);
    } catch (e) {
      if (e instanceof StoreError && e.code === 'not-found') return { kind: 'gone' };
      cause = describeCause(e);
    }
  }
  if (payload === null) return { kind: 'unreadable', why: `could not be read (${attempts} attempts; last: ${cause})` };
  const raw = payload.kind === 'tfjs' ? recordInPayload(payload) : readRecord?.(payload);
  if (raw === undefined || raw === null) return { kind: 'skip', why: payload.kind === 'bytes' && readRecord === undefined ? 'is a byte payload and no readRecord was given to read its record' : 'holds no ckpt-policy record' };
  const r = decodeRecord(raw);
  return E.isLeft(r) ? { kind: 'skip', why: `has an invalid record (${r.left.join('; ')})` } : { kind: 'found', found: { key, record: r.right, payload } };
}

/** What the search for the checkpoint to resume from found, and what it passed over. */
export interface ResumeSearch {
  readonly found: FoundRecord | null;
  readonly skipped: readonly SkippedCheckpoint[];
  /** saves of the found checkpoint's decision that never landed, or hold an older decision's model (a kill stopped the overwrite): the same model, to be rewritten from it */
  readonly missingSiblings: readonly string[];
}

/**
 * The checkpoint to resume from: the named one, or ('latest') the one with the most advanced
 * record whose concurrent saves all reached the store (Lightning's ckpt_path="last"). Null when
 * the store holds no checkpoint with a record. A checkpoint that cannot be read is retried, then
 * a ResumeError: it may be the newest, and starting over (or from an older one) would be silent
 * loss.
 */
export async function findResumePoint(store: CheckpointStore, which: 'latest' | { readonly key: string }, readRecord?: (p: Payload) => unknown): Promise<FoundRecord | null> {
  return (await searchResumePoint(store, which, readRecord)).found;
}

export async function searchResumePoint(store: CheckpointStore, which: 'latest' | { readonly key: string }, readRecord?: (p: Payload) => unknown): Promise<ResumeSearch> {
  if (which !== 'latest') {
    const r = await readRecordAt(store, which.key, readRecord);
    if (r.kind === 'gone') throw new ResumeError(`ckpt-policy: cannot resume from ${which.key}: the store holds no such checkpoint`);
    if (r.kind !== 'found') throw new ResumeError(`ckpt-policy: cannot resume from ${which.key}: the checkpoint ${r.why}`);
    return { found: r.found, skipped: [], missingSiblings: [] };
  }
  const entries = await store.list();
  const present = new Set(entries.map((e) => e.key));
  let best: FoundRecord | null = null;
  let bestMissing: string[] = [];
  const records = new Map<string, CheckpointRecord>();
  const skipped: SkippedCheckpoint[] = [];
  const unreadable: SkippedCheckpoint[] = [];
  for (const e of entries) {
    if (e.kind !== 'file') continue;
    const r = await readRecordAt(store, e.key, readRecord);
    if (r.kind === 'unreadable') unreadable.push({ key: e.key, why: r.why });
    if (r.kind !== 'found') {
      if (r.kind === 'skip') skipped.push({ key: e.key, why: r.why });
      if (r.kind === 'gone') skipped.push({ key: e.key, why: 'was removed after the listing' });
      continue;
    }
    const rec = r.found.record;
    records.set(e.key, rec);
    const missing = rec.pendingSaves.filter((k) => !present.has(k));
    // a missing save of the same decision holds this very model: it can be rewritten from here;
    // one this record's decision removes (a background write overtaken by a better model) is not needed
    const siblings = new Set(rec.sameDecisionSaves ?? []);
    const removed = new Set(rec.pendingRemovals);
    const lost = missing.filter((k) => !siblings.has(k) && !removed.has(k));
    if (lost.length > 0) {
      skipped.push({ key: e.key, why: `names save(s) still in flight that never reached the store (${lost.join(', ')}): a newer state than any complete one` });
      continue;
    }
    if (best === null || rec.globalStep > best.record.globalStep || (rec.globalStep === best.record.globalStep && rec.seq > best.record.seq)) {
      best = r.found;
      bestMissing = missing.filter((k) => siblings.has(k));
    }
  }
  if (unreadable.length > 0) {
    throw new ResumeError(
      `ckpt-policy: cannot resume: ${unreadable.map((u) => `${u.key} ${u.why}`).join('; ')}. Refusing to start over or fall back to an older checkpoint while one that may be newer cannot be read: fix the store and run again, or resume from a named checkpoint ({ key }) or start fresh (resume: false) on purpose`,
    );
  }
  if (best === null) return { found: null, skipped, missingSiblings: [] };
  // a save of the same decision that is there but holds an older decision's model: a kill stopped
  // its overwrite (last.ckpt written after the top-k file), so it is stale and written again too
  const found = best.record;
  const stale = (found.sameDecisionSaves ?? []).filter((k) => {
    const held = records.get(k);
    return held !== undefined && (held.globalStep < found.globalStep || (held.globalStep === found.globalStep && held.seq < found.seq));
  });
  return { found: best, skipped, missingSiblings: [...bestMissing, ...stale] };
}

async function findRecord(store: CheckpointStore, opts: CheckpointerOptions, dirpath: string, log: (l: LogLevel, m: string) => void): Promise<FoundRecord | null> {
  const req = opts.resume ?? false;
  if (req === false) return null;
  if (req === 'latest' || 'key' in req) {
    const { found, skipped, missingSiblings } = await searchResumePoint(store, req, opts.readRecord);
    if (found === null) {
      const why = skipped.length === 0 ? 'the store holds no checkpoint' : skipped.map((s) => `${s.key} ${s.why}`).join('; ');
      log('info', `no checkpoint to resume from in ${dirpath} (${why}): starting fresh`);
    } else if (missingSiblings.length > 0 && found.payload !== null) {
      await rewriteSiblings(store, found, missingSiblings, log);
    }
    return found;
  }
  const r = decodeRecord(req.record);
  if (E.isLeft(r)) throw new ResumeError(`ckpt-policy: cannot resume: the record given is invalid (${r.left.join('; ')})`);
  return { key: r.right.key, record: r.right, payload: null };
}

/** Saves of the resumed decision that a kill stopped: the same model, written again under their names. */
async function rewriteSiblings(store: CheckpointStore, found: FoundRecord, keys: readonly string[], log: (l: LogLevel, m: string) => void) {
  for (const key of keys) {
    const payload = found.payload!;
    await store.save(key, payload.kind === 'tfjs' ? withRecord(payload, { ...found.record, key }) : payload);
    log('info', `resume: wrote ${key} again from ${found.key} (the same decision's save, stopped before it landed)`);
  }
}

/**
 * The resumed decision's links (last.ckpt → its top-k file) that a kill stopped: a symlink that does
 * not point at its target is pointed again. (Where links are copies, a stale copy is a stale save
 * and is rewritten like one.)
 */
async function relinkDecision(store: CheckpointStore, record: CheckpointRecord, entries: readonly StoredEntry[], log: (l: LogLevel, m: string) => void) {
  for (const { key, target } of record.sameDecisionLinks ?? []) {
    const entry = entries.find((e) => e.key === key);
    if (entry !== undefined && entry.kind !== 'symlink') continue;
    if (entry?.target !== undefined && linkedKey(key, entry.target) === target) continue;
    await store.link(target, key);
    log('info', `resume: pointed ${key} at ${target} again (the same decision's link, stopped before it landed)`);
  }
}

/** The key a symlink's text names (relative to the link's folder; keys use '/'). */
function linkedKey(linkKey: string, text: string): string {
  const parts = linkKey.split('/').slice(0, -1);
  for (const p of text.split('/')) {
    if (p === '..') parts.pop();
    else if (p !== '.' && p !== '') parts.push(p);
  }
  return parts.join('/');
}

/** Removals the stopped run had decided but not confirmed: finishing them is its own decision. */
async function finishRemovals(store: CheckpointStore, record: CheckpointRecord, prior: PolicyState, dirpath: string, cwd: string, log: (l: LogLevel, m: string) => void) {
  for (const key of record.pendingRemovals) {
    if (exists(prior.files, fileKey(pathOf(dirpath, storeKey(key)), cwd))) continue;
    await store.remove(key);
    log('info', `resume: completed the removal of ${key}, decided before the run stopped`);
  }
}

/**
 * Removals an earlier run decided and storage refused (S3 errors): tried again now. One the
 * resumed state still tracks is a kept checkpoint again, not an orphan.
 */
async function retryOrphans(store: CheckpointStore, lease: WriterLease, tracked: PolicyState | null, dirpath: string, cwd: string, log: (l: LogLevel, m: string) => void) {
  const done: string[] = [];
  for (const key of lease.inherited) {
    if (tracked !== null && exists(tracked.files, fileKey(pathOf(dirpath, storeKey(key)), cwd))) {
      done.push(key);
      continue;
    }
    try {
      await store.remove(key);
      done.push(key);
      log('info', `removed ${key}: an earlier run decided its removal and storage refused it then`);
    } catch (e) {
      log('warning', `${key} is still an orphan (an earlier run decided its removal): removing it failed again: ${describeCause(e)}`);
    }
  }
  if (done.length > 0) await lease.update({ orphansRemoved: done });
}

/** Node's working directory; '/' where there is no process (a web page). */
export function defaultCwd(): string {
  return globalThis.process?.cwd?.() ?? '/';
}

/**
 * The Node plugins' openStore, loaded only when the runtime has to open a store itself (they bring
 * tfjs and the S3 client). The specifier is computed so that a browser bundle does not follow it
 * into node:fs: a web page passes `store` or `openStore`. `.ts` when run from source, `.js` built.
 */
async function openNodeStore(location: string): Promise<CheckpointStore> {
  if (globalThis.process?.versions?.node === undefined) {
    throw new Error(`ckpt-policy runtime: no store to open ${JSON.stringify(location)} with: outside Node, pass \`store\` or \`openStore\` (plugins/browser.ts's openStore supports indexeddb:// and memory://)`);
  }
  const here = import.meta.url;
  const plugins = new URL(`../../plugins/index${here.endsWith('.ts') ? '.ts' : '.js'}`, here).href;
  const mod = (await import(plugins)) as typeof import('../../plugins/index.ts');
  return mod.openStore(location);
}

function newRunId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

function isSaveFailure(f: EffectFailure): boolean {
  return f.effect.type === 'save' || f.cause.startsWith('withheld');
}

function assertNever(x: never): never {
  throw new Error(`unknown effect ${JSON.stringify(x)}`);
}

export type { StorageEffect };
