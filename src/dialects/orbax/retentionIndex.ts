/**
 * Retention without re-reading the whole checkpoint list: the same verdicts as `shouldPreserve`
 * (preservation.ts), for the policies whose verdicts split into
 *
 * - stable ones, fixed by the checkpoint itself and never revised: `EveryNSteps` (exact interval,
 *   no cap), `CustomSteps`, `PreserveAll`, an unbounded `LatestN`/`BestN`, and `BestN`'s
 *   `keep_checkpoints_without_metrics`;
 * - bounded ones, keeping at most n: `LatestN(n)` (the list's tail) and `BestN(n > 0)` (the tail of
 *   the metric-bearing checkpoints kept in Python's sorted order, updated by binary search).
 *
 * A save then removes only checkpoints no stable verdict keeps (`loose`, at most the bounded
 * counts plus the new one after a save) that no bounded verdict keeps, whatever the number of steps
 * seen. Any other policy (time-based, capped or closest intervals, nested unions, a negative n), or
 * a kept metric that is NaN, None or missing (where CPython's sort order or error depends on the
 * whole list), takes the full evaluation: `plan` / `build` answer null.
 */
import type { CheckpointInfo } from './checkpointInfo.ts';
import { metricScalar } from './checkpointInfo.ts';
import type { PreservationPolicy } from './policies.ts';
import { pyMod } from './pyvalue.ts';

interface Best {
  readonly metric: string;
  readonly reverse: boolean;
  readonly n: number;
}

/** The policy split into its stable and bounded verdicts. */
export interface Plan {
  /** some child keeps every checkpoint: nothing is ever removed */
  readonly keepsAll: boolean;
  /** is `c` kept whatever else is in the list? */
  readonly stable: (c: CheckpointInfo) => boolean;
  /** LatestN counts (the last max(n, 0) are kept) */
  readonly latest: readonly number[];
  readonly best: readonly Best[];
}

const PLANS = new WeakMap<PreservationPolicy, Plan | null>();

/** The plan of a preservation policy (computed once per resolved options), or null when it needs the full evaluation. */
export function planOf(p: PreservationPolicy): Plan | null {
  let plan = PLANS.get(p);
  if (plan === undefined) PLANS.set(p, (plan = makePlan(p)));
  return plan;
}

function makePlan(p: PreservationPolicy): Plan | null {
  const children = p.type === 'AnyPreservationPolicy' ? p.policies : [p];
  // np.any over no children raises: the full evaluation says so
  if (children.length === 0) return null;
  let keepsAll = false;
  const stable: Array<(c: CheckpointInfo) => boolean> = [];
  const latest: number[] = [];
  const best: Best[] = [];
  for (const c of children) {
    switch (c.type) {
      case 'PreserveAll':
        keepsAll = true;
        break;
      case 'LatestN':
        if (c.n === null) keepsAll = true;
        else latest.push(Math.max(0, c.n));
        break;
      case 'BestN':
        if (c.n === null) keepsAll = true;
        else if (c.n < 0) return null;
        else if (c.n > 0) {
          best.push({ metric: c.metric, reverse: c.reverse, n: c.n });
          if (c.keep_checkpoints_without_metrics) stable.push((x) => x.metrics === null);
        }
        // n = 0 keeps nothing
        break;
      case 'EveryNSteps': {
        const { interval_steps: n, exact_interval, max_to_keep } = c;
        if (n === 0 || !exact_interval || (max_to_keep !== null && max_to_keep > 0)) return null;
        stable.push((x) => pyMod(x.step, n) === 0);
        break;
      }
      case 'CustomSteps': {
        const steps = new Set(c.steps);
        stable.push((x) => steps.has(x.step));
        break;
      }
      case 'EveryNSeconds':
      case 'EveryNStepsClosest':
      case 'LatestDuration':
      case 'AnyPreservationPolicy':
        return null;
    }
  }
  return { keepsAll, stable: (x) => stable.some((f) => f(x)), latest, best };
}

/** One BestN child's metric-bearing checkpoints in Python's `sorted(key, reverse)` order, with their keys. */
interface Ranked {
  readonly cps: CheckpointInfo[];
  readonly keys: number[];
}

/** What retention reads besides the list: owned by one state at a time (the manager moves it forward). */
export interface RetentionIndex {
  /** the checkpoints no stable verdict keeps, in list order */
  loose: CheckpointInfo[];
  readonly ranked: Ranked[];
}

/** A BestN key the fast path can order: a number, not NaN (NaN and None need CPython's exact comparisons). */
function keyOf(c: CheckpointInfo, metric: string): number | null {
  const m = c.metrics!;
  if (!Object.prototype.hasOwnProperty.call(m, metric)) return null;
  const k = metricScalar(m[metric]!);
  return k === null || Number.isNaN(k) ? null : k;
}

/** The index of a whole list, or null when a kept metric needs the full evaluation. */
export function build(plan: Plan, cps: readonly CheckpointInfo[]): RetentionIndex | null {
  const ranked: Ranked[] = [];
  for (const b of plan.best) {
    const withKeys: Array<[CheckpointInfo, number]> = [];
    for (const c of cps) {
      if (c.metrics === null) continue;
      const k = keyOf(c, b.metric);
      if (k === null) return null;
      withKeys.push([c, k]);
    }
    // a stable sort on a total order: CPython's order (list order among equal keys, reverse included)
    withKeys.sort(b.reverse ? (x, y) => (x[1] > y[1] ? -1 : x[1] < y[1] ? 1 : 0) : (x, y) => (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
    ranked.push({ cps: withKeys.map((x) => x[0]), keys: withKeys.map((x) => x[1]) });
  }
  return { loose: cps.filter((c) => !plan.stable(c)), ranked };
}

/** `c` appended to the list; false when it makes the index unusable (the caller drops it). */
export function append(plan: Plan, ix: RetentionIndex, c: CheckpointInfo): boolean {
  if (c.metrics !== null)
    for (let j = 0; j < plan.best.length; j++) {
      const k = keyOf(c, plan.best[j]!.metric);
      if (k === null) return false;
      const r = ix.ranked[j]!;
      // after every equal key: the newest is last in list order
      const at = plan.best[j]!.reverse ? firstWhere(r.keys, (x) => x < k) : firstWhere(r.keys, (x) => x > k);
      r.cps.splice(at, 0, c);
      r.keys.splice(at, 0, k);
    }
  if (!plan.stable(c)) ix.loose.push(c);
  return true;
}

/** The checkpoints in `gone` left the list. */
export function removeAll(plan: Plan, ix: RetentionIndex, gone: readonly CheckpointInfo[]): void {
  if (gone.length === 0) return;
  const set = new Set(gone);
  ix.loose = ix.loose.filter((c) => !set.has(c));
  for (const c of gone) {
    if (c.metrics === null) continue;
    for (let j = 0; j < plan.best.length; j++) {
      const r = ix.ranked[j]!;
      const k = keyOf(c, plan.best[j]!.metric)!;
      const rev = plan.best[j]!.reverse;
      let i = rev ? firstWhere(r.keys, (x) => x <= k) : firstWhere(r.keys, (x) => x >= k);
      while (i < r.cps.length && r.cps[i] !== c) i++;
      if (i < r.cps.length) {
        r.cps.splice(i, 1);
        r.keys.splice(i, 1);
      }
    }
  }
}

/** The first index of a monotone array where `pred` holds (binary search). */
function firstWhere(xs: readonly number[], pred: (x: number) => boolean): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pred(xs[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The steps retention removes from `cps` (the list after the save), in list order: `shouldPreserve`'s union, negated. */
export function toRemove(plan: Plan, ix: RetentionIndex, cps: readonly CheckpointInfo[]): number[] {
  const len = cps.length;
  // BestN keeps the whole list while it holds at most n
  if (plan.keepsAll || ix.loose.length === 0 || plan.best.some((b) => len <= b.n)) return [];
  const kept = new Set<CheckpointInfo>();
  for (const n of plan.latest) for (let i = Math.max(0, len - n); i < len; i++) kept.add(cps[i]!);
  plan.best.forEach((b, j) => {
    const r = ix.ranked[j]!.cps;
    for (let i = Math.max(0, r.length - b.n); i < r.length; i++) kept.add(r[i]!);
  });
  const out: number[] = [];
  for (const c of ix.loose) if (!kept.has(c)) out.push(c.step);
  return out;
}
