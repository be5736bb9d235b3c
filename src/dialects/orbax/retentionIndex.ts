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
 * seen. The index is persistent (sortedMap.ts): a save updates it in O(log n) and the state it
 * started from keeps its own. Any other policy (time-based, capped or closest intervals, nested unions, a negative n), or
 * a kept metric that is NaN, None or missing (where CPython's sort order or error depends on the
 * whole list), takes the full evaluation: `plan` / `build` answer null.
 */
import type { CheckpointInfo } from './checkpointInfo.ts';
import { metricScalar } from './checkpointInfo.ts';
import { tail, type CheckpointList, type Listed } from './checkpointList.ts';
import { SortedMap, hashNumber, type KeyOrder } from './sortedMap.ts';
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

/** A BestN ranking key: the metric's key, then the place in the list (Python's sort is stable). */
interface RankKey {
  readonly k: number;
  readonly seq: number;
}

const ascending: KeyOrder<RankKey> = { compare: (a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.seq - b.seq), hash: (x) => hashNumber(x.seq) };
// sorted(reverse=True) keeps equal keys in list order too
const descending: KeyOrder<RankKey> = { compare: (a, b) => (a.k > b.k ? -1 : a.k < b.k ? 1 : a.seq - b.seq), hash: (x) => hashNumber(x.seq) };

/** One BestN child's metric-bearing checkpoints in Python's `sorted(key, reverse)` order. */
type Ranked = SortedMap<RankKey, CheckpointInfo>;

/**
 * What retention reads besides the list, as a persistent value (an update leaves the index it
 * came from as it was): the checkpoints no stable verdict keeps, and one ranking per BestN child.
 */
export interface RetentionIndex {
  /** the checkpoints no stable verdict keeps, in list order (none tracked when a child keeps all) */
  readonly loose: readonly Listed[];
  readonly ranked: readonly Ranked[];
}

/** A BestN key the fast path can order: a number, not NaN (NaN and None need CPython's exact comparisons). */
function keyOf(c: CheckpointInfo, metric: string): number | null {
  const m = c.metrics!;
  if (!Object.prototype.hasOwnProperty.call(m, metric)) return null;
  const k = metricScalar(m[metric]!);
  return k === null || Number.isNaN(k) ? null : k;
}

/** The rankings with `x` placed in each, or null when its key needs the full evaluation. */
function ranked(plan: Plan, rs: readonly Ranked[], x: Listed): readonly Ranked[] | null {
  if (x.c.metrics === null || plan.best.length === 0) return rs;
  const next: Ranked[] = [];
  for (let j = 0; j < plan.best.length; j++) {
    const k = keyOf(x.c, plan.best[j]!.metric);
    if (k === null) return null;
    next.push(rs[j]!.set({ k, seq: x.seq }, x.c));
  }
  return next;
}

const isLoose = (plan: Plan, c: CheckpointInfo): boolean => !plan.keepsAll && !plan.stable(c);

/** The index of a whole list, or null when a kept metric needs the full evaluation. */
export function build(plan: Plan, listed: readonly Listed[]): RetentionIndex | null {
  let rs: readonly Ranked[] | null = plan.best.map((b) => SortedMap.empty(b.reverse ? descending : ascending));
  const loose: Listed[] = [];
  for (const x of listed) {
    if ((rs = ranked(plan, rs, x)) === null) return null;
    if (isLoose(plan, x.c)) loose.push(x);
  }
  return { loose, ranked: rs };
}

/** The index with `x` appended to the list, or null when `x` makes it unusable (the full evaluation takes over). */
export function append(plan: Plan, ix: RetentionIndex, x: Listed): RetentionIndex | null {
  const rs = ranked(plan, ix.ranked, x);
  if (rs === null) return null;
  return { loose: isLoose(plan, x.c) ? [...ix.loose, x] : ix.loose, ranked: rs };
}

/** The index once the checkpoints in `gone` left the list. */
export function removeAll(plan: Plan, ix: RetentionIndex, gone: readonly Listed[]): RetentionIndex {
  if (gone.length === 0) return ix;
  const seqs = new Set(gone.map((x) => x.seq));
  const loose = ix.loose.some((x) => seqs.has(x.seq)) ? ix.loose.filter((x) => !seqs.has(x.seq)) : ix.loose;
  const ranked = ix.ranked.map((r, j) => {
    for (const x of gone) if (x.c.metrics !== null) r = r.delete({ k: keyOf(x.c, plan.best[j]!.metric)!, seq: x.seq });
    return r;
  });
  return { loose, ranked };
}

/**
 * The steps retention removes from `list` (the list after the save), in list order:
 * `shouldPreserve`'s union, negated. Reads only the loose checkpoints and the kept tails.
 */
export function toRemove(plan: Plan, ix: RetentionIndex, list: CheckpointList): number[] {
  const len = list.bySeq.size;
  // BestN keeps the whole list while it holds at most n
  if (plan.keepsAll || ix.loose.length === 0 || plan.best.some((b) => len <= b.n)) return [];
  const kept = new Set<CheckpointInfo>();
  for (const n of plan.latest) for (const c of tail(list, n)) kept.add(c);
  plan.best.forEach((b, j) => {
    const r = ix.ranked[j]!;
    for (const c of r.values(r.size - b.n)) kept.add(c);
  });
  const out: number[] = [];
  for (const x of ix.loose) if (!kept.has(x.c)) out.push(x.c.step);
  return out;
}
