/** The Hugging Face transformers Trainer dialect: arguments, the pure reducer, its state codec (the trace replay is conformance.ts, run by `ckpt conformance`). */
export { parseTrainingArguments, resolveArgs, trainerInitError, TrainingArgumentsError, ARG_DEFAULTS, ARG_NAMES, type ResolvedArgs, type TrainingArgumentsInput, type ArgsIssue } from './args.ts';
export { init, reduce, trainerStateFile, type TrainerSetupFacts } from './reduce.ts';
export { encodeState, decodeState, type HfState, type HfEvent, type HfEffect, type TrainerStateFile, type SaveReason, type RemoveReason } from './types.ts';
export { sortedCheckpoints, rotate, limitOneCleanup } from './rotation.ts';
export { onStepEnd, onEpochEnd, initialPlan, type Control, type Plan } from './flow.ts';
export { determineBest } from './best.ts';
// Simulating a Trainer policy on a run's trainer_state.json (reading the file is node's: readTrainerStateFile.ts)
export { parseTrainerState, type TrainerStateLog, type LogEntry } from './trainerState.ts';
export { argsFromTrainerState, type RunArgs } from './runArgs.ts';
export { simulateTrainerState, type TrainerSimulation } from './simulate.ts';
export { reduceWithFixes, decodeHfFixes, HfFixesCodec, HF_FIX_NAMES, type HfFixes } from './fixes.ts';
