/** The runtime: the policy embedded in a live loop (checkpointer), its record format and errors. */
export { Checkpointer, findResumePoint, type FoundRecord, type CheckpointerOptions, type Capture, type CaptureRequest, type ResumeRequest, type Resumed, type KeptCheckpoint } from './checkpointer.ts';
export { CheckpointWriteError, LeaseLostError, PolicyRaisedError, ResumeError, WriterLeaseError, type EffectFailure } from './errors.ts';
export { readLease, DEFAULT_LEASE_TTL_MS, type LeaseRecord } from './lease.ts';
export type { RuntimeObserver, Decision, EffectSettlement, EffectOutcome } from './observer.ts';
export { decodeRecord, recordInPayload, withRecord, RECORD_FORMAT, TFJS_METADATA_KEY, type CheckpointRecord } from './record.ts';
export { keyOf, pathOf, filesOf } from './keys.ts';
export { EffectWriter, type WriteJob } from './writer.ts';
