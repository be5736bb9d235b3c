/**
 * The writer lease: one run at a time writes a checkpoint folder. Two runs in one folder would
 * each delete checkpoints the other still counts in its top-k, and `resume: 'latest'` would pick
 * the other's. So `Checkpointer.open` takes the store's lease slot (a record changed only by
 * compare-and-swap, see LeaseSlot) before it writes anything, renews it while the run lives and
 * releases it at `trainEnded`/`close`.
 *
 *  - a second writer is refused at open (WriterLeaseError naming the holder, when it last renewed
 *    and how to take over), unless it passes `takeOver: true`;
 *  - a lease that is released, expired (not renewed for `ttlMs`), or held by a dead process on
 *    this host is taken without asking, with a warning: a crash cannot leave a folder locked;
 *  - every save, removal and link renews the lease first (one compare-and-swap): a run whose lease
 *    was taken over fails that write with LeaseLostError and never writes or deletes again.
 *
 * Stores without a slot (memory, IndexedDB) get an in-process slot per location: writers in other
 * processes or tabs are not seen there (a single writer is assumed).
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import type { LogLevel } from '../core/effects.ts';
import type { CheckpointStore, LeaseSlot } from '../core/store.ts';
import { describeCause, LeaseLostError, WriterLeaseError } from './errors.ts';

export const LeaseRecordCodec = t.type({
  format: t.literal('ckpt-policy/lease@1'),
  /** the run id (a resumed run keeps its id, so `token` tells two opens apart) */
  run: t.string,
  /** unique per open */
  token: t.string,
  host: t.string,
  pid: t.number,
  /** ISO times, written by the holder's clock */
  acquiredAt: t.string,
  renewedAt: t.string,
  expiresAt: t.string,
  released: t.boolean,
  /** removals that failed in storage: retried by the next open, listed by `ckpt audit storage` */
  orphans: t.array(t.string),
});
export type LeaseRecord = t.TypeOf<typeof LeaseRecordCodec>;

/** How long a lease lives without renewal (default 2 minutes); renewed every third of it. */
export const DEFAULT_LEASE_TTL_MS = 120_000;

export interface LeaseOptions {
  readonly takeOver: boolean;
  readonly ttlMs: number;
  readonly run: string;
  readonly log: (level: LogLevel, message: string) => void;
}

/** The held record as JSON-lines readers want it, or an explanation of why it is unreadable. */
export function parseLease(text: string): E.Either<string, LeaseRecord> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return E.left(`not JSON (${describeCause(e)})`);
  }
  const r = LeaseRecordCodec.decode(raw);
  return E.isLeft(r) ? E.left('not a ckpt-policy lease record') : E.right(r.right);
}

/** The lease record of a store, if any (for audits: who writes here, which removals failed). */
export async function readLease(store: CheckpointStore): Promise<LeaseRecord | null> {
  const slot = store.lease ?? inProcessSlot(store);
  const cur = await slot.read();
  if (cur === null) return null;
  const r = parseLease(cur.text);
  return E.isRight(r) ? r.right : null;
}

export class WriterLease {
  private lost: LeaseLostError | null = null;
  private renewing: Promise<void> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private released = false;

  private constructor(
    private readonly slot: LeaseSlot,
    private readonly location: string,
    private record: LeaseRecord,
    private version: string,
    private readonly ttlMs: number,
    /** the orphans the previous holder left: the new run retries them */
    readonly inherited: readonly string[],
  ) {}

  /** Takes the store's lease, or throws WriterLeaseError when another live run holds it. */
  static async acquire(store: CheckpointStore, opts: LeaseOptions): Promise<WriterLease> {
    if (!Number.isFinite(opts.ttlMs) || opts.ttlMs < 100) throw new RangeError(`leaseTtlMs=${opts.ttlMs} is not allowed: expected a number of milliseconds >= 100`);
    const slot = store.lease ?? inProcessSlot(store);
    const host = await localHost();
    const now = Date.now();
    const mine = (orphans: readonly string[]): LeaseRecord => ({
      format: 'ckpt-policy/lease@1',
      run: opts.run,
      token: randomToken(),
      host,
      pid: processId(),
      acquiredAt: new Date(now).toISOString(),
      renewedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + opts.ttlMs).toISOString(),
      released: false,
      orphans: [...orphans],
    });
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = await slot.read();
      if (cur === null) {
        const rec = mine([]);
        const v = await won(slot, rec, () => slot.create(JSON.stringify(rec)));
        if (v !== null) return new WriterLease(slot, store.location, rec, v, opts.ttlMs, []).started();
        continue;
      }
      const parsed = parseLease(cur.text);
      const held = E.isRight(parsed) ? parsed.right : null;
      const why = held === null ? null : staleness(held, now, host);
      if (held === null && !opts.takeOver) {
        throw new WriterLeaseError(`ckpt-policy: cannot open ${store.location} for writing: its writer lease ${slot.where} is unreadable (${E.isLeft(parsed) ? parsed.left : ''}). Pass takeOver: true to replace it, once no other run writes this folder`);
      }
      if (held !== null && why === null && !opts.takeOver) throw new WriterLeaseError(refusal(store.location, slot.where, held, now, host));
      if (held !== null && why !== 'released') {
        opts.log('warning', why === null ? `taking over ${store.location} from run ${describeHolder(held)} (takeOver: true): that run stops saving and deleting here` : `taking the writer lease of ${store.location} from run ${describeHolder(held)}: ${why}`);
      }
      const orphans = held?.orphans ?? [];
      const rec = mine(orphans);
      const v = await won(slot, rec, () => slot.replace(JSON.stringify(rec), cur.version));
      if (v !== null) return new WriterLease(slot, store.location, rec, v, opts.ttlMs, orphans).started();
    }
    throw new WriterLeaseError(`ckpt-policy: cannot open ${store.location} for writing: its writer lease ${slot.where} kept changing while this run tried to take it (another run is opening the same folder)`);
  }

  /** Set once the lease was taken over: every later write fails with it. */
  get lostError(): LeaseLostError | null {
    return this.lost;
  }

  get runId(): string {
    return this.record.run;
  }

  /** The record this run holds now. */
  get held(): LeaseRecord {
    return this.record;
  }

  /**
   * Throws LeaseLostError when the lease is no longer this run's. Called before every write: it
   * reads the record back (a renewal, a compare-and-swap, once a third of the lifetime has passed).
   */
  async ensure(): Promise<void> {
    if (this.lost) throw this.lost;
    if (this.released) throw new LeaseLostError(`ckpt-policy: this run released its writer lease of ${this.location} (trainEnded or close): it writes no more checkpoints there`);
    // one at a time: concurrent writes share the check or renewal in flight
    if (this.renewing === null) {
      const due = Date.now() - Date.parse(this.record.renewedAt) >= this.ttlMs / 3;
      this.renewing = (due ? this.renew() : this.verify()).finally(() => {
        this.renewing = null;
      });
    }
    await this.renewing;
  }

  /** Whether the record is still the one this run wrote (a read; nothing is written). */
  private async verify(): Promise<void> {
    let cur;
    try {
      cur = await this.slot.read();
    } catch (e) {
      throw new LeaseLostError(`ckpt-policy: could not read the writer lease of ${this.location} back (${describeCause(e)}); nothing is written or deleted without it`, { cause: e });
    }
    if (cur !== null && cur.version === this.version) return;
    this.lose(cur);
  }

  /** Changes the run id or the orphan list in the record and writes it now (a renewal). */
  async update(change: { run?: string; orphansAdded?: readonly string[]; orphansRemoved?: readonly string[] }): Promise<void> {
    const orphans = new Set(this.record.orphans);
    for (const k of change.orphansAdded ?? []) orphans.add(k);
    for (const k of change.orphansRemoved ?? []) orphans.delete(k);
    this.record = { ...this.record, ...(change.run !== undefined ? { run: change.run } : {}), orphans: [...orphans].sort() };
    if (this.released || this.lost) return;
    if (this.renewing) await this.renewing.catch(() => undefined);
    if (this.released || this.lost) return;
    this.renewing = this.renew().finally(() => {
      this.renewing = null;
    });
    await this.renewing;
  }

  /** Gives the folder up: the next writer takes it at once. A lost lease is left to its new holder. */
  async release(): Promise<void> {
    this.stop();
    if (this.released || this.lost) return;
    if (this.renewing) await this.renewing.catch(() => undefined);
    if (this.lost) return;
    this.released = true;
    const rec = { ...this.record, released: true, renewedAt: new Date().toISOString() };
    await this.slot.replace(JSON.stringify(rec), this.version).catch(() => null);
  }

  /** Stops renewing (nothing is written). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private started(): WriterLease {
    // renewal between writes; unref: the lease never keeps a finished program alive
    this.timer = setInterval(() => {
      if (this.renewing !== null || this.lost || this.released) return;
      this.renewing = this.renew().finally(() => {
        this.renewing = null;
      });
      this.renewing.catch(() => undefined);
    }, Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref?.();
    return this;
  }

  private async renew(): Promise<void> {
    const now = Date.now();
    const rec: LeaseRecord = { ...this.record, renewedAt: new Date(now).toISOString(), expiresAt: new Date(now + this.ttlMs).toISOString() };
    let v: string | null;
    try {
      v = await won(this.slot, rec, () => this.slot.replace(JSON.stringify(rec), this.version));
    } catch (e) {
      // Unknown whether we still hold it: this write is refused, the next one tries again.
      throw new LeaseLostError(`ckpt-policy: could not renew the writer lease of ${this.location} (${describeCause(e)}); nothing is written or deleted without it`, { cause: e });
    }
    if (v === null) this.lose(await this.slot.read().catch(() => null));
    this.record = rec;
    this.version = v;
  }

  private lose(cur: { readonly text: string } | null): never {
    const other = cur === null ? null : parseLease(cur.text);
    const by = other === null || E.isLeft(other) ? 'another writer' : other.right.run === this.record.run ? `another open of the same run, ${describeHolder(other.right)}` : `run ${describeHolder(other.right)}`;
    this.stop();
    this.lost = new LeaseLostError(`ckpt-policy: this run (${this.record.run}) lost the writer lease of ${this.location} to ${by}: it saves and deletes nothing more there, so it cannot remove checkpoints the other run keeps`);
    throw this.lost;
  }
}

/**
 * A conditional write whose answer may be lost on the way (a dropped connection, retried by the
 * client, then refused because the first attempt had landed): when refused, the record there is
 * ours if it is exactly what we wrote.
 */
async function won(slot: LeaseSlot, rec: LeaseRecord, write: () => Promise<string | null>): Promise<string | null> {
  const v = await write();
  if (v !== null) return v;
  const cur = await slot.read();
  return cur !== null && cur.text === JSON.stringify(rec) ? cur.version : null;
}

/** Why a held lease may be taken without asking, or null while its holder may still be writing. */
function staleness(held: LeaseRecord, now: number, host: string): string | null {
  if (held.released) return 'released';
  const expires = Date.parse(held.expiresAt);
  if (!(expires > now)) return `it expired at ${held.expiresAt} (last renewed ${held.renewedAt}): the run stopped renewing it`;
  if (held.host === host && held.pid !== processId() && !processAlive(held.pid)) return `process ${held.pid} on this host has ended`;
  return null;
}

function refusal(location: string, where: string, held: LeaseRecord, now: number, host: string): string {
  const ago = Math.max(0, Math.round((now - Date.parse(held.renewedAt)) / 1000));
  const here = held.host === host && held.pid === processId() ? ' (in this process: close() the other Checkpointer first)' : '';
  return (
    `ckpt-policy: another run is writing checkpoints in ${location}: run ${describeHolder(held)} holds the folder's writer lease${here} ` +
    `(acquired ${held.acquiredAt}, last renewed ${held.renewedAt}, ${ago} s ago; it expires at ${held.expiresAt} unless renewed; ${where}). ` +
    `Two runs in one folder delete each other's checkpoints, so this one is refused before writing anything. ` +
    `Use another folder, wait for that run to end, or pass takeOver: true to take the folder over (that run then fails its next save or removal and deletes nothing more)`
  );
}

function describeHolder(h: LeaseRecord): string {
  return `${h.run} (host ${h.host}, pid ${h.pid})`;
}

// ---- the process ----------------------------------------------------------------------------

function processId(): number {
  return globalThis.process?.pid ?? 0;
}
/** Whether a pid on this host is alive: signal 0 tests without sending; EPERM means it exists. */
function processAlive(pid: number): boolean {
  if (globalThis.process?.kill === undefined) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

function randomToken(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** os.hostname() in Node, loaded by a computed specifier so a browser bundle does not follow it. */
let hostCache: string | undefined;
async function localHost(): Promise<string> {
  if (hostCache !== undefined) return hostCache;
  hostCache = 'unknown-host';
  if (globalThis.process?.versions?.node !== undefined) {
    // built at run time: a browser bundle must not take it for an import to resolve (it never runs there)
    const os = ['node', 'os'].join(':');
    hostCache = ((await import(os)) as typeof import('node:os')).hostname();
  }
  return hostCache;
}

// ---- stores without a slot ------------------------------------------------------------------

const inProcess = new Map<string, { text: string; version: number }>();

/** A compare-and-swap record in this process's memory, one per store location. */
export function inProcessSlot(store: CheckpointStore): LeaseSlot {
  const id = `${store.kind}|${store.location}`;
  return {
    where: `${store.location} (in-process lease: single writer per location assumed across processes)`,
    async read() {
      const cur = inProcess.get(id);
      return cur === undefined ? null : { text: cur.text, version: String(cur.version) };
    },
    async create(text) {
      if (inProcess.has(id)) return null;
      inProcess.set(id, { text, version: 1 });
      return '1';
    },
    async replace(text, version) {
      const cur = inProcess.get(id);
      if (cur === undefined || String(cur.version) !== version) return null;
      inProcess.set(id, { text, version: cur.version + 1 });
      return String(cur.version + 1);
    },
  };
}
