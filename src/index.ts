/** ckpt-policy: PyTorch Lightning's ModelCheckpoint rules as a pure reducer. */
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
export type { Effect, EffectType, Reason, Trigger, LogLevel } from './effects.ts';
export { lightningStateDict, type PolicyState, type ResolvedTrainer } from './state.ts';
export { encodeState, decodeState, StateCodec, STATE_FORMAT, type StateJson } from './stateCodec.ts';
export { explainEffect, explainReason } from './explain.ts';
export { fitEvents, type FitPlan } from './loop.ts';
export type { FileEntry } from './files.ts';
export { decodeEvent, encodeEvent, EVENT_TYPES } from './eventCodec.ts';
