/**
 * The decision log writer: a runtime observer that appends one hash-chained JSON line per event
 * decided, per effect settled, and at the start and end of each run. Each record is one
 * `writeSync` to a descriptor opened with O_APPEND, so the loop waits for an append and nothing
 * more, and a crash leaves at most a torn last line. Appending to an existing log continues its
 * chain (a torn last line is cut off first and counted in the new head).
 */
import { PolicyConfigCodec, type PolicyConfig } from '../core/config.ts';
import { checkpointPath } from '../core/brands.ts';
import type { Effect } from '../core/effects.ts';
import type { LoopEvent } from '../core/events.ts';
import { init } from '../core/reduce.ts';
import type { PolicyState } from '../core/state.ts';
import { encodeState } from '../core/stateCodec.ts';
import { keyOf } from '../runtime/keys.ts';
import type { Decision, EffectSettlement, RuntimeObserver } from '../runtime/observer.ts';
import { canonicalJson } from './canonical.ts';
import { ChainFile } from './chainFile.ts';
import type { Note } from '../core/notes.ts';
import { reduce } from '../core/reduce.ts';
import { LOG_FORMAT, type RecordBody } from './format.ts';

export interface DecisionLogOptions {
  /** the policy's configuration; the first state the log sees (opened or decided) overrides it */
  readonly config?: PolicyConfig;
  readonly cwd?: string;
  readonly home?: string;
  /** 'close' (default): fsync when closing; 'never'; or also every `everyMs` milliseconds */
  readonly fsync?: 'close' | 'never' | { readonly everyMs: number };
  /** wall clock for `startedAt` (tests) */
  readonly now?: () => Date;
}

/** What a save wrote, for storage audits (see withDigests). */
export interface Digest {
  readonly size: number;
  readonly sha256: string;
}

type StorageEffectType = 'save' | 'remove' | 'link' | 'error';

/** A decision log open for appending. Implements the runtime's observer. */
export class DecisionLog implements RuntimeObserver {
  private recoveredTornBytes: number;
  private config: PolicyConfig | null;
  private cwd: string | null;
  private before: PolicyState | null = null;
  private headWritten = false;
  private counts = { decisions: 0, outcomes: 0 };
  /** storage effects decided and not settled yet: `${seq}:${index}` */
  private readonly unsettled = new Set<string>();
  private readonly digests = new Map<string, Digest>();
  private timer: NodeJS.Timeout | null = null;

  /** @internal use openDecisionLog */
  constructor(
    readonly path: string,
    private readonly opts: DecisionLogOptions,
    private readonly file: ChainFile,
  ) {
    this.recoveredTornBytes = file.tornBytes;
    this.config = opts.config ?? null;
    this.cwd = opts.cwd ?? null;
    const f = opts.fsync ?? 'close';
    if (typeof f === 'object') {
      this.timer = setInterval(() => this.file.sync(), f.everyMs);
      this.timer.unref();
    }
  }

  /** Records written so far (the number of the last line). */
  get records(): number {
    return this.file.records;
  }

  /** The hash of the last record written: publish it elsewhere to pin the whole log. */
  get lastHash(): string | null {
    return this.file.lastHash;
  }

  // ---- RuntimeObserver ------------------------------------------------------------------------

  /** A run starts (fresh or resumed): a new segment with the configuration at its head. */
  opened(info: { readonly state: PolicyState; readonly resumedFrom: string | null }): void {
    if (this.headWritten) this.closeSegment();
    this.startSegment(info.state, info.resumedFrom);
  }

  decided(d: Decision): void {
    const after = d.stateAfter;
    if (!this.headWritten || (after.config !== this.config && !sameConfig(after.config, this.config))) {
      if (this.headWritten) this.closeSegment();
      this.startSegment(fresh0(after.config, after.cwd, this.opts.home), null);
    }
    const notes = d.notes ?? this.notesOf(d.event);
    this.append({ type: 'decision', seq: d.seq, event: d.event, effects: d.effects, notes });
    this.counts.decisions++;
    d.effects.forEach((e, i) => {
      if (e.type !== 'log') this.unsettled.add(`${d.seq}:${i}`);
    });
    this.before = after;
  }

  effectSettled(s: EffectSettlement): void {
    const e = s.effect;
    if (e.type === 'log') return; // printed; nothing to confirm
    if (!this.headWritten) this.startSegment(null, null);
    const key = e.type === 'error' ? undefined : this.keyOf(e.path);
    const outcome = s.outcome as { status: 'done' | 'failed'; cause?: string; size?: number; sha256?: string };
    let digest: Digest | undefined;
    if (e.type === 'save' && key !== undefined) {
      digest = this.digests.get(key);
      this.digests.delete(key);
      if (outcome.status === 'done' && typeof outcome.size === 'number' && typeof outcome.sha256 === 'string') digest = { size: outcome.size, sha256: outcome.sha256 };
    }
    this.append({
      type: 'outcome',
      seq: s.seq,
      index: s.index,
      effect: e.type satisfies StorageEffectType,
      ...(e.type !== 'error' ? { path: e.path } : {}),
      ...(key !== undefined ? { key } : {}),
      status: outcome.status,
      ...(outcome.status === 'failed' ? { cause: String(outcome.cause) } : {}),
      ...(digest !== undefined && outcome.status === 'done' ? { size: digest.size, sha256: digest.sha256 } : {}),
    });
    this.counts.outcomes++;
    this.unsettled.delete(`${s.seq}:${s.index}`);
  }

  // ---- extras ----------------------------------------------------------------------------------

  /** The size and checksum of a save about to be confirmed (withDigests calls this). */
  noteStored(key: string, digest: Digest): void {
    this.digests.set(key, digest);
  }

  /** Ends the segment with a close record, syncs and closes the file. Idempotent. */
  close(): void {
    if (!this.file.isOpen) return;
    if (this.timer) clearInterval(this.timer);
    try {
      if (this.file.failed === null) {
        // a log that saw nothing and knows no policy stays as it was
        if (!this.headWritten && this.config !== null && this.cwd !== null) this.startSegment(null, null);
        if (this.headWritten) this.closeSegment();
      }
    } finally {
      this.file.close((this.opts.fsync ?? 'close') !== 'never');
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private startSegment(state: PolicyState | null, resumedFrom: string | null) {
    const config = state?.config ?? this.config;
    const cwd = state?.cwd ?? this.cwd;
    if (config === null || cwd === null) {
      throw new Error(`decision log ${this.path}: the configuration is not known yet; pass { config, cwd } to openDecisionLog or report opened() first`);
    }
    this.config = config;
    this.cwd = cwd;
    const initial = fresh0(config, cwd, this.opts.home);
    const stateJson = state === null ? null : encodeState(state);
    // the state is recorded only when the run does not start from init (an exact resume)
    const exact = stateJson !== null && !sameJson(stateJson, encodeState(initial));
    this.append({
      type: 'head',
      format: LOG_FORMAT,
      config: PolicyConfigCodec.encode(config),
      cwd,
      ...(this.opts.home !== undefined ? { home: this.opts.home } : {}),
      resumedFrom,
      ...(exact && stateJson !== null ? { state: stateJson } : {}),
      ...(this.recoveredTornBytes > 0 ? { recoveredTornBytes: this.recoveredTornBytes } : {}),
      startedAt: (this.opts.now ?? (() => new Date()))().toISOString(),
    });
    this.recoveredTornBytes = 0;
    this.headWritten = true;
    this.before = state ?? initial;
    this.counts = { decisions: 0, outcomes: 0 };
    this.unsettled.clear();
  }

  private closeSegment() {
    this.append({ type: 'close', decisions: this.counts.decisions, outcomes: this.counts.outcomes, unsettled: this.unsettled.size });
    this.headWritten = false;
  }

  /** The reducer's notes for a decision reported without them (the reducer is pure: the same step again). */
  private notesOf(event: LoopEvent): readonly Note[] {
    // the notes are derived data: a failure here must not stop training (verify will report it)
    try {
      return this.before === null ? [] : reduce(this.before, event)[2];
    } catch {
      return [];
    }
  }

  private keyOf(path: string): string | undefined {
    const dirpath = this.before?.dirpath;
    if (dirpath === null || dirpath === undefined || this.cwd === null) return undefined;
    try {
      return keyOf(dirpath, checkpointPath(path), this.cwd);
    } catch {
      return undefined;
    }
  }

  private append(body: RecordBody) {
    this.file.append(body);
  }
}

function fresh0(config: PolicyConfig, cwd: string, home: string | undefined): PolicyState {
  return init(config, { cwd, ...(home !== undefined ? { home } : {}) })[0];
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function sameConfig(a: PolicyConfig, b: PolicyConfig | null): boolean {
  return b !== null && canonicalJson(PolicyConfigCodec.encode(a)) === canonicalJson(PolicyConfigCodec.encode(b));
}

/**
 * Opens (or creates) a decision log for appending. An existing log's chain is continued from its
 * last record; a torn last line (a crash mid-append) is cut off and counted in the next head.
 * Refuses a log whose last complete line is not a record.
 */
export function openDecisionLog(path: string, opts: DecisionLogOptions = {}): DecisionLog {
  return new DecisionLog(path, opts, ChainFile.open(path));
}
