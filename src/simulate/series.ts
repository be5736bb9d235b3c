/**
 * A metric's values over global steps, kept in bounded memory for charts: when the buffer is full,
 * neighbouring buckets merge, keeping each bucket's lowest and highest point, so spikes and the
 * best value survive however long the log is.
 */

export interface SeriesPoint {
  readonly step: number;
  readonly epoch: number;
  readonly value: number;
}

export class BoundedSeries {
  private points: SeriesPoint[] = [];
  /** points per bucket before the next merge (doubles at each merge) */
  private width = 1;
  private pending: SeriesPoint[] = [];
  private count = 0;

  constructor(private readonly capacity = 2000) {}

  get size(): number {
    return this.count;
  }

  add(p: SeriesPoint) {
    if (!Number.isFinite(p.value)) return;
    this.count++;
    this.pending.push(p);
    if (this.pending.length < this.width) return;
    this.points.push(...extremes(this.pending));
    this.pending = [];
    if (this.points.length >= this.capacity) {
      const merged: SeriesPoint[] = [];
      for (let i = 0; i < this.points.length; i += 4) merged.push(...extremes(this.points.slice(i, i + 4)));
      this.points = merged;
      this.width *= 2;
    }
  }

  /** The kept points in step order. */
  values(): SeriesPoint[] {
    return [...this.points, ...extremes(this.pending)];
  }
}

/** The lowest and highest point of a run of points, in their original order. */
function extremes(ps: readonly SeriesPoint[]): SeriesPoint[] {
  if (ps.length <= 2) return [...ps];
  let lo = 0;
  let hi = 0;
  for (let i = 1; i < ps.length; i++) {
    if (ps[i]!.value < ps[lo]!.value) lo = i;
    if (ps[i]!.value > ps[hi]!.value) hi = i;
  }
  if (lo === hi) return [ps[lo]!];
  return lo < hi ? [ps[lo]!, ps[hi]!] : [ps[hi]!, ps[lo]!];
}
