/** Audits: reasons for decisions not to act, the hash-chained decision log, and its checks. */
export type { Note, NoteKind, NotDue, SkipCause } from '../core/notes.ts';
export { explainNote, explainDecision, explainRecord, ordinal, type NoteContext, type ExplainOptions } from './explain.ts';
export { explainLog, explainEvents } from './explainLog.ts';
export { LOG_FORMAT, decodeRecord, type LogRecord, type RecordBody, type HeadBody, type DecisionBody, type OutcomeBody, type CloseBody } from './format.ts';
export { openDecisionLog, DecisionLog, type DecisionLogOptions, type Digest } from './writer.ts';
export { withDigests } from './digests.ts';
export { publishDecisionLog, DEFAULT_LOG_KEY } from './publish.ts';
export { combineObservers } from './observers.ts';
export { drive, type DriveOptions } from './drive.ts';
export { readLog, readLines, type LogSource, type LogItem, type ChainProblem } from './reader.ts';
export { verifyLog, formatVerifyReport, VERIFY_EXIT, type VerifyReport, type VerifyStatus, type Divergence } from './verify.ts';
export { auditStorage, formatStorageReport, STORAGE_EXIT, type StorageReport, type StorageStatus, type Finding } from './storage.ts';
export { auditLightning, formatLightningReport, LIGHTNING_EXIT, type LightningReport, type LightningStatus, type LightningFinding, type LightningAuditInput } from './lightning.ts';
export { canonicalJson, encodeJson, sealRecord, sha256Hex } from './canonical.ts';
