/**
 * The checkpoint record: what the runtime stores inside every checkpoint so that a run restarted
 * from it continues with exactly the decisions an uninterrupted run would make. It holds the full
 * policy state after the decision that saved the checkpoint, where the loop was, and the removals
 * that were decided but not yet confirmed when the model was captured (a process killed between a
 * save and the removal it causes leaves them behind; resume finishes them).
 *
 * tfjs checkpoints carry it in `userDefinedMetadata.ckptPolicy` (model.json), so it is written
 * atomically with the weights. Byte payloads are opaque: their producer embeds the record itself.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { describeErrors, encodeState, type StateJson } from '../core/stateCodec.ts';
import type { LoopEvent, LoopEventType } from '../core/events.ts';
import type { PolicyState } from '../core/state.ts';
import type { Payload } from '../core/store.ts';

export const RECORD_FORMAT = 'ckpt-policy/record@1';
/** The metadata field of tfjs artifacts that holds the record. */
export const TFJS_METADATA_KEY = 'ckptPolicy';

export interface CheckpointRecord {
  readonly format: typeof RECORD_FORMAT;
  /** one id per run, inherited by a resumed run */
  readonly runId: string;
  /** the decision's sequence number within the run (resumed runs continue the count) */
  readonly seq: number;
  /** this checkpoint's store key */
  readonly key: string;
  /** the loop moment that saved it */
  readonly event: LoopEventType;
  readonly epoch: number;
  readonly globalStep: number;
  /** encodeState() of the policy state after the decision */
  readonly state: StateJson;
  /** keys decided for removal and not yet confirmed removed when this checkpoint was captured */
  readonly pendingRemovals: readonly string[];
  /** other saves still being written when this checkpoint was captured */
  readonly pendingSaves: readonly string[];
  /**
   * the other saves of the same decision: the same model under another name (top-k and last). A
   * kill can leave one of them written and not the other; resume rewrites the missing ones from it.
   * Absent in records written before it existed.
   */
  readonly sameDecisionSaves?: readonly string[];
  /** the links of the same decision (save_last='link'): a kill can stop one; resume points it again */
  readonly sameDecisionLinks?: readonly { readonly key: string; readonly target: string }[];
}

/** The record of a checkpoint saved by the decision `seq` on `event`, with the policy state after it. */
export function makeRecord(
  runId: string,
  seq: number,
  event: LoopEvent,
  key: string,
  stateAfter: PolicyState,
  pending: { readonly removals: readonly string[]; readonly saves: readonly string[] },
  sameDecisionSaves: readonly string[] = [],
  sameDecisionLinks: readonly { readonly key: string; readonly target: string }[] = [],
): CheckpointRecord {
  const view = 'view' in event && event.view ? event.view : { epoch: 0, globalStep: 0 };
  return {
    format: RECORD_FORMAT,
    runId,
    seq,
    key,
    event: event.type,
    epoch: view.epoch,
    globalStep: view.globalStep,
    state: encodeState(stateAfter),
    pendingRemovals: pending.removals,
    pendingSaves: pending.saves,
    sameDecisionSaves,
    ...(sameDecisionLinks.length > 0 ? { sameDecisionLinks } : {}),
  };
}

const RecordCodec = t.intersection([t.type({
  format: t.literal(RECORD_FORMAT),
  runId: t.string,
  seq: t.number,
  key: t.string,
  event: t.keyof({
    setup: null,
    stateLoaded: null,
    trainStarted: null,
    trainBatchEnded: null,
    validationEnded: null,
    trainEpochEnded: null,
    trainEnded: null,
    exceptionRaised: null,
    filesListed: null,
  }),
  epoch: t.number,
  globalStep: t.number,
  state: t.UnknownRecord,
  pendingRemovals: t.array(t.string),
  pendingSaves: t.array(t.string),
}), t.partial({ sameDecisionSaves: t.array(t.string), sameDecisionLinks: t.array(t.type({ key: t.string, target: t.string })) })]);

/** Validates a record read back from storage; errors name the field. */
export function decodeRecord(u: unknown): E.Either<string[], CheckpointRecord> {
  return E.mapLeft(describeErrors)(RecordCodec.decode(u)) as E.Either<string[], CheckpointRecord>;
}

/** The record inside a payload written by the runtime, if there is one (tfjs payloads only). */
export function recordInPayload(p: Payload): unknown {
  switch (p.kind) {
    case 'tfjs':
      return p.artifacts.userDefinedMetadata?.[TFJS_METADATA_KEY];
    case 'bytes':
      return undefined;
  }
}

/** A tfjs payload with the record added to its metadata (other payloads are returned as they are). */
export function withRecord(p: Payload, record: CheckpointRecord): Payload {
  switch (p.kind) {
    case 'tfjs':
      return { kind: 'tfjs', artifacts: { ...p.artifacts, userDefinedMetadata: { ...p.artifacts.userDefinedMetadata, [TFJS_METADATA_KEY]: record } } };
    case 'bytes':
      return p;
  }
}
