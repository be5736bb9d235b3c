/** The Orbax CheckpointManager dialect: options and policy objects as data, the pure manager, its rules. */
export { decodeOrbaxOptions, constructOptions, type OrbaxOptionsInput, type OptionIssue, type InitError, type ResolvedOptions, type Constructed } from './options.ts';
export { resolvePreservation, resolveSaveDecision, PreservationPolicyCodec, SaveDecisionPolicyCodec, type PreservationPolicy, type PreservationPolicyInput, type SaveDecisionPolicy, type SaveDecisionPolicyInput, type ShouldSaveFn } from './policies.ts';
export { shouldSave, type DecisionContext, type SaveVerdict } from './saveDecision.ts';
export { shouldPreserve, anyOf, type PreservationContext } from './preservation.ts';
export { start, reduce, type ManagerState, type Call, type CallOutput, type Op, type StartInput, type StartOutput, type Decision, type Preservation, type LogLine } from './manager.ts';
export { decodeFixes, OrbaxFixesCodec, FIX_NAMES, type OrbaxFixes, type FixName, type FixApplied } from './fixes.ts';
export { simulateOrbaxSteps, timeRules, OrbaxSimulationError, type OrbaxStep, type OrbaxSimulation, type OrbaxStepEvent, type SimulateOrbaxConfig, type StepValue } from './simulate.ts';
// the same steps under a Lightning ModelCheckpoint, for comparing the two (docs/orbax.md)
export { simulateLightningSteps, type LightningStepsResult } from './lightningSteps.ts';
