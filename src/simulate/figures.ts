/**
 * The figures of a simulation: the best value of the figures' metric ever logged (with where),
 * and each policy's result (kept files, best, regret, checkpoints and bytes written, peak storage),
 * with paths made relative to the run's working directory.
 */
import type { LoopEvent } from '../core/events.ts';
import { pyRelpath } from '../core/paths.ts';
import { namesOf, valuesOf, type LogRecord } from '../sources/records.ts';
import type { KeptFile, MetricChoice, PolicyResult, PolicySpec } from './run.ts';
import { BoundedSeries, type SeriesPoint } from './series.ts';
import type { NoteSummary } from './noteTally.ts';
import type { PolicyWorld, SaveRecord } from './world.ts';

/** Best value of a metric and where: the exact name, or the `_epoch` / `_step` columns Lightning splits it into. */
export class Observed {
  private readonly best = new Map<string, { value: number; epoch: number; step: number; logStep: number }>();
  private readonly series = new Map<string, BoundedSeries>();

  constructor(readonly metric: MetricChoice) {}

  /** `step` is the global step of the hook (as in checkpoint names), `logStep` the step the log wrote (one less, usually) */
  add(name: string, value: number, epoch: number, step: number, logStep: number = step) {
    let s = this.series.get(name);
    if (!s) this.series.set(name, (s = new BoundedSeries()));
    s.add({ step, epoch, value });
    if (Number.isNaN(value)) return;
    const b = this.best.get(name);
    if (!b || (this.metric.mode === 'min' ? value < b.value : value > b.value)) this.best.set(name, { value, epoch, step, logStep });
  }

  /** which logged name stands for the metric */
  private chosen(): string | null {
    const m = this.metric.name;
    for (const n of [m, `${m}_epoch`, `${m}_step`]) if (this.series.has(n)) return n;
    return null;
  }

  result() {
    const n = this.chosen();
    const b = n === null ? undefined : this.best.get(n);
    return b ? { metric: n!, ...b } : null;
  }

  points(): SeriesPoint[] {
    const n = this.chosen();
    return n === null ? [] : this.series.get(n)!.values();
  }

  names(): string[] {
    const m = this.metric.name;
    return [m, `${m}_epoch`, `${m}_step`];
  }
}

export function observeRecord(r: LogRecord, epoch: number, step: number, names: Map<string, Observed[]>) {
  const ns = namesOf(r);
  const vs = valuesOf(r);
  for (let i = 0; i < ns.length; i++) {
    const os = names.get(ns[i]!);
    if (os) for (const o of os) o.add(ns[i]!, vs[i]!, epoch, step, r.step);
  }
}

export function observeEvent(e: LoopEvent, names: Map<string, Observed[]>) {
  if (e.type !== 'validationEnded' && e.type !== 'trainEpochEnded' && e.type !== 'trainBatchEnded') return;
  const v = e.view;
  if (v.sanityChecking || !v.metrics) return;
  for (const [name, x] of Object.entries(v.metrics)) {
    const os = names.get(name);
    if (os) for (const o of os) o.add(name, x, v.epoch, v.globalStep);
  }
}

export function rel(p: string, cwd: string): string {
  if (!p.startsWith('/')) return p;
  const r = pyRelpath(p, cwd, cwd);
  return r.startsWith('../') ? p : r;
}

export function result(w: PolicyWorld, spec: PolicySpec, metric: MetricChoice | null, observed: Map<string, Observed>, cwd: string, size: number | null, keepEffects: boolean): PolicyResult {
  const kept: KeptFile[] = [...w.files.values()]
    .map((f) => ({
      path: rel(f.path, cwd),
      type: f.kind,
      ...(f.kind === 'symlink' ? { target: rel(f.target!, cwd) } : {}),
      score: f.score ?? f.metricValue,
      metricValue: f.metricValue,
      epoch: f.epoch,
      step: f.globalStep,
    }))
    // in step order (an every-5-epochs policy reads 4, 9, 14, 19), then by path
    .sort((a, b) => a.step - b.step || a.epoch - b.epoch || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const o = metric ? observed.get(`${metric.name}\u0000${metric.mode}`) : undefined;
  const bestObserved = o?.result() ?? null;
  let bestKept: { path: string; value: number } | null = null;
  if (metric) {
    for (const k of kept) {
      const v = k.metricValue;
      if (v === null || Number.isNaN(v)) continue;
      if (!bestKept || (metric.mode === 'min' ? v < bestKept.value : v > bestKept.value)) bestKept = { path: k.path, value: v };
    }
  }
  const regret = bestObserved && bestKept ? (metric!.mode === 'min' ? bestKept.value - bestObserved.value : bestObserved.value - bestKept.value) : null;
  const s = w.state;
  return {
    name: spec.name,
    config: spec.config,
    metric,
    saves: w.saves.map((x) => ({ ...x, path: rel(x.path, cwd), ...(x.target ? { target: rel(x.target, cwd) } : {}), reason: relReason(x.reason, cwd) })),
    removals: w.removals.map((x) => ({ ...x, path: rel(x.path, cwd), reason: relReason(x.reason, cwd) })),
    kept,
    best: s.bestModelPath ? { path: rel(s.bestModelPath, cwd), score: s.bestModelScore } : null,
    lastPath: s.lastModelPath ? rel(s.lastModelPath, cwd) : null,
    bestObserved,
    bestKept,
    regret,
    checkpointsWritten: w.written,
    linksWritten: w.links,
    peakFiles: w.peakFiles,
    bytesWritten: size === null ? null : w.written * size,
    peakBytes: size === null ? null : w.peakFiles * size,
    undetermined: w.undeterminedOverflow > 0 ? [...w.undetermined, { fit: w.fit, epoch: null, step: null, decision: `${w.undeterminedOverflow} more decisions`, reason: 'like the ones above (the list stops here to keep memory bounded)' }] : w.undetermined,
    errors: w.errors,
    warnings: [...w.warnings].map((m) => m.split(cwd + '/').join('')),
    notes: relNotes(w.notes.summary(), cwd),
    ...(keepEffects && w.effects ? { effects: w.effects } : {}),
  };
}

function relNotes(n: NoteSummary, cwd: string): NoteSummary {
  return { ...n, nearestRejections: n.nearestRejections.map((x) => ({ ...x, kthPath: rel(x.kthPath, cwd) })) };
}

function relReason<R extends SaveRecord['reason']>(r: R, cwd: string): R {
  if (r.rule === 'displaced' || r.rule === 'superseded') return { ...r, by: rel(r.by, cwd) };
  return r;
}
