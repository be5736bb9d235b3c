/**
 * Orbax's policy objects as data: `save_decision_policy` and `preservation_policy`, written
 * `{"type": <class name>, ...fields}` with Orbax's field names. Codecs first; the types are
 * derived from them.
 */
import * as t from 'io-ts';

const Int = t.refinement(t.number, Number.isInteger, 'integer');
const OptInt = t.union([Int, t.null]);

// ---- save decisions ------------------------------------------------------------------------

export const FixedIntervalPolicy = t.type({ type: t.literal('FixedIntervalPolicy'), interval: Int });
export const SpecificStepsPolicy = t.type({ type: t.literal('SpecificStepsPolicy'), steps: t.array(Int) });
export const ContinuousCheckpointingPolicy = t.intersection([
  t.type({ type: t.literal('ContinuousCheckpointingPolicy') }),
  t.partial({ minimum_interval_secs: t.union([t.number, t.null]) }),
]);
export const PreemptionCheckpointingPolicy = t.type({ type: t.literal('PreemptionCheckpointingPolicy') });
export const InitialSavePolicy = t.type({ type: t.literal('InitialSavePolicy') });

/** `should_save_fn` as JSON can carry it, or a TypeScript function `(step, latest) => boolean`. */
export const ShouldSaveFnSpec = t.union([
  t.type({ kind: t.literal('multiple_of'), n: Int }),
  t.type({ kind: t.literal('steps'), steps: t.array(Int) }),
  t.type({ kind: t.literal('min_gap'), gap: Int }),
]);
export type ShouldSaveFnSpec = t.TypeOf<typeof ShouldSaveFnSpec>;
export type ShouldSaveFn = ShouldSaveFnSpec | ((step: number, latest: number | null) => boolean);

export interface AnySavePolicyT {
  type: 'AnySavePolicy';
  policies: SaveDecisionPolicyInput[];
}
export type SaveDecisionPolicyInput =
  | t.TypeOf<typeof FixedIntervalPolicy>
  | t.TypeOf<typeof SpecificStepsPolicy>
  | t.TypeOf<typeof ContinuousCheckpointingPolicy>
  | t.TypeOf<typeof PreemptionCheckpointingPolicy>
  | t.TypeOf<typeof InitialSavePolicy>
  | AnySavePolicyT;

export const SaveDecisionPolicyCodec: t.Type<SaveDecisionPolicyInput> = t.recursion('SaveDecisionPolicy', () =>
  t.union([
    FixedIntervalPolicy,
    SpecificStepsPolicy,
    ContinuousCheckpointingPolicy,
    PreemptionCheckpointingPolicy,
    InitialSavePolicy,
    t.type({ type: t.literal('AnySavePolicy'), policies: t.array(SaveDecisionPolicyCodec) }),
  ]),
);

/** The resolved save policy: the inputs plus the one Orbax builds from `should_save_fn`. */
export type SaveDecisionPolicy =
  | Exclude<SaveDecisionPolicyInput, AnySavePolicyT>
  | { readonly type: 'AnySavePolicy'; readonly policies: readonly SaveDecisionPolicy[] }
  | { readonly type: '_ShouldSaveFnPolicy'; readonly fn: ShouldSaveFn };

// ---- preservation --------------------------------------------------------------------------

export const LatestN = t.intersection([t.type({ type: t.literal('LatestN') }), t.partial({ n: OptInt })]);
export const BestN = t.intersection([
  t.type({ type: t.literal('BestN'), metric: t.string }),
  t.partial({ reverse: t.boolean, n: OptInt, keep_checkpoints_without_metrics: t.boolean }),
]);
export const EveryNSeconds = t.type({ type: t.literal('EveryNSeconds'), interval_secs: Int });
export const EveryNSteps = t.intersection([
  t.type({ type: t.literal('EveryNSteps'), interval_steps: Int }),
  t.partial({ exact_interval: t.boolean, max_to_keep: OptInt }),
]);
export const EveryNStepsClosest = t.intersection([
  t.type({ type: t.literal('EveryNStepsClosest'), interval_steps: Int }),
  t.partial({ max_to_keep: OptInt }),
]);
export const CustomSteps = t.type({ type: t.literal('CustomSteps'), steps: t.array(Int) });
export const LatestDuration = t.type({ type: t.literal('LatestDuration'), seconds: t.number });
export const PreserveAll = t.type({ type: t.literal('PreserveAll') });

export interface AnyPreservationPolicyT {
  type: 'AnyPreservationPolicy';
  policies: PreservationPolicyInput[];
}
export type PreservationPolicyInput =
  | t.TypeOf<typeof LatestN>
  | t.TypeOf<typeof BestN>
  | t.TypeOf<typeof EveryNSeconds>
  | t.TypeOf<typeof EveryNSteps>
  | t.TypeOf<typeof EveryNStepsClosest>
  | t.TypeOf<typeof CustomSteps>
  | t.TypeOf<typeof LatestDuration>
  | t.TypeOf<typeof PreserveAll>
  | AnyPreservationPolicyT;

export const PreservationPolicyCodec: t.Type<PreservationPolicyInput> = t.recursion('PreservationPolicy', () =>
  t.union([
    LatestN,
    BestN,
    EveryNSeconds,
    EveryNSteps,
    EveryNStepsClosest,
    CustomSteps,
    LatestDuration,
    PreserveAll,
    t.type({ type: t.literal('AnyPreservationPolicy'), policies: t.array(PreservationPolicyCodec) }),
  ]),
);

/** Preservation policies with every default filled in, as Orbax's dataclasses hold them. */
export type PreservationPolicy =
  | { readonly type: 'LatestN'; readonly n: number | null }
  | { readonly type: 'BestN'; readonly metric: string; readonly reverse: boolean; readonly n: number | null; readonly keep_checkpoints_without_metrics: boolean }
  | { readonly type: 'EveryNSeconds'; readonly interval_secs: number }
  | { readonly type: 'EveryNSteps'; readonly interval_steps: number; readonly exact_interval: boolean; readonly max_to_keep: number | null }
  | { readonly type: 'EveryNStepsClosest'; readonly interval_steps: number; readonly max_to_keep: number | null }
  | { readonly type: 'CustomSteps'; readonly steps: readonly number[] }
  | { readonly type: 'LatestDuration'; readonly seconds: number }
  | { readonly type: 'PreserveAll' }
  | { readonly type: 'AnyPreservationPolicy'; readonly policies: readonly PreservationPolicy[] };

export function resolvePreservation(p: PreservationPolicyInput): PreservationPolicy {
  switch (p.type) {
    case 'LatestN':
      return { type: 'LatestN', n: p.n ?? null };
    case 'BestN':
      return { type: 'BestN', metric: p.metric, reverse: p.reverse ?? false, n: p.n ?? null, keep_checkpoints_without_metrics: p.keep_checkpoints_without_metrics ?? true };
    case 'EveryNSeconds':
    case 'CustomSteps':
    case 'LatestDuration':
    case 'PreserveAll':
      return p;
    case 'EveryNSteps':
      return { type: 'EveryNSteps', interval_steps: p.interval_steps, exact_interval: p.exact_interval ?? true, max_to_keep: p.max_to_keep ?? null };
    case 'EveryNStepsClosest':
      return { type: 'EveryNStepsClosest', interval_steps: p.interval_steps, max_to_keep: p.max_to_keep ?? null };
    case 'AnyPreservationPolicy':
      return { type: 'AnyPreservationPolicy', policies: p.policies.map(resolvePreservation) };
  }
}

export function resolveSaveDecision(p: SaveDecisionPolicyInput): SaveDecisionPolicy {
  switch (p.type) {
    case 'AnySavePolicy':
      return { type: 'AnySavePolicy', policies: p.policies.map(resolveSaveDecision) };
    case 'ContinuousCheckpointingPolicy':
      return { type: 'ContinuousCheckpointingPolicy', minimum_interval_secs: p.minimum_interval_secs ?? null };
    default:
      return p;
  }
}
