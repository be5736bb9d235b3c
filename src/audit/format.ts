/**
 * The decision log's records (format `ckpt-policy/decision-log@2`, described field by field in
 * docs/audit.md; `@1` logs, which have no dialect segments, still read). One JSON object per line; every record carries its line number `n`, the hash of
 * the record before it (`prev`) and its own `hash`: SHA-256 of the canonical encoding of the record
 * without `hash`. A `head` starts a segment (one policy run) and records the configuration; a
 * `close` ends it with counts, so a log cut short at a record boundary is told apart from a whole one.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import type { Effect } from '../core/effects.ts';
import type { LoopEvent } from '../core/events.ts';
import { describeErrors, type StateJson } from '../core/stateCodec.ts';
import { LogNumber } from './canonical.ts';
import { EffectCodec, LoopEventCodec, NoteCodec, tagged } from './codecs.ts';
import type { Note } from '../core/notes.ts';

/** the format new logs are written in */
export const LOG_FORMAT = 'ckpt-policy/decision-log@2';
/** every format this reader reads: @2 added dialect segments (a head with `dialect`, `line` records) */
export const LOG_FORMATS = ['ckpt-policy/decision-log@1', LOG_FORMAT] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** the frameworks a dialect segment can record (`ckpt serve --stdio --dialect NAME`) */
export const LOG_DIALECTS = ['keras', 'orbax', 'transformers'] as const;
export type LogDialect = (typeof LOG_DIALECTS)[number];

/** Fields every record has. */
export interface Chained {
  /** 1-based line number in the log */
  readonly n: number;
  /** `hash` of the record on the line before; null on line 1 */
  readonly prev: string | null;
}

export interface HeadBody {
  readonly type: 'head';
  readonly format: LogFormat;
  /** ModelCheckpoint options after defaults, Lightning's names (PolicyConfigCodec.encode) */
  readonly config: Record<string, unknown>;
  /** working directory relative paths resolve against */
  readonly cwd: string;
  /** home directory for '~' in dirpath, when one was given */
  readonly home?: string;
  /** the checkpoint this segment resumed from (its store key), or null for a fresh start */
  readonly resumedFrom: string | null;
  /** the policy state the segment starts from, when it is not `init(config)` (a resumed run) */
  readonly state?: StateJson;
  /** bytes of a torn last line a previous writer left, cut off before this segment was appended */
  readonly recoveredTornBytes?: number;
  /** wall-clock start, informational (not checked) */
  readonly startedAt?: string;
}

/** The head of a dialect segment: one `ckpt serve --dialect NAME` session (its options are in its init lines). */
export interface DialectHeadBody {
  readonly type: 'head';
  readonly format: typeof LOG_FORMAT;
  readonly dialect: LogDialect;
  readonly recoveredTornBytes?: number;
  readonly startedAt?: string;
}

/** One input line of a dialect session and the answer it got, exactly as written to the loop. */
export interface LineBody {
  readonly type: 'line';
  /** the input line's number in the session (blank lines are not counted), as the answer names it */
  readonly line: number;
  /** the line's text as the loop sent it (bare NaN and all) */
  readonly input: string;
  /** the answer line as a JSON object (non-finite numbers as strings) */
  readonly answer: Record<string, unknown>;
}

export interface DecisionBody {
  readonly type: 'decision';
  /** the runtime's decision number */
  readonly seq: number;
  readonly event: LoopEvent;
  /** everything the reducer returned, in order, each storage effect with its reason */
  readonly effects: readonly Effect[];
  /** the rules that fired without an effect (see decisions.ts) */
  readonly notes: readonly Note[];
}

export interface OutcomeBody {
  readonly type: 'outcome';
  readonly seq: number;
  /** index of the effect in its decision's `effects` */
  readonly index: number;
  readonly effect: 'save' | 'remove' | 'link' | 'error';
  /** the effect's path (storage effects) */
  readonly path?: string;
  /** its store key, relative to the checkpoint directory */
  readonly key?: string;
  readonly status: 'done' | 'failed';
  readonly cause?: string;
  /** bytes and SHA-256 (hex) of what a save wrote, when the writer knew them */
  readonly size?: number;
  readonly sha256?: string;
}

export interface CloseBody {
  readonly type: 'close';
  /** decision and outcome records in this segment */
  readonly decisions: number;
  readonly outcomes: number;
  /** storage effects decided in this segment with no outcome recorded when the log was closed */
  readonly unsettled: number;
}

export type RecordBody = HeadBody | DialectHeadBody | DecisionBody | OutcomeBody | CloseBody | LineBody;
export type LogRecord = RecordBody & Chained & { readonly hash: string };
export type RecordType = RecordBody['type'];

const Hash = t.refinement(t.string, (s) => /^[0-9a-f]{64}$/.test(s), 'a SHA-256 hex digest');
const Count = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');
const Seq = t.refinement(t.number, (n) => Number.isInteger(n), 'an integer');

const ChainedC = t.type({ n: Count, prev: t.union([Hash, t.null]), hash: Hash });

const BODY_CODECS = {
  head: t.union([
    // a dialect segment's head first: a Lightning head has no `dialect` field
    t.intersection([
      t.type({ type: t.literal('head'), format: t.literal(LOG_FORMAT), dialect: t.keyof({ keras: null, orbax: null, transformers: null }, LOG_DIALECTS.join(', ')) }),
      t.partial({ recoveredTornBytes: Count, startedAt: t.string }),
    ]),
    t.intersection([
      t.type({ type: t.literal('head'), format: t.keyof({ [LOG_FORMATS[0]]: null, [LOG_FORMATS[1]]: null }), config: t.UnknownRecord, cwd: t.string, resumedFrom: t.union([t.string, t.null]) }),
      t.partial({ home: t.string, state: t.UnknownRecord, recoveredTornBytes: Count, startedAt: t.string }),
    ]),
  ]),
  line: t.type({ type: t.literal('line'), line: Count, input: t.string, answer: t.UnknownRecord }),
  decision: t.type({ type: t.literal('decision'), seq: Seq, event: LoopEventCodec, effects: t.array(EffectCodec), notes: t.array(NoteCodec) }),
  outcome: t.intersection([
    t.type({ type: t.literal('outcome'), seq: Seq, index: Count, effect: t.keyof({ save: null, remove: null, link: null, error: null }), status: t.keyof({ done: null, failed: null }) }),
    t.partial({ path: t.string, key: t.string, cause: t.string, size: LogNumber, sha256: Hash }),
  ]),
  close: t.type({ type: t.literal('close'), decisions: Count, outcomes: Count, unsettled: Count }),
};

const RecordC = t.intersection([ChainedC, tagged('record', 'type', BODY_CODECS)]);

/** Decodes a parsed line; errors name the field, what was found and what was expected. */
export function decodeRecord(u: unknown): E.Either<string[], LogRecord> {
  return E.mapLeft(describeErrors)(RecordC.decode(u)) as E.Either<string[], LogRecord>;
}

/** The state JSON of a head, with "-0" scores turned back into numbers (StateJson does not read them). */
export function stateJsonOf(raw: Record<string, unknown>): unknown {
  const fix = (v: unknown) => (v === '-0' ? -0 : v);
  const s = { ...raw };
  for (const k of ['best_model_score', 'current_score', 'kth_value', 'last_time_checked', 'last_global_step_saved']) if (k in s) s[k] = fix(s[k]);
  if (Array.isArray(s.best_k_models)) s.best_k_models = s.best_k_models.map((row) => (Array.isArray(row) ? [row[0], fix(row[1])] : row));
  return s;
}

export type HeadRecord = Extract<LogRecord, { type: 'head' }>;
export type DialectHeadRecord = DialectHeadBody & Chained & { readonly hash: string };
export type LightningHeadRecord = HeadBody & Chained & { readonly hash: string };

/** A head that starts a dialect segment (it names the framework), not a Lightning run. */
export function isDialectHead(r: HeadRecord): r is DialectHeadRecord {
  return 'dialect' in r && typeof (r as { dialect?: unknown }).dialect === 'string';
}
