/**
 * `ckpt audit storage`: what the decision log says should be in storage against what is there.
 * The expected contents follow the log: the listing each setup (or filesListed) event carried,
 * then every storage effect as its outcome reports it (a failed save leaves the key as it was, a
 * failed removal leaves the file); effects without an outcome are assumed carried out and counted.
 * Findings: missing checkpoints, orphans (files the policy removed or never wrote), a link where a
 * file should be (or the other way), a wrong link target, and size or SHA-256 mismatches where the
 * log recorded them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig } from '../core/config.ts';
import { checkpointPath } from '../core/brands.ts';
import type { Effect } from '../core/effects.ts';
import { init, reduce } from '../core/reduce.ts';
import type { PolicyState } from '../core/state.ts';
import { decodeState } from '../core/stateCodec.ts';
import { keyOf } from '../runtime/keys.ts';
import { readLease } from '../runtime/lease.ts';
import { payloadToBytes } from '../../plugins/payload/codec.ts';
import type { CheckpointStore, StoredEntry } from '../core/store.ts';
import { sha256Hex } from './canonical.ts';
import { stateJsonOf, type LogRecord } from './format.ts';
import { readLog, sourceName, type LogSource } from './reader.ts';
import { isDialectHead } from './format.ts';
import { verifyLog, type VerifyStatus } from './verify.ts';

export type FindingKind = 'missing' | 'orphan' | 'kind' | 'target' | 'size' | 'checksum' | 'unreadable';

export interface Finding {
  readonly kind: FindingKind;
  readonly key: string;
  readonly message: string;
}

export type StorageStatus = 'clean' | 'drift' | 'unreadable';
export const STORAGE_EXIT: Record<StorageStatus, number> = { clean: 0, drift: 1, unreadable: 2 };

export interface StorageReport {
  readonly log: string;
  readonly location: string;
  readonly status: StorageStatus;
  readonly exitCode: number;
  /** what `audit verify` says of the log (storage is compared only when its chain holds) */
  readonly logStatus: VerifyStatus;
  readonly findings: readonly Finding[];
  readonly expected: number;
  readonly stored: number;
  readonly sizesChecked: number;
  readonly checksumsChecked: number;
  /** expected files with no recorded size / checksum (not checked) */
  readonly withoutSize: number;
  readonly withoutChecksum: number;
  /** storage effects with no outcome in the log, assumed carried out */
  readonly unconfirmed: number;
  /** stored entries that are not checkpoints (other extensions) and not expected: left alone */
  readonly ignored: readonly string[];
  readonly unreadable?: string;
  /** removals that failed in storage, as the writer lease records them (the next open retries them) */
  readonly pendingRemovals?: readonly string[];
}

export interface StorageAuditOptions {
  /** the log's own key when it lives in the store (never an orphan) */
  readonly logKey?: string;
  /** read every checkpoint with a recorded SHA-256 and compare (default true) */
  readonly checksums?: boolean;
}

/** What should be at a key, and which record put it there. */
interface Expected {
  readonly kind: 'file' | 'link';
  /** link text, for links */
  readonly target?: string;
  readonly size?: number;
  readonly sha256?: string;
  readonly origin: string;
}

type StorageEffect = Extract<Effect, { type: 'save' | 'remove' | 'link' }>;

interface PendingEffect {
  readonly record: number;
  readonly seq: number;
  readonly effect: StorageEffect;
  readonly key: string | null;
}

/** The expected contents of the checkpoint directory after the whole log. */
class Expectation {
  readonly files = new Map<string, Expected>();
  /** the last thing the log says happened to each key, for orphan messages */
  readonly history = new Map<string, string>();
  readonly outsideDir: string[] = [];
  extension = '.ckpt';
  unconfirmed = 0;
  private state: PolicyState | null = null;
  private cwd = '/';
  private readonly pending = new Map<string, PendingEffect>();

  record(r: LogRecord) {
    switch (r.type) {
      case 'line':
        return; // a dialect session's line: nothing this audit models
      case 'head': {
        if (isDialectHead(r)) return;
        const cfg = decodeConfig(r.config);
        if (E.isLeft(cfg)) return;
        this.extension = cfg.right.fileExtension;
        this.cwd = r.cwd;
        const st = r.state === undefined ? null : decodeState(stateJsonOf(r.state as unknown as Record<string, unknown>));
        this.state = st !== null && E.isRight(st) ? st.right : init(cfg.right, { cwd: r.cwd, ...(r.home !== undefined ? { home: r.home } : {}) })[0];
        return;
      }
      case 'decision':
        return this.decision(r);
      case 'outcome': {
        const p = this.pending.get(`${r.seq}:${r.index}`);
        if (p === undefined) return;
        this.pending.delete(`${r.seq}:${r.index}`);
        if (r.status === 'done') this.apply(p, r.size !== undefined && r.sha256 !== undefined ? { size: r.size, sha256: r.sha256 } : undefined);
        else if (p.key !== null) this.history.set(p.key, `its ${p.effect.type} failed at record ${r.n} (${r.cause ?? 'no cause'})`);
        return;
      }
      case 'close':
        return;
    }
  }

  private decision(r: Extract<LogRecord, { type: 'decision' }>) {
    const ev = r.event;
    if ((ev.type === 'setup' || ev.type === 'filesListed') && this.state !== null) {
      // the listing is what storage held when the policy looked; it replaces the expectation
      if (ev.type === 'setup') this.state = reduce(this.state, ev)[0];
      const dirpath = this.state.dirpath;
      const before = new Map(this.files);
      this.files.clear();
      for (const f of ev.files ?? []) {
        if (f.kind === 'dir' || dirpath === null) continue;
        const key = this.keyOf(f.path);
        if (key === null) continue;
        const was = before.get(key);
        // a file the policy wrote keeps its recorded size and checksum while it stays listed
        this.files.set(key, was && was.kind === (f.kind === 'symlink' ? 'link' : 'file') ? was : { kind: f.kind === 'symlink' ? 'link' : 'file', ...(f.target !== undefined ? { target: f.target } : {}), origin: `listed by the ${ev.type} event at record ${r.n}` });
      }
      for (const [key, was] of before) {
        if (!this.files.has(key)) this.history.set(key, `${was.origin}, then left out of the listing of the ${ev.type} event at record ${r.n} (the policy no longer tracks it)`);
      }
    }
    r.effects.forEach((e, index) => {
      if (e.type !== 'save' && e.type !== 'remove' && e.type !== 'link') return;
      const key = this.keyOf(e.path);
      if (key === null) this.outsideDir.push(e.path);
      this.pending.set(`${r.seq}:${index}`, { record: r.n, seq: r.seq, effect: e, key });
    });
  }

  private keyOf(path: string): string | null {
    const dirpath = this.state?.dirpath;
    if (dirpath === null || dirpath === undefined) return null;
    try {
      return keyOf(dirpath, checkpointPath(path), this.cwd);
    } catch {
      return null;
    }
  }

  private apply(p: PendingEffect, digest?: { size: number; sha256: string }) {
    if (p.key === null) return;
    const e = p.effect;
    const where = `record ${p.record} (decision seq ${p.seq})`;
    switch (e.type) {
      case 'save':
        this.files.set(p.key, { kind: 'file', ...(digest ?? {}), origin: `saved by ${where}` });
        this.history.set(p.key, `saved by ${where}`);
        break;
      case 'link':
        this.files.set(p.key, { kind: 'link', target: e.relTarget, origin: `linked by ${where}` });
        this.history.set(p.key, `linked by ${where}`);
        break;
      case 'remove':
        this.files.delete(p.key);
        this.history.set(p.key, `removed by ${where} (${e.reason.rule})`);
        break;
    }
  }

  /** Effects never confirmed: assumed carried out, in the order decided. */
  finish() {
    for (const p of this.pending.values()) {
      this.unconfirmed++;
      this.apply(p);
    }
    this.pending.clear();
  }
}

export async function auditStorage(source: LogSource, store: CheckpointStore, opts: StorageAuditOptions = {}): Promise<StorageReport> {
  const log = sourceName(source);
  const verified = verifyLog(source);
  const base = {
    log,
    location: store.location,
    logStatus: verified.status,
    findings: [] as Finding[],
    expected: 0,
    stored: 0,
    sizesChecked: 0,
    checksumsChecked: 0,
    withoutSize: 0,
    withoutChecksum: 0,
    unconfirmed: 0,
    ignored: [] as string[],
  };
  const unreadable = (why: string): StorageReport => ({ ...base, status: 'unreadable', exitCode: STORAGE_EXIT.unreadable, unreadable: why });
  if (verified.status === 'unreadable') return unreadable(verified.unreadable ?? `${log} cannot be read`);
  if (verified.chain !== null) return unreadable(`the log fails its integrity check (${verified.chain.message}); it cannot say what storage should hold`);
  if (verified.lines > 0 && verified.decisions === 0) return unreadable(`${log} records dialect sessions (ckpt serve --dialect), whose loops carry out their own effects: audit storage compares Lightning decision logs with storage (for a transformers run, see ckpt audit trainer)`);

  const exp = new Expectation();
  for (const item of readLog(source)) if (item.kind === 'record') exp.record(item.record);
  exp.finish();
  // the log in the checkpoint folder is in every listing after its first line was written
  if (opts.logKey !== undefined) exp.files.delete(opts.logKey);

  let entries: StoredEntry[];
  try {
    entries = await store.list();
  } catch (e) {
    return unreadable(`cannot list ${store.location}: ${(e as Error).message}`);
  }
  const findings: Finding[] = [];
  const stored = new Map(entries.filter((e) => e.key !== opts.logKey).map((e) => [e.key, e]));
  let sizesChecked = 0;
  let checksumsChecked = 0;
  let withoutSize = 0;
  let withoutChecksum = 0;
  for (const [key, want] of [...exp.files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const got = stored.get(key);
    if (got === undefined) {
      findings.push({ kind: 'missing', key, message: `missing   ${key}: ${want.origin}, not in storage` });
      continue;
    }
    if (want.kind === 'file' && got.kind === 'symlink') {
      findings.push({ kind: 'kind', key, message: `kind      ${key}: a checkpoint file is expected (${want.origin}), storage holds a link to ${got.target ?? '?'}` });
      continue;
    }
    if (want.kind === 'link') {
      // a store without links copies; a link must point where the policy linked it
      if (got.kind === 'symlink' && want.target !== undefined && got.target !== want.target) {
        findings.push({ kind: 'target', key, message: `target    ${key}: ${want.origin} to ${want.target}, the link points to ${got.target ?? '?'}` });
      }
      continue;
    }
    if (want.size === undefined) withoutSize++;
    else if (got.size !== undefined) {
      sizesChecked++;
      if (got.size !== want.size) {
        findings.push({ kind: 'size', key, message: `size      ${key}: ${want.size} bytes recorded (${want.origin}), ${got.size} bytes in storage` });
        continue;
      }
    }
    if (want.sha256 === undefined) withoutChecksum++;
    else if (opts.checksums !== false) {
      let actual: string;
      try {
        actual = sha256Hex(await storedBytes(store, key));
      } catch (e) {
        findings.push({ kind: 'unreadable', key, message: `unreadable ${key}: ${(e as Error).message}` });
        continue;
      }
      checksumsChecked++;
      if (actual !== want.sha256) findings.push({ kind: 'checksum', key, message: `checksum  ${key}: sha256 ${want.sha256.slice(0, 16)}… recorded (${want.origin}), ${actual.slice(0, 16)}… in storage` });
    }
  }
  const ignored: string[] = [];
  for (const [key, got] of stored) {
    if (exp.files.has(key)) continue;
    const history = exp.history.get(key);
    if (history === undefined && got.kind === 'file' && !key.endsWith(exp.extension)) {
      ignored.push(key);
      continue;
    }
    findings.push({ kind: 'orphan', key, message: `orphan    ${key}: ${history ? `${history}, still in storage` : 'never written by the policy (not in any listing or save of this log)'}` });
  }
  const status: StorageStatus = findings.length > 0 ? 'drift' : 'clean';
  const pendingRemovals = (await readLease(store).catch(() => null))?.orphans ?? [];
  return {
    ...base,
    pendingRemovals,
    status,
    exitCode: STORAGE_EXIT[status],
    findings,
    expected: exp.files.size,
    stored: stored.size,
    sizesChecked,
    checksumsChecked,
    withoutSize,
    withoutChecksum,
    unconfirmed: exp.unconfirmed,
    ignored,
  };
}

/** The bytes a store holds for a key: the file itself on a local folder, the decoded payload re-encoded elsewhere. */
async function storedBytes(store: CheckpointStore, key: string): Promise<Uint8Array> {
  if (store.kind === 'fs') return readFile(join(store.location, ...key.split('/')));
  return payloadToBytes(await store.read(key));
}

export function formatStorageReport(r: StorageReport): string[] {
  const out: string[] = [];
  if (r.status === 'unreadable') return [`unreadable: ${r.unreadable ?? ''}`, 'result: unreadable'];
  out.push(`${r.location} compared with ${r.log} (log: ${r.logStatus})`);
  for (const f of r.findings) out.push(f.message);
  out.push(`checked: ${r.expected} expected, ${r.stored} stored; sizes compared for ${r.sizesChecked}, checksums for ${r.checksumsChecked}`);
  if (r.withoutSize > 0 || r.withoutChecksum > 0) out.push(`not checked: ${r.withoutSize} without a recorded size, ${r.withoutChecksum} without a recorded checksum (the writer did not record them)`);
  if (r.unconfirmed > 0) out.push(`note: ${r.unconfirmed} storage effect(s) have no recorded outcome; assumed carried out`);
  if (r.ignored.length > 0) out.push(`ignored (not checkpoints): ${r.ignored.join(', ')}`);
  for (const k of r.pendingRemovals ?? []) out.push(`pending removal ${k}: its removal failed in storage (an orphan); the next open of this folder retries it`);
  out.push(`result: ${r.status}${r.findings.length ? ` (${r.findings.length} finding${r.findings.length > 1 ? 's' : ''})` : ''}`);
  return out;
}
