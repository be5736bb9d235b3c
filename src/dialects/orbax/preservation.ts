/**
 * Preservation (retention) rules: Orbax's PreservationPolicy classes as pure functions from the
 * manager's checkpoint list (in list order) to one keep flag per checkpoint. AnyPreservationPolicy
 * is their union: a checkpoint survives when any child keeps it.
 */
import type { CheckpointInfo, CkptTime } from './checkpointInfo.ts';
import { lookupMetric, timeDiffMicros } from './checkpointInfo.ts';
import { pyError } from './pyerror.ts';
import { pyRound, pyMod, pySortedIndices } from './pyvalue.ts';
import type { PreservationPolicy } from './policies.ts';

export interface PreservationContext {
  /** the clock when retention runs (LatestDuration compares with it) */
  readonly now: CkptTime;
}

/** Keep only the last `max` of the kept flags (EveryNSteps/EveryNStepsClosest `max_to_keep`). */
function capKept(flags: boolean[], max: number | null): boolean[] {
  if (max === null) return flags;
  const kept = flags.flatMap((f, i) => (f ? [i] : []));
  // Python's `true_indices[:-max]`; `[:-0]` is empty, so max_to_keep=0 caps nothing
  if (kept.length > max && max > 0) for (const i of kept.slice(0, kept.length - max)) flags[i] = false;
  return flags;
}

export function shouldPreserve(p: PreservationPolicy, cps: readonly CheckpointInfo[], ctx: PreservationContext): boolean[] {
  switch (p.type) {
    case 'PreserveAll':
      return cps.map(() => true);
    case 'LatestN':
      if (p.n === null || cps.length <= p.n) return cps.map(() => true);
      // Python's `[False] * (len - n) + [True] * n`: a negative n multiplies to an empty list
      return [...Array<boolean>(Math.max(0, cps.length - p.n)).fill(false), ...Array<boolean>(Math.max(0, p.n)).fill(true)].slice(0, cps.length);
    case 'EveryNSeconds': {
      if (cps.length === 0) return [];
      let last = cps[0]!;
      const out = [true];
      for (const c of cps.slice(1)) {
        if (timeDiffMicros(c.time, last.time) >= p.interval_secs * 1e6) {
          last = c;
          out.push(true);
        } else out.push(false);
      }
      return out;
    }
    case 'EveryNSteps': {
      if (p.interval_steps === 0) throw pyError('ValueError', 'interval_steps must not be 0.');
      let flags: boolean[];
      if (p.exact_interval) flags = cps.map((c) => pyMod(c.step, p.interval_steps) === 0);
      else {
        let prev = 0;
        flags = cps.map((c, i) => {
          if (i === 0 || c.step - prev >= p.interval_steps) {
            prev = c.step;
            return true;
          }
          return false;
        });
      }
      return capKept(flags, p.max_to_keep);
    }
    case 'EveryNStepsClosest': {
      if (p.interval_steps === 0) throw pyError('ValueError', 'interval_steps must not be 0.');
      if (cps.length === 0) return [];
      const best = new Map<number, { i: number; diff: number }>();
      cps.forEach((c, i) => {
        const k = pyRound(c.step / p.interval_steps);
        const diff = Math.abs(c.step - k * p.interval_steps);
        const b = best.get(k);
        if (b === undefined || diff <= b.diff) best.set(k, { i, diff });
      });
      const flags = cps.map(() => false);
      for (const { i } of best.values()) flags[i] = true;
      flags[flags.length - 1] = true;
      return capKept(flags, p.max_to_keep);
    }
    case 'CustomSteps':
      return cps.map((c) => p.steps.includes(c.step));
    case 'LatestDuration': {
      if (cps.length === 0) return [];
      const limit = Math.round(p.seconds * 1e6);
      const first = cps.findIndex((c) => timeDiffMicros(ctx.now, c.time) <= limit);
      return cps.map((_, i) => first !== -1 && i >= first);
    }
    case 'BestN':
      return bestN(p, cps);
    case 'AnyPreservationPolicy':
      return anyOf(p.policies.map((c) => shouldPreserve(c, cps, ctx)), cps.length);
  }
}

/** np.any(axis=0) over the children's flags; with no children numpy gives a bare False. */
export function anyOf(byPolicy: readonly boolean[][], n: number): boolean[] {
  if (byPolicy.length === 0) throw pyError('TypeError', "'bool' object is not iterable");
  return Array.from({ length: n }, (_, i) => byPolicy.some((f) => f[i] === true));
}

function bestN(p: Extract<PreservationPolicy, { type: 'BestN' }>, cps: readonly CheckpointInfo[]): boolean[] {
  if (p.n === null || cps.length <= p.n) return cps.map(() => true);
  if (p.n === 0) return cps.map(() => false);
  const withMetrics = cps.flatMap((c, i) => (c.metrics !== null ? [i] : []));
  // keys first, in list order (a missing key raises before any comparison), then Python's sort
  const keys = withMetrics.map((i) => lookupMetric(cps[i]!.metrics!, p.metric));
  const order = pySortedIndices(keys, p.reverse).map((j) => withMetrics[j]!);
  // Python's `[-n:]` on a shorter list takes it all; a negative n takes all but the first |n|
  const kept = new Set(p.n > 0 ? order.slice(Math.max(0, order.length - p.n)) : order.slice(-p.n));
  if (p.keep_checkpoints_without_metrics) cps.forEach((c, i) => c.metrics === null && kept.add(i));
  return cps.map((_, i) => kept.has(i));
}
