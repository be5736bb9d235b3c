/**
 * The Keras 3 dialect (`ckpt-policy/keras`): Keras's ModelCheckpoint options and rules as a pure
 * reducer. It imports neither tfjs nor node built-ins; its tfjs callback, `modelCheckpoint`, is the
 * entry `ckpt-policy/keras/tfjs` (tfjs.ts).
 */
export { decodeOptions, construct, parseOptions, saveFreqBatches, DEFAULTS, ARGUMENT_NAMES, KerasOptionsError, KerasConfigCodec } from './options.ts';
export type { KerasOptions, KerasCamelOptions, KerasConfig, Construction, KerasMessage, OptionIssue, PyError } from './options.ts';
export { init, reduce, type Step } from './reduce.ts';
export { KerasEventCodec, type KerasEvent } from './events.ts';
export { saveFormat, type KerasEffect, type SaveFormat } from './effects.ts';
export { KerasStateCodec, KerasFixesCodec, NO_FIXES, encodeState, decodeState, type KerasState, type KerasFixes } from './state.ts';
export type { SaveReason, SkipReason } from './rules/saveDecision.ts';
export type { CompiledMetric, MonitorOp } from './rules/monitorOp.ts';
export { pyFormatKwargs } from './strformat.ts';
export type { Logs, LogValue } from './values.ts';
export { simulateKerasLog, type KerasSimulation, type SimulateKerasOptions, type EpochOutcome, type EpochAction, type KeptFile } from './simulate.ts';
export { renderKerasSimulation } from './simulationText.ts';
export { metricFromName } from './rules/directionByName.ts';
export { KerasLogError, type KerasLog, type KerasLogEpoch, type LogPlace } from './log.ts';
