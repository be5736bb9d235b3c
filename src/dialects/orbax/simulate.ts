/**
 * An Orbax policy replayed on a log of steps: the pure manager driven as a training loop that calls
 * `save(step, metrics)` at every step would, with synchronous writes that take no time (the log
 * carries no write durations). What depends on a clock the log does not give is reported as
 * undetermined, never guessed.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Metrics } from './checkpointInfo.ts';
import { decodeFixes, type FixApplied } from './fixes.ts';
import { reduce, start, type Clock, type ManagerState } from './manager.ts';
import { constructOptions, decodeOrbaxOptions, type ResolvedOptions } from './options.ts';
import type { PreservationPolicy, SaveDecisionPolicy } from './policies.ts';

/** One step of a log: its metrics as logged (NaN and infinities allowed), its wall time in seconds if known. */
export interface OrbaxStep {
  readonly step: number;
  readonly time?: number;
  readonly metrics?: Readonly<Record<string, number>>;
}

export interface SimulateOrbaxConfig {
  /** opt-in fixes (fixes.ts), as in `start` */
  readonly fixes?: unknown;
  /** how writes take time; default synchronous and instantaneous */
  readonly clock?: Clock;
  /** the metric "best" is judged by; default the policy's own (best_fn / the first BestN) */
  readonly monitor?: { readonly metric: string; readonly mode: 'min' | 'max' };
}

export interface StepValue {
  readonly step: number;
  readonly value: number;
}

export interface OrbaxStepEvent {
  readonly step: number;
  readonly saved: boolean;
  /** steps this call removed from the manager's list */
  readonly removed: readonly number[];
  readonly error?: { readonly type: string; readonly message: string };
  readonly fixed?: readonly FixApplied[];
}

export interface OrbaxSimulation {
  /** steps whose save wrote a checkpoint, in order */
  readonly saved: number[];
  /** saved steps removed again (by the same call or a later one) */
  readonly deleted: number[];
  /** `all_steps()` after the last step (and the final wait) */
  readonly kept: number[];
  /** the steps whose call saved, removed, raised or was changed by a fix */
  readonly events: OrbaxStepEvent[];
  readonly errors: number;
  /** best over the kept checkpoints and over every logged step; null without a metric to judge by */
  readonly best: { readonly metric: string; readonly mode: 'min' | 'max'; readonly kept: StepValue | null; readonly observed: StepValue | null } | null;
  /** null when everything was decided; else the first step that could not be, and why */
  readonly undetermined: { readonly fromStep: number; readonly reason: string } | null;
  /** steps replayed (those before `undetermined.fromStep`) */
  readonly steps: number;
}

/** A problem with the inputs: the field, the value and what is allowed. */
export class OrbaxSimulationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'OrbaxSimulationError';
  }
}

/** The rules of a policy that read the clock, by name. */
export function timeRules(o: ResolvedOptions): string[] {
  const out: string[] = [];
  const save = (p: SaveDecisionPolicy): void => {
    if (p.type === 'AnySavePolicy') p.policies.forEach(save);
    else if (p.type === 'ContinuousCheckpointingPolicy' && p.minimum_interval_secs != null) out.push(`ContinuousCheckpointingPolicy(minimum_interval_secs=${p.minimum_interval_secs})`);
  };
  const keep = (p: PreservationPolicy): void => {
    if (p.type === 'AnyPreservationPolicy') p.policies.forEach(keep);
    else if (p.type === 'EveryNSeconds') out.push(`EveryNSeconds(${p.interval_secs})`);
    else if (p.type === 'LatestDuration') out.push(`LatestDuration(${p.seconds})`);
  };
  save(o.saveDecision);
  keep(o.preservation);
  return out;
}

function policyMonitor(o: ResolvedOptions): { metric: string; mode: 'min' | 'max' } | null {
  if (o.bestFn !== null) return { metric: o.bestFn.metric, mode: o.bestMode };
  const find = (p: PreservationPolicy): { metric: string; mode: 'min' | 'max' } | null => {
    if (p.type === 'BestN') return { metric: p.metric, mode: p.reverse === true ? 'min' : 'max' };
    if (p.type === 'AnyPreservationPolicy') for (const c of p.policies) {
      const m = find(c);
      if (m !== null) return m;
    }
    return null;
  };
  return find(o.preservation);
}

/** Metrics as the manager stores them: non-finite numbers spelled as Orbax's JSON writes them. */
function toOrbaxMetrics(m: Readonly<Record<string, number>> | undefined): Metrics {
  if (m === undefined) return null;
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(m)) out[k] = Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
  return out;
}

function checkStep(s: OrbaxStep, i: number, prevTime: number | null): void {
  const at = `steps[${i}]`;
  if (typeof s !== 'object' || s === null) throw new OrbaxSimulationError(at, `${JSON.stringify(s)} is not valid: expected {step, time?, metrics?}`);
  if (!Number.isSafeInteger(s.step)) throw new OrbaxSimulationError(`${at}.step`, `${JSON.stringify(s.step)} is not valid: expected an integer`);
  if (s.time !== undefined) {
    if (typeof s.time !== 'number' || !Number.isFinite(s.time)) throw new OrbaxSimulationError(`${at}.time`, `${JSON.stringify(s.time)} is not valid: expected seconds as a finite number`);
    if (prevTime !== null && s.time < prevTime) throw new OrbaxSimulationError(`${at}.time`, `${s.time} is before the previous step's time ${prevTime}: times must not decrease`);
  }
  if (s.metrics !== undefined) {
    if (typeof s.metrics !== 'object' || s.metrics === null || Array.isArray(s.metrics)) throw new OrbaxSimulationError(`${at}.metrics`, `${JSON.stringify(s.metrics)} is not valid: expected an object of numbers`);
    for (const [k, v] of Object.entries(s.metrics))
      if (typeof v !== 'number') throw new OrbaxSimulationError(`${at}.metrics.${k}`, `${JSON.stringify(v)} is not valid: expected a number`);
  }
}

const better = (mode: 'min' | 'max', a: number, b: number): boolean => (mode === 'min' ? a < b : a > b);

/**
 * Replays `options` (Orbax's CheckpointManagerOptions, as `decodeOrbaxOptions` takes them) on `steps`.
 * Throws OrbaxSimulationError for invalid options or steps; Orbax's own errors during a call are
 * results (`events[].error`), as the manager raises them.
 */
export function simulateOrbaxSteps(options: unknown, steps: Iterable<OrbaxStep>, config: SimulateOrbaxConfig = {}): OrbaxSimulation {
  const decoded = decodeOrbaxOptions(options);
  if (E.isLeft(decoded)) throw new OrbaxSimulationError(decoded.left[0]!.field, decoded.left.map((i) => i.message).join('; '));
  const built = constructOptions(decoded.right);
  if (E.isLeft(built)) throw new OrbaxSimulationError('options', `${built.left.type}: ${built.left.message}`);
  const fixes = decodeFixes(config.fixes);
  if (E.isLeft(fixes)) throw new OrbaxSimulationError('fixes', fixes.left);
  const clock = config.clock ?? { save_seconds: 0 };
  const resolved = built.right.resolved;
  const needsTime = [...timeRules(resolved), ...('save_seconds' in clock ? [] : ['enable_async_checkpointing (write durations)'])];
  const monitor = config.monitor ?? policyMonitor(resolved);

  let state: ManagerState | null = null;
  const saved: number[] = [];
  const events: OrbaxStepEvent[] = [];
  let errors = 0;
  let observed: StepValue | null = null;
  let undetermined: OrbaxSimulation['undetermined'] = null;
  let prevTime: number | null = null;
  let n = 0;
  let lastT = 0;
  const values = new Map<number, number>();

  for (const s of steps) {
    checkStep(s, n, prevTime);
    if (s.time === undefined && needsTime.length > 0) {
      undetermined = { fromStep: s.step, reason: `step ${s.step} has no time and the policy reads the clock: ${needsTime.join(', ')}` };
      break;
    }
    // without time-reading rules the clock cannot change a decision: the step index stands in for it
    const t: number = s.time ?? n;
    if (s.time !== undefined) prevTime = s.time;
    if (state === null) {
      const [s0, init] = start({ options, clock, t, entries: [], fixes: fixes.right });
      if (s0 === null) throw new OrbaxSimulationError('options', `${init.error?.type}: ${init.error?.message}`);
      state = s0;
    }
    const [next, out] = reduce(state, { call: 'save', step: s.step, t, metrics: toOrbaxMetrics(s.metrics) ?? undefined });
    state = next;
    lastT = out.t_end ?? t;
    n++;
    const value = monitor !== null ? s.metrics?.[monitor.metric] : undefined;
    if (value !== undefined && !Number.isNaN(value)) {
      if (observed === null || better(monitor!.mode, value, observed.value)) observed = { step: s.step, value };
      values.set(s.step, value);
    }
    const wrote = out.result === true || out.added !== undefined;
    if (wrote) saved.push(s.step);
    // a save changes the list by its append and retention's removals (in list order), nothing else:
    // read from the call, not from whole lists, so a step costs the same however many are kept
    const removed = [...(out.preservation?.remove ?? [])];
    if (out.error !== undefined) errors++;
    if (wrote || removed.length > 0 || out.error !== undefined || out.fixed !== undefined)
      events.push({ step: s.step, saved: wrote, removed, ...(out.error !== undefined ? { error: out.error } : {}), ...(out.fixed !== undefined ? { fixed: out.fixed } : {}) });
  }
  let kept: number[] = [];
  if (state !== null) {
    const [fin] = reduce(state, { call: 'wait_until_finished', t: lastT });
    kept = fin.checkpoints.map((c) => c.step);
  }
  const keptSet = new Set(kept);
  let bestKept: StepValue | null = null;
  if (monitor !== null)
    for (const k of kept) {
      const v = values.get(k);
      if (v !== undefined && (bestKept === null || better(monitor.mode, v, bestKept.value))) bestKept = { step: k, value: v };
    }
  return {
    saved,
    deleted: saved.filter((x) => !keptSet.has(x)),
    kept,
    events,
    errors,
    best: monitor === null ? null : { metric: monitor.metric, mode: monitor.mode, kept: bestKept, observed },
    undetermined,
    steps: n,
  };
}
