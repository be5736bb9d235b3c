/**
 * ckpt-policy's core: the checkpoint policy as a pure reducer. Nothing here touches node, a DOM,
 * tfjs, S3 or a chart library, so it bundles for any runtime (the package's main entry).
 */
export { init, reduce, resolveCheckpointDir, resolveTrainer, type InitEnv, type Step } from './reduce.ts';
export {
  decodeConfig,
  decodeOptions,
  validateConfig,
  parseConfig,
  stateKey,
  triggers,
  PolicyConfigCodec,
  ConfigError,
  DEFAULTS,
  OPTION_NAMES,
  type CheckpointOptions,
  type PolicyConfig,
  type ConfigIssue,
} from './config.ts';
export type { LoopEvent, LoopEventType, LoopView, TrainerFacts, LoggerFacts, Metrics, LightningStateDict, Exception } from './events.ts';
export { checkpointPath, storeKey, CheckpointPathCodec, StoreKeyCodec, type CheckpointPath, type StoreKey } from './brands.ts';
export type { Effect, EffectType, Reason, Trigger, LogLevel } from './effects.ts';
export { NoteCodec, type Note, type NoteKind, type NotDue, type SkipCause, type KeepMember } from './notes.ts';
export { isComposed, OPTIONS } from './config.ts';
export { lightningStateDict, type PolicyState, type ResolvedTrainer } from './state.ts';
export { encodeState, decodeState, StateCodec, STATE_FORMAT, type StateJson } from './stateCodec.ts';
export { explainEffect, explainReason } from './explain.ts';
export { fitEvents, type FitPlan } from './loop.ts';
export type { FileEntry } from './files.ts';
export { decodeEvent, encodeEvent, EVENT_TYPES } from './eventCodec.ts';
// The storage port: what every store plugin implements (ckpt-policy/stores holds the plugins).
export { StoreError, type CheckpointStore, type Payload, type TfjsArtifacts, type StoredEntry, type StoreErrorCode } from './store.ts';
