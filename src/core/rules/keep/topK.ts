/**
 * Top-k by a monitor (Lightning's `check_monitor_top_k` and the bookkeeping of
 * `_update_best_and_save`): the slice is Lightning's public attributes. The check is strict
 * against the k-th value (tie_break 'first', Lightning's) or not (tie_break 'latest': an equal
 * score displaces the oldest of the worst). NaN is stored as +inf (min) / -inf (max) and never
 * displaces once k are kept. With 'first', best is the first extreme in insertion order (Python's
 * min()/max()); with 'latest', the last.
 */
import type { PolicyConfig } from '../../config.ts';
import { pyStrRepr } from '../../format/pyformat.ts';
import type { PolicyState } from '../../state.ts';
import { VMap } from '../../vmap.ts';
import { Raised } from '../hook.ts';

export type TopKSlice = { -readonly [K in 'bestKModels' | 'kthBestModelPath' | 'kthValue' | 'bestModelPath' | 'bestModelScore' | 'currentScore' | 'extremaTracked']: PolicyState[K] };

/** Whether `current` enters the top k. */
export function admits(c: PolicyConfig, s: TopKSlice, current: number): boolean {
  const k = c.saveTopK;
  if (k === -1) return true;
  if (s.bestKModels.size < k) return true;
  const kth = s.bestKModels.get(s.kthBestModelPath);
  if (kth === undefined) throw new Raised('KeyError', pyStrRepr(s.kthBestModelPath));
  if (c.tieBreak === 'latest') return c.mode === 'min' ? current <= kth : current >= kth;
  return c.mode === 'min' ? current < kth : current > kth;
}

/** The k in effect: save_top_k, or one more than kept for save_top_k=-1. */
export function effectiveK(c: PolicyConfig, s: TopKSlice): number {
  return c.saveTopK === -1 ? s.bestKModels.size + 1 : c.saveTopK;
}

/** Takes the k-th entry out when k are kept (it is displaced by the admission); Lightning does this before naming the new file. */
export function takeKth(s: TopKSlice, k: number): string | null {
  if (!(s.bestKModels.size === k && k > 0)) return null;
  const del = s.kthBestModelPath;
  const without = s.bestKModels.delete(del);
  // delete gives back the same version when the key is absent: Python's `del d[k]` raises
  if (without === s.bestKModels) throw new Raised('KeyError', pyStrRepr(del));
  s.bestKModels = without;
  return del;
}

/** The score stored for a value: NaN becomes the worst value of the mode. */
export function storedScore(c: PolicyConfig, value: number): number {
  return Number.isNaN(value) ? (c.mode === 'min' ? Infinity : -Infinity) : value;
}

/** Adds `path` with `score` and recomputes the k-th and the best. */
export function enter(c: PolicyConfig, s: TopKSlice, path: string, score: number, k: number) {
  s.currentScore = score;
  const existed = c.saveTopK === -1 && s.bestKModels.has(path);
  const prevBest = s.bestModelPath;
  const prevKth = s.kthBestModelPath;
  s.bestKModels = s.bestKModels.set(path, score);
  const min = c.mode === 'min';
  const latest = c.tieBreak === 'latest';
  if (c.saveTopK === -1 && s.extremaTracked && !existed) {
    // save_top_k=-1 appends: the new entry is the first min / max only if strictly better than
    // the tracked ones (whose scores are kthValue / bestModelScore), as Python's min()/max() pick
    if (prevKth === '' || (min ? score > s.kthValue : score < s.kthValue)) [s.kthBestModelPath, s.kthValue] = [path, score];
    const better = s.bestModelScore === null || (min ? score < s.bestModelScore : score > s.bestModelScore) || (latest && score === s.bestModelScore);
    if (prevBest === '' || better) [s.bestModelPath, s.bestModelScore] = [path, score];
    return;
  }
  const full = s.bestKModels.size === k;
  const both = full ? bothExtremes(s.bestKModels, min, latest) : null;
  if (full) {
    s.kthBestModelPath = both ? both.worst : firstExtreme(s.bestKModels, !min, false);
    s.kthValue = both ? both.worstV : s.bestKModels.get(s.kthBestModelPath)!;
  }
  s.bestModelPath = both ? both.best : firstExtreme(s.bestKModels, min, latest);
  s.bestModelScore = both ? both.bestV : s.bestKModels.get(s.bestModelPath)!;
  // the tracked pair is exact only when both were just recomputed from the whole map
  s.extremaTracked = c.saveTopK === -1 && s.bestKModels.size === k;
}

/** Whether top-k keeps `path`. */
export function keepsTopK(s: Pick<PolicyState, 'bestKModels'>, path: string): boolean {
  return s.bestKModels.has(path);
}

/**
 * The best (as firstExtreme(m, min, latest)) and the worst (firstExtreme(m, !min, false)) in one
 * scan, for a full top k; null when a NaN is kept (firstExtreme's ordered walk answers then).
 */
function bothExtremes(m: VMap<number>, min: boolean, latest: boolean): { best: string; bestV: number; worst: string; worstV: number } | null {
  let best = '';
  let bestV = 0;
  let bestRank = -1;
  let worst = '';
  let worstV = 0;
  let worstRank = -1;
  let sawNaN = false;
  m.forEachRanked((v, k, rank) => {
    if (v !== v) sawNaN = true;
    if (bestRank < 0 || (min ? v < bestV : v > bestV) || (v === bestV && (latest ? rank > bestRank : rank < bestRank))) [best, bestV, bestRank] = [k, v, rank];
    if (worstRank < 0 || (min ? v > worstV : v < worstV) || (v === worstV && rank < worstRank)) [worst, worstV, worstRank] = [k, v, rank];
  });
  return sawNaN || bestRank < 0 ? null : { best, bestV, worst, worstV };
}

/**
 * Python's min()/max() over a dict by value: the FIRST extreme in insertion order (or the last,
 * `lastOfTies`). Scanned unordered with ties broken by insertion rank (the same answer for a
 * total order); a NaN, for which Python's answer depends on the order of the scan, falls back to
 * the ordered walk.
 */
export function firstExtreme(m: VMap<number>, wantMin: boolean, lastOfTies: boolean): string {
  let best: string | undefined;
  let bestV = 0;
  let bestRank = 0;
  let sawNaN = false;
  m.forEachRanked((v, k, rank) => {
    if (Number.isNaN(v)) sawNaN = true;
    if (best === undefined || (wantMin ? v < bestV : v > bestV) || (v === bestV && (lastOfTies ? rank > bestRank : rank < bestRank))) [best, bestV, bestRank] = [k, v, rank];
  });
  if (!sawNaN) return best ?? '';
  best = undefined;
  for (const [k, v] of m) {
    if (best === undefined || (wantMin ? v < bestV : v > bestV) || (lastOfTies && v === bestV)) [best, bestV] = [k, v];
  }
  return best ?? '';
}
