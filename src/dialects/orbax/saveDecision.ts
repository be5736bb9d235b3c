/**
 * Save-decision rules: Orbax's SaveDecisionPolicy classes as a pure evaluation. Each leaf is one
 * rule; AnySavePolicy is their union, evaluated in order and stopping at the first true.
 */
import type { CheckpointInfo, CkptTime } from './checkpointInfo.ts';
import { timeDiffMicros } from './checkpointInfo.ts';
import { pyMod } from './pyvalue.ts';
import type { SaveDecisionPolicy, ShouldSaveFn } from './policies.ts';

export interface DecisionContext {
  readonly isSavingInProgress: boolean;
  readonly reachedPreemption: boolean;
}

export interface SaveVerdict {
  readonly result: boolean;
  /** `[leaf index, verdict]` for each leaf evaluated, in order */
  readonly evaluated: Array<[number, boolean]>;
  /** the scenario-visible calls of a user `should_save_fn` */
  readonly userLogs: string[];
}

/** A stable identity for a leaf, so equal leaves share an index, as Orbax's logs name them. */
const LEAF_KEYS = new WeakMap<object, string>();
/** A leaf's key, computed once per resolved policy object (the manager asks at every call). */
function leafKey(p: Exclude<SaveDecisionPolicy, { type: 'AnySavePolicy' }>): string {
  let k = LEAF_KEYS.get(p);
  if (k === undefined) LEAF_KEYS.set(p, (k = computeLeafKey(p)));
  return k;
}

function computeLeafKey(p: Exclude<SaveDecisionPolicy, { type: 'AnySavePolicy' }>): string {
  switch (p.type) {
    case 'FixedIntervalPolicy':
      return `Fixed(${p.interval})`;
    case 'SpecificStepsPolicy':
      return `Specific(${[...p.steps].sort((a, b) => a - b).join(',')})`;
    case 'ContinuousCheckpointingPolicy':
      return `Continuous(${p.minimum_interval_secs})`;
    case 'PreemptionCheckpointingPolicy':
      return 'Preemption';
    case 'InitialSavePolicy':
      return 'Initial';
    case '_ShouldSaveFnPolicy':
      return 'should_save_fn';
  }
}

/** The distinct leaves of a policy tree in order: the index space of `evaluated`. */
const LEAF_INDEXES = new WeakMap<SaveDecisionPolicy, ReadonlyMap<string, number>>();
/** `leafIndex` once per resolved policy. */
export function leafIndexOf(policy: SaveDecisionPolicy): ReadonlyMap<string, number> {
  let ix = LEAF_INDEXES.get(policy);
  if (ix === undefined) LEAF_INDEXES.set(policy, (ix = leafIndex(policy)));
  return ix;
}

export function leafIndex(policy: SaveDecisionPolicy): Map<string, number> {
  const keys = new Map<string, number>();
  const walk = (p: SaveDecisionPolicy): void => {
    if (p.type === 'AnySavePolicy') p.policies.forEach(walk);
    else if (!keys.has(leafKey(p))) keys.set(leafKey(p), keys.size);
  };
  walk(policy);
  return keys;
}

export function callShouldSaveFn(fn: ShouldSaveFn, step: number, latest: number | null): boolean {
  if (typeof fn === 'function') return fn(step, latest);
  switch (fn.kind) {
    case 'multiple_of':
      return pyMod(step, fn.n) === 0;
    case 'steps':
      return fn.steps.includes(step);
    case 'min_gap':
      return latest === null || step - latest >= fn.gap;
  }
}

/** Orbax's `save_decision_policy.should_save(current, previous_steps, context)`; raises like it. */
export function shouldSave(
  policy: SaveDecisionPolicy,
  step: number,
  now: CkptTime,
  previous: readonly CheckpointInfo[],
  ctx: DecisionContext,
  index: ReadonlyMap<string, number> = leafIndexOf(policy),
): SaveVerdict {
  return shouldSaveAfter(policy, step, now, { last: previous[previous.length - 1], count: previous.length }, ctx, index);
}

/** What the save-decision policies read of the previous steps: the last one and how many there are. */
export interface PreviousSteps {
  readonly last: CheckpointInfo | undefined;
  readonly count: number;
}

/** `shouldSave` from the last checkpoint and the count alone (the manager's list is not an array). */
export function shouldSaveAfter(
  policy: SaveDecisionPolicy,
  step: number,
  now: CkptTime,
  previous: PreviousSteps,
  ctx: DecisionContext,
  index: ReadonlyMap<string, number> = leafIndexOf(policy),
): SaveVerdict {
  const e: Evaluation = { step, now, previous, ctx, index, evaluated: [], userLogs: [] };
  const result = evalPolicy(e, policy);
  return { result, evaluated: e.evaluated, userLogs: e.userLogs };
}

/** One `should_save` call's inputs and what it records (top-level functions: no closures per call). */
interface Evaluation {
  readonly step: number;
  readonly now: CkptTime;
  readonly previous: PreviousSteps;
  readonly ctx: DecisionContext;
  readonly index: ReadonlyMap<string, number>;
  readonly evaluated: Array<[number, boolean]>;
  readonly userLogs: string[];
}

/** AnySavePolicy stops at its first true child, as Python's `any` over a generator. */
function evalPolicy(e: Evaluation, p: SaveDecisionPolicy): boolean {
  if (p.type !== 'AnySavePolicy') return leaf(e, p);
  for (const c of p.policies) if (evalPolicy(e, c)) return true;
  return false;
}

function leaf(e: Evaluation, p: Exclude<SaveDecisionPolicy, { type: 'AnySavePolicy' }>): boolean {
  const { step, previous, ctx } = e;
  let r: boolean;
  switch (p.type) {
    case 'FixedIntervalPolicy':
      r = pyMod(step, p.interval) === 0;
      break;
    case 'SpecificStepsPolicy':
      r = p.steps.includes(step);
      break;
    case 'ContinuousCheckpointingPolicy': {
      const last = previous.last;
      if (ctx.isSavingInProgress) r = false;
      else if (last === undefined || p.minimum_interval_secs == null) r = true;
      else r = timeDiffMicros(e.now, last.time) >= Math.round(p.minimum_interval_secs * 1e6);
      break;
    }
    case 'PreemptionCheckpointingPolicy':
      r = ctx.reachedPreemption;
      break;
    case 'InitialSavePolicy':
      r = previous.count === 0;
      break;
    case '_ShouldSaveFnPolicy': {
      const latest = previous.last?.step ?? null;
      r = callShouldSaveFn(p.fn, step, latest);
      e.userLogs.push(`should_save_fn(${step}, ${latest ?? 'None'}) -> ${r ? 'True' : 'False'}`);
      break;
    }
  }
  e.evaluated.push([e.index.get(leafKey(p))!, r]);
  return r;
}
