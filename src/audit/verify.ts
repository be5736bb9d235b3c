/**
 * `ckpt audit verify`: the chain must hold, and replaying each segment's recorded events through
 * its recorded policy must give exactly the recorded decisions (effects with their reasons, and the
 * notes of rules that did not act). A dialect segment (a `ckpt serve --dialect` session) replays
 * each recorded input line through the same dialect and must give exactly the recorded answer.
 * Outcomes must name effects that were decided, once each, and agree with what the decisions
 * imply (no removal carried out after a failed save, "withheld" only after one); close records must
 * count what their segment holds, unsettled effects included. With an anchor (`expectHead`, the
 * last hash kept elsewhere) the log must end at exactly that record. The first divergence and the
 * first chain problem are reported with the record number, the field, what was expected and what
 * was recorded.
 */
import { existsSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig, PolicyConfigCodec, type PolicyConfig } from '../core/config.ts';
import type { Effect } from '../core/effects.ts';
import type { LoopEvent } from '../core/events.ts';
import type { Note } from '../core/notes.ts';
import { init, reduce } from '../core/reduce.ts';
import type { PolicyState } from '../core/state.ts';
import { decodeState, encodeState } from '../core/stateCodec.ts';
import { canonicalJson } from './canonical.ts';
import { isDialectHead, stateJsonOf, type LogDialect, type LogRecord } from './format.ts';
import { firstDifference } from './jsonDiff.ts';
import { answerLine, withDialect } from '../sidecar/dialects/index.ts';
import type { Dialect } from '../sidecar/dialects/dialect.ts';
import { readLog, sourceName, type ChainProblem, type LogSource } from './reader.ts';
import { headBytes, notTextProblem } from '../sources/text.ts';

export interface Divergence {
  readonly record: number;
  readonly seq: number | null;
  /** e.g. 'effects[1]', 'notes', 'seq', 'config', 'state', 'outcome', 'close.decisions' */
  readonly field: string;
  readonly expected: unknown;
  readonly recorded: unknown;
  readonly message: string;
}

export type VerifyStatus = 'verified' | 'tampered' | 'incomplete' | 'unreadable';

export const VERIFY_EXIT: Record<VerifyStatus, number> = { verified: 0, tampered: 1, unreadable: 2, incomplete: 3 };

export interface VerifyReport {
  readonly source: string;
  readonly status: VerifyStatus;
  readonly exitCode: number;
  readonly records: number;
  readonly segments: number;
  readonly decisions: number;
  readonly outcomes: number;
  /** input lines of dialect sessions, each replayed with its answer */
  readonly lines: number;
  /** the anchor given (`--expect-head`), and whether the log ends at it */
  readonly anchor: { readonly expected: string; readonly record: number | null; readonly matches: boolean } | null;
  /** the first integrity problem, and how many records had one */
  readonly chain: ChainProblem | null;
  readonly chainProblems: number;
  readonly divergence: Divergence | null;
  readonly torn: { readonly record: number; readonly bytes: number } | null;
  /** the last segment ends with a close record */
  readonly closed: boolean;
  /** the hash of the last whole record: compare it with a copy kept elsewhere to pin the log */
  readonly lastHash: string | null;
  /** facts worth knowing that are not failures (resumes, unsettled effects, recovered torn lines) */
  readonly observations: readonly string[];
  /** why the log could not be read at all */
  readonly unreadable?: string;
}

/** What one decided effect is, for matching its outcome. */
interface Decided {
  readonly record: number;
  readonly effects: ReadonlyArray<{ readonly type: Effect['type']; readonly path?: string }>;
  readonly settled: Set<number>;
}

/** A dialect session being replayed: its framework, the session state, the last line number. */
interface DialectReplay {
  readonly name: LogDialect;
  state: unknown;
  lastLine: number;
  /** false once the replay cannot go on (a divergence, a chain problem inside the segment) */
  live: boolean;
}

/** A storage effect's outcome, for the checks across outcomes at the end of a segment. */
interface SettledEffect {
  readonly record: number;
  readonly seq: number;
  readonly index: number;
  readonly effect: string;
  readonly path: string | undefined;
  readonly status: 'done' | 'failed';
  readonly cause: string | undefined;
}

interface Segment {
  readonly head: number;
  readonly config: PolicyConfig | null;
  /** set for a dialect session's segment */
  readonly dialect: DialectReplay | null;
  /** storage effects decided in this segment with no outcome yet (`seq:index`), as the writer counts them */
  readonly open: Set<string>;
  readonly settled: SettledEffect[];
  /** null once the replay cannot go on (a bad head, a chain problem inside the segment) */
  state: PolicyState | null;
  lastSeq: number | null;
  decisions: number;
  outcomes: number;
  closed: boolean;
}

const describeEvent = (e: LoopEvent): string => {
  const v = 'view' in e && e.view ? e.view : null;
  return v ? `${e.type}, epoch ${v.epoch}, step ${v.globalStep}` : e.type;
};

export interface VerifyOptions {
  /** the hash of the last record, kept where the writer cannot change it: the log must end there */
  readonly expectHead?: string;
}

export function verifyLog(source: LogSource, opts: VerifyOptions = {}): VerifyReport {
  const name = sourceName(source);
  const observations: string[] = [];
  if (source.kind === 'file' && !existsSync(source.path)) return unreadableReport(name, `${name}: no such file`);
  const notText = notTextProblem(source.kind === 'file' ? headBytes(source.path) : source.data.subarray(0, 4096), 'decision log (JSON lines)');
  if (notText !== null) return unreadableReport(name, `${name}: ${notText}`);
  const v = new Verifier(observations, opts.expectHead ?? null);
  try {
    for (const item of readLog(source)) {
      switch (item.kind) {
        case 'torn':
          v.torn = { record: item.record, bytes: item.bytes };
          break;
        case 'problem':
          v.records++;
          v.chainProblem(item.problem);
          break;
        case 'record':
          v.records++;
          v.lastHash = item.record.hash;
          if (item.record.hash === opts.expectHead) v.anchorAt = item.record.n;
          v.record(item.record, item.raw);
          break;
      }
    }
  } catch (e) {
    return unreadableReport(name, `${name}: ${(e as Error).message}`);
  }
  return v.report(name);
}

function unreadableReport(source: string, why: string): VerifyReport {
  return {
    source,
    status: 'unreadable',
    exitCode: VERIFY_EXIT.unreadable,
    records: 0,
    segments: 0,
    decisions: 0,
    outcomes: 0,
    lines: 0,
    anchor: null,
    chain: null,
    chainProblems: 0,
    divergence: null,
    torn: null,
    closed: false,
    lastHash: null,
    observations: [],
    unreadable: why,
  };
}

class Verifier {
  records = 0;
  segments = 0;
  decisions = 0;
  outcomes = 0;
  lines = 0;
  /** the record whose hash is the anchor, when one was given and the log holds it */
  anchorAt: number | null = null;
  chain: ChainProblem | null = null;
  chainProblems = 0;
  divergence: Divergence | null = null;
  torn: { record: number; bytes: number } | null = null;
  lastHash: string | null = null;
  firstType: string | null = null;
  formatProblem: ChainProblem | null = null;
  /** lines shaped like records (JSON ending in a hash field), whether or not their hash checks */
  sealed = 0;
  private seg: Segment | null = null;
  /** the newest decision per seq with storage effects still waiting for outcomes */
  private readonly pending = new Map<number, Decided>();
  /** the state after the decision that last saved each path (to check where a resume started) */
  private readonly savedStates = new Map<string, { record: number; state: PolicyState }>();
  private unsettled = 0;

  constructor(
    private readonly observations: string[],
    private readonly expectHead: string | null,
  ) {}

  chainProblem(p: ChainProblem) {
    if (!p.unsealed) this.sealed++;
    if (p.kind === 'format' && this.formatProblem === null) this.formatProblem = p;
    this.chainProblems++;
    if (this.chain === null) this.chain = p;
    if (this.firstType === null) this.firstType = 'problem';
    // the records after it in this segment cannot be replayed faithfully
    if (this.seg?.dialect) this.seg.dialect.live = false;
    if (this.seg && this.seg.state !== null) {
      this.seg.state = null;
      this.observations.push(`replay of the segment starting at record ${this.seg.head} stopped at record ${p.record} (integrity problem)`);
    }
  }

  diverge(d: Divergence) {
    if (this.divergence === null) this.divergence = d;
    if (this.seg) this.seg.state = null;
    if (this.seg?.dialect) this.seg.dialect.live = false;
  }

  record(r: LogRecord, raw: Record<string, unknown>) {
    this.sealed++;
    if (this.firstType === null) this.firstType = r.type;
    switch (r.type) {
      case 'head':
        return this.head(r);
      case 'decision':
        return this.decision(r, raw);
      case 'outcome':
        return this.outcome(r);
      case 'close':
        return this.close(r);
      case 'line':
        return this.line(r, raw);
      default:
        return assertNever(r);
    }
  }

  private endSegment(at: number | null) {
    const s = this.seg;
    if (s && !s.closed && at !== null) this.observations.push(`the segment starting at record ${s.head} has no close record before record ${at}: its writer stopped without closing the log`);
    if (s) this.checkSettled(s);
  }

  /**
   * What the outcomes of a segment imply together: a failed save withholds every removal and link
   * decided after it (a failed save never causes a deletion), so one carried out after it, or one
   * "withheld" with no failed save before it, contradicts the outcome records.
   */
  private checkSettled(s: Segment) {
    const before = (a: SettledEffect, b: SettledEffect) => a.seq < b.seq || (a.seq === b.seq && a.index < b.index);
    const failedSaves = s.settled.filter((o) => o.effect === 'save' && o.status === 'failed');
    for (const o of s.settled) {
      if (o.effect !== 'remove' && o.effect !== 'link') continue;
      const failed = failedSaves.find((f) => before(f, o));
      if (o.status === 'done' && failed !== undefined) {
        return this.diverge({
          record: o.record,
          seq: o.seq,
          field: 'outcome.status',
          expected: 'failed (withheld)',
          recorded: 'done',
          message: `record ${o.record}: outcome.status: the ${o.effect} of ${o.path ?? '?'} (decision seq ${o.seq}) is recorded done, but the save of ${failed.path ?? '?'} (decision seq ${failed.seq}) failed at record ${failed.record} before it: a failed save withholds every later removal and link`,
        });
      }
      if (o.status === 'failed' && failed === undefined && o.cause?.startsWith('withheld') === true) {
        return this.diverge({
          record: o.record,
          seq: o.seq,
          field: 'outcome.cause',
          expected: 'a failed save before a withheld effect',
          recorded: o.cause,
          message: `record ${o.record}: outcome.cause: the ${o.effect} of ${o.path ?? '?'} (decision seq ${o.seq}) is recorded withheld, but no save before it failed in this segment`,
        });
      }
    }
  }

  private newSegment(head: number, config: PolicyConfig | null, state: PolicyState | null, dialect: DialectReplay | null): Segment {
    return { head, config, dialect, state, lastSeq: null, decisions: 0, outcomes: 0, closed: false, open: new Set(), settled: [] };
  }

  private head(r: Extract<LogRecord, { type: 'head' }>) {
    this.endSegment(r.n);
    this.segments++;
    if (r.recoveredTornBytes) this.observations.push(`record ${r.n}: the writer cut off a torn last line of ${r.recoveredTornBytes} bytes left by a crash before appending`);
    if (isDialectHead(r)) {
      this.seg = this.newSegment(r.n, null, null, { name: r.dialect, state: null, lastLine: 0, live: true });
      return;
    }
    const decoded = decodeConfig(r.config);
    if (E.isLeft(decoded)) {
      this.seg = this.newSegment(r.n, null, null, null);
      return this.diverge({ record: r.n, seq: null, field: 'config', expected: 'valid ModelCheckpoint options', recorded: r.config, message: `record ${r.n}: config: not a valid configuration: ${decoded.left.map((i) => i.message).join('; ')}` });
    }
    const config = decoded.right;
    const [fresh] = init(config, { cwd: r.cwd, ...(r.home !== undefined ? { home: r.home } : {}) });
    this.seg = this.newSegment(r.n, config, fresh, null);
    if (r.state === undefined) {
      if (r.resumedFrom !== null) this.observations.push(`record ${r.n}: resumed from ${r.resumedFrom} through Lightning's state_dict (the events that follow restore it)`);
      return;
    }
    const st = decodeState(stateJsonOf(r.state as unknown as Record<string, unknown>));
    if (E.isLeft(st)) {
      return this.diverge({ record: r.n, seq: null, field: 'state', expected: 'a policy state', recorded: '(unreadable)', message: `record ${r.n}: state: ${st.left.slice(0, 3).join('; ')}` });
    }
    const state = st.right;
    const enc = (c: PolicyConfig) => canonicalJson(PolicyConfigCodec.encode(c));
    if (enc(state.config) !== enc(config) || state.cwd !== r.cwd) {
      return this.diverge({
        record: r.n,
        seq: null,
        field: 'state.config',
        expected: { config: PolicyConfigCodec.encode(config), cwd: r.cwd },
        recorded: { config: PolicyConfigCodec.encode(state.config), cwd: state.cwd },
        message: `record ${r.n}: state.config: the resumed state was written under another configuration or working directory than the head records`,
      });
    }
    this.seg.state = state;
    this.checkResumeProvenance(r, state);
  }

  /** A resumed state should be the one the log itself recorded for the checkpoint it names. */
  private checkResumeProvenance(r: Extract<LogRecord, { type: 'head'; config: unknown }>, state: PolicyState) {
    const from = r.resumedFrom;
    if (from === null) return;
    const saved = this.savedStates.get(from) ?? [...this.savedStates.entries()].find(([p]) => p.endsWith('/' + from))?.[1];
    if (saved === undefined) {
      this.observations.push(`record ${r.n}: resumed from ${from}, which this log did not save: the state is taken as recorded`);
      return;
    }
    const a = canonicalJson(encodeState(saved.state));
    const b = canonicalJson(encodeState(state));
    if (a === b) this.observations.push(`record ${r.n}: resumed from ${from} with the state recorded after record ${saved.record}, which saved it`);
    else {
      this.diverge({
        record: r.n,
        seq: null,
        field: 'state',
        expected: `the state after record ${saved.record}, which saved ${from}`,
        recorded: 'a different state',
        message: `record ${r.n}: state: the run resumed from ${from} with a state that differs from the one after record ${saved.record}, the decision that saved it`,
      });
    }
  }

  private segmentFor(n: number, what: string): Segment | null {
    const s = this.seg;
    if (s === null || s.closed) {
      this.diverge({ record: n, seq: null, field: 'type', expected: 'a head record first', recorded: what, message: `record ${n}: type: a ${what} record outside a segment (${s === null ? 'before any head' : `after the close at the end of the segment from record ${s.head}`})` });
      return null;
    }
    if (what !== 'close' && (what === 'line') !== (s.dialect !== null)) {
      const kind = s.dialect !== null ? `a ${s.dialect.name} session` : 'a Lightning run';
      this.diverge({ record: n, seq: null, field: 'type', expected: s.dialect !== null ? 'line' : 'decision or outcome', recorded: what, message: `record ${n}: type: a ${what} record in the segment from record ${s.head}, which records ${kind}` });
      return null;
    }
    return s;
  }

  /** A dialect session's line: replayed through the same dialect, its answer must be the recorded one. */
  private line(r: Extract<LogRecord, { type: 'line' }>, raw: Record<string, unknown>) {
    this.lines++;
    const s = this.segmentFor(r.n, 'line');
    if (s === null || s.dialect === null) return;
    s.decisions++;
    const d = s.dialect;
    if (r.line !== d.lastLine + 1) {
      this.diverge({ record: r.n, seq: null, field: 'line', expected: d.lastLine + 1, recorded: r.line, message: `record ${r.n}: line: expected ${d.lastLine + 1} (the line after line ${d.lastLine} of the session), found ${r.line}: a line is missing or out of order` });
    }
    d.lastLine = r.line;
    if (!d.live) return;
    const state = d.state;
    const [next, answer] = withDialect(d.name, <S,>(dialect: Dialect<S>) => answerLine(dialect, state as S | null, r.line, r.input) as readonly [unknown, Record<string, unknown>]);
    const diff = firstDifference(answer, raw.answer, 'answer');
    if (diff !== null) {
      const show = (v: unknown) => (typeof v === 'string' ? v : canonicalJson(v));
      return this.diverge({
        record: r.n,
        seq: null,
        field: diff.path,
        expected: diff.expected,
        recorded: diff.recorded,
        message: `record ${r.n} (line ${r.line} of the ${d.name} session): ${diff.path}: the dialect answers ${show(diff.expected)}, the log records ${show(diff.recorded)}`,
      });
    }
    d.state = next;
  }

  private decision(r: Extract<LogRecord, { type: 'decision' }>, raw: Record<string, unknown>) {
    this.decisions++;
    const s = this.segmentFor(r.n, 'decision');
    if (s === null) return;
    s.decisions++;
    const storage = r.effects.map((e) => (e.type === 'save' || e.type === 'remove' || e.type === 'link' ? { type: e.type, path: e.path } : { type: e.type }));
    if (storage.some((e) => e.type !== 'log')) {
      this.pending.set(r.seq, { record: r.n, effects: storage, settled: new Set() });
      this.unsettled += storage.filter((e) => e.type !== 'log').length;
    }
    storage.forEach((e, i) => {
      if (e.type !== 'log') s.open.add(`${r.seq}:${i}`);
    });
    if (s.lastSeq !== null && r.seq !== s.lastSeq + 1) {
      this.diverge({ record: r.n, seq: r.seq, field: 'seq', expected: s.lastSeq + 1, recorded: r.seq, message: `record ${r.n}: seq: expected ${s.lastSeq + 1} (the decision after seq ${s.lastSeq}), found ${r.seq}: a decision is missing or out of order` });
    }
    s.lastSeq = r.seq;
    const before = s.state;
    if (before === null) return;
    let after: PolicyState;
    let effects: readonly Effect[];
    let stepNotes: readonly Note[];
    try {
      [after, effects, stepNotes] = reduce(before, r.event);
    } catch (e) {
      return this.diverge({ record: r.n, seq: r.seq, field: 'event', expected: 'an event the policy can reduce', recorded: r.event, message: `record ${r.n}: event: the policy cannot reduce it (${(e as Error).message})` });
    }
    const where = `record ${r.n} (seq ${r.seq}, ${describeEvent(r.event)})`;
    const recordedEffects = raw.effects as unknown[];
    const n = Math.max(effects.length, recordedEffects.length);
    for (let i = 0; i < n; i++) {
      const exp = i < effects.length ? canonicalJson(effects[i]) : null;
      const rec = i < recordedEffects.length ? canonicalJson(recordedEffects[i]) : null;
      if (exp !== rec) {
        return this.diverge({
          record: r.n,
          seq: r.seq,
          field: `effects[${i}]`,
          expected: exp === null ? '(no effect)' : JSON.parse(exp),
          recorded: rec === null ? '(no effect)' : JSON.parse(rec),
          message: `${where}: effects[${i}]: the policy decides ${exp ?? '(nothing more)'}, the log records ${rec ?? '(nothing more)'}`,
        });
      }
    }
    const notes = canonicalJson(stepNotes);
    const recNotes = canonicalJson(raw.notes);
    if (notes !== recNotes) {
      return this.diverge({ record: r.n, seq: r.seq, field: 'notes', expected: JSON.parse(notes), recorded: JSON.parse(recNotes), message: `${where}: notes: the policy's reasons are ${notes}, the log records ${recNotes}` });
    }
    for (const e of effects) if (e.type === 'save' || e.type === 'link') this.savedStates.set(e.path, { record: r.n, state: after });
    s.state = after;
  }

  private outcome(r: Extract<LogRecord, { type: 'outcome' }>) {
    this.outcomes++;
    const s = this.segmentFor(r.n, 'outcome');
    if (s === null) return;
    s.outcomes++;
    s.open.delete(`${r.seq}:${r.index}`);
    s.settled.push({ record: r.n, seq: r.seq, index: r.index, effect: r.effect, path: r.path, status: r.status, cause: r.cause });
    const d = this.pending.get(r.seq);
    const eff = d?.effects[r.index];
    if (d === undefined || eff === undefined) {
      return this.diverge({ record: r.n, seq: r.seq, field: 'outcome', expected: 'an effect decided earlier in the log', recorded: { seq: r.seq, index: r.index }, message: `record ${r.n}: outcome: names effect #${r.index} of decision seq ${r.seq}, which the log does not hold (or whose outcomes are all recorded)` });
    }
    if (eff.type !== r.effect || (eff.path !== undefined && eff.path !== r.path)) {
      return this.diverge({
        record: r.n,
        seq: r.seq,
        field: 'outcome.effect',
        expected: eff,
        recorded: { type: r.effect, path: r.path },
        message: `record ${r.n}: outcome: effect #${r.index} of decision seq ${r.seq} (record ${d.record}) is ${eff.type} ${eff.path ?? ''}, the outcome names ${r.effect} ${r.path ?? ''}`,
      });
    }
    if (d.settled.has(r.index)) {
      return this.diverge({ record: r.n, seq: r.seq, field: 'outcome', expected: 'one outcome per effect', recorded: r.index, message: `record ${r.n}: outcome: effect #${r.index} of decision seq ${r.seq} already has an outcome` });
    }
    d.settled.add(r.index);
    this.unsettled--;
  }

  private close(r: Extract<LogRecord, { type: 'close' }>) {
    const s = this.segmentFor(r.n, 'close');
    if (s === null) return;
    s.closed = true;
    if (r.decisions !== s.decisions) {
      this.diverge({ record: r.n, seq: null, field: 'decisions', expected: s.decisions, recorded: r.decisions, message: `record ${r.n}: decisions: the segment from record ${s.head} holds ${s.decisions} decision records, its close counts ${r.decisions}` });
    } else if (r.outcomes !== s.outcomes) {
      this.diverge({ record: r.n, seq: null, field: 'outcomes', expected: s.outcomes, recorded: r.outcomes, message: `record ${r.n}: outcomes: the segment from record ${s.head} holds ${s.outcomes} outcome records, its close counts ${r.outcomes}` });
    } else if (r.unsettled !== s.open.size) {
      this.diverge({
        record: r.n,
        seq: null,
        field: 'unsettled',
        expected: s.open.size,
        recorded: r.unsettled,
        message: `record ${r.n}: unsettled: the segment from record ${s.head} decided ${s.open.size} storage effect(s) with no outcome in it, its close counts ${r.unsettled}`,
      });
    }
    this.checkSettled(s);
  }

  report(source: string): VerifyReport {
    if (this.seg && !this.seg.closed) this.endSegment(null);
    const closed = this.seg?.closed ?? false;
    const at = this.anchorAt;
    const anchor = this.expectHead === null ? null : { expected: this.expectHead, record: at, matches: at !== null && at === this.records };
    if (anchor !== null && at === null) {
      // the hash kept elsewhere is no record of this log: its tail was cut off, or it was rewritten
      this.divergence ??= {
        record: this.records,
        seq: null,
        field: 'head',
        expected: this.expectHead,
        recorded: this.lastHash,
        message: `record ${this.records}: head: the log ends with hash ${this.lastHash?.slice(0, 12) ?? 'none'}…, and no record has the anchor's hash ${this.expectHead!.slice(0, 12)}…: records after it were cut off, or the log was rewritten`,
      };
    } else if (anchor !== null && at !== null && at < this.records) {
      this.observations.push(`the anchor is the hash of record ${at}: it pins records 1 to ${at}; records ${at + 1} to ${this.records} were appended after it was taken and are not pinned by it`);
    }
    const observations = this.observations;
    if (this.unsettled > 0) observations.push(`${this.unsettled} storage effect(s) have no recorded outcome (the writer stopped first, or the host did not report them)`);
    let status: VerifyStatus;
    let unreadable: string | undefined;
    if (this.formatProblem !== null) {
      status = 'unreadable';
      unreadable = `${source}: ${this.formatProblem.message}`;
    } else if (this.records > 0 && this.sealed === 0) {
      // no line is even shaped like a record: another kind of file, not an edited log (an edited
      // record keeps its "hash" field, so a tampered log always has such lines)
      status = 'unreadable';
      unreadable = `${source}: not a decision log: no line is a record (a JSON object ending in a "hash" field); ${this.chain?.message ?? ''}`;
    } else if (this.records === 0) {
      status = 'unreadable';
      unreadable = this.torn ? `${source}: the only line is torn (${this.torn.bytes} bytes without a newline)` : `${source}: the log is empty`;
    } else if (this.firstType !== 'head' && this.chain === null) {
      status = 'unreadable';
      unreadable = `${source}: record 1: type: expected head, found ${this.firstType}`;
    } else if (this.chain !== null || this.divergence !== null) status = 'tampered';
    else if (this.torn !== null || !closed) status = 'incomplete';
    else status = 'verified';
    return {
      source,
      status,
      exitCode: VERIFY_EXIT[status],
      records: this.records,
      segments: this.segments,
      decisions: this.decisions,
      outcomes: this.outcomes,
      lines: this.lines,
      anchor,
      chain: this.chain,
      chainProblems: this.chainProblems,
      divergence: this.divergence,
      torn: this.torn,
      closed,
      lastHash: this.lastHash,
      observations,
      ...(unreadable !== undefined ? { unreadable } : {}),
    };
  }
}

/** The report as lines for a terminal. */
export function formatVerifyReport(r: VerifyReport): string[] {
  const out: string[] = [];
  if (r.status === 'unreadable') {
    out.push(`unreadable: ${r.unreadable ?? r.source}`);
    return out;
  }
  out.push(`${r.source}: ${r.records} records, ${r.segments} segment(s), ${r.decisions} decisions, ${r.outcomes} outcomes${r.lines > 0 ? `, ${r.lines} dialect session lines` : ''}`);
  if (r.chain) out.push(`chain broken: ${r.chain.message}${r.chainProblems > 1 ? ` (${r.chainProblems} records with integrity problems in all)` : ''}`);
  else out.push('chain: intact');
  if (r.divergence) {
    out.push(`first divergence: ${r.divergence.message}`);
    out.push(`  expected: ${JSON.stringify(r.divergence.expected)}`);
    out.push(`  recorded: ${JSON.stringify(r.divergence.recorded)}`);
  } else if (r.chain === null) out.push(r.lines > 0 && r.decisions === 0 ? 'answers: every recorded answer is what the dialect answers' : 'decisions: every recorded decision is what the policy decides');
  if (r.torn) out.push(`torn: record ${r.torn.record} is an unfinished line of ${r.torn.bytes} bytes (the writer stopped mid-append)`);
  else if (!r.closed) out.push(`incomplete: the log ends at record ${r.records} without a close record (the run is still going, stopped without closing the log, or the log was truncated)`);
  for (const o of r.observations) out.push(`note: ${o}`);
  if (r.lastHash) out.push(`last hash: ${r.lastHash}${r.anchor?.matches ? ' (the anchor given: the log ends where it was pinned)' : ''}`);
  else if (r.anchor === null) out.push('anchor: none given; keep the last hash elsewhere and pass it with --expect-head to pin the whole log');
  out.push(`result: ${r.status}`);
  return out;
}

function assertNever(x: never): never {
  throw new Error(`unknown record ${JSON.stringify(x)}`);
}
