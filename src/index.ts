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
export {
  openDecisionLog,
  DecisionLog,
  withDigests,
  publishDecisionLog,
  combineObservers,
  drive,
  verifyLog,
  auditStorage,
  auditLightning,
  classify,
  explainNote,
  explainDecision,
  explainRecord,
  LOG_FORMAT,
  type DecisionLogOptions,
  type Note,
  type VerifyReport,
  type StorageReport,
  type LightningReport,
} from './audit/index.ts';
export {
  Checkpointer,
  findResumePoint,
  CheckpointWriteError,
  PolicyRaisedError,
  ResumeError,
  decodeRecord,
  RECORD_FORMAT,
  type CheckpointerOptions,
  type Capture,
  type CaptureRequest,
  type ResumeRequest,
  type Resumed,
  type KeptCheckpoint,
  type CheckpointRecord,
  type RuntimeObserver,
  type Decision,
  type EffectSettlement,
  type EffectOutcome,
  type EffectFailure,
} from './runtime/index.ts';
export { serve, type ServeOptions } from './sidecar/server.ts';
// Simulation: replaying policies on the metric logs of past runs (ckpt simulate / compare).
export { simulate, type SimulateOptions, type SimulationResult, type PolicyResult, type PolicySpec, type KeptFile, type MetricChoice } from './simulate/run.ts';
export { parseSize, formatBytes } from './simulate/size.ts';
export { openLog, readRecords, type FitLog } from './sources/open.ts';
export { readCsvLog } from './sources/csv.ts';
export { readTfeventsLog } from './sources/tfevents.ts';
export { readJsonlEvents, decodeLoopEvent, encodeLoopEvent } from './sources/jsonl.ts';
export { LoopReconstructor, type TimelineItem } from './sources/reconstruct.ts';
export { parseTrainerText, runFactsFrom, type RunFacts, type FitFacts, type LoopFacts } from './sources/loopFacts.ts';
export { SourceError, type LogRecord, type Origin } from './sources/records.ts';
export { parsePolicyText, readPolicyArg, type Policy } from './policyFile.ts';
export { renderJson } from './report/json.ts';
export { renderSimulateTable, renderCompareTable } from './report/table.ts';
export { renderHtml } from './report/html.ts';
export { renderChartSvg, chartSpec } from './report/chart.ts';
