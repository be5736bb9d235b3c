/** The Hugging Face transformers Trainer dialect: arguments, the pure reducer, its state codec (the trace replay is conformance.ts, run by `ckpt conformance`). */
export { parseTrainingArguments, resolveArgs, trainerInitError, TrainingArgumentsError, ARG_DEFAULTS, ARG_NAMES, type ResolvedArgs, type TrainingArgumentsInput, type ArgsIssue } from './args.ts';
export { init, reduce, trainerStateFile, type TrainerSetupFacts } from './reduce.ts';
export { encodeState, decodeState, type HfState, type HfEvent, type HfEffect, type TrainerStateFile, type SaveReason, type RemoveReason } from './types.ts';
export { sortedCheckpoints, rotate, limitOneCleanup } from './rotation.ts';
export { onStepEnd, onEpochEnd, initialPlan, type Control, type Plan } from './flow.ts';
export { determineBest } from './best.ts';
