/**
 * One result shape for every dialect, so that the table, JSON and HTML renderers (src/report/)
 * show a Lightning, a Keras, an Orbax and a Trainer policy alike. A Lightning policy's result is
 * the simulator's own (src/simulate/run.ts), tagged; the other dialects' adapters (this folder)
 * build the same figures from their framework's simulation, with the reason of each decision as
 * text (each framework words its reasons differently).
 */
import type { Dialect } from '../../dialectOptions.ts';
import type { FitSummary, KeptFile, MetricChoice, PolicyResult, SimulationResult } from '../run.ts';
import type { SeriesPoint } from '../series.ts';
import type { Undetermined } from '../world.ts';

export type DialectName = Exclude<Dialect, 'lightning'>;

/** Display names, for messages ("Keras would raise ..."). */
export const FRAMEWORK: Record<Dialect, string> = { lightning: 'Lightning', keras: 'Keras', orbax: 'Orbax', transformers: 'transformers' };

export interface DialectSave {
  readonly seq: number;
  readonly fit: number;
  readonly epoch: number;
  readonly step: number;
  readonly path: string;
  /** Keras rewrites a path it wrote before: the earlier content is gone, the file stays */
  readonly overwrote: boolean;
  readonly why: string;
  readonly score: number | null;
  readonly metricValue: number | null;
}

export interface DialectRemoval {
  readonly seq: number;
  readonly fit: number;
  readonly epoch: number;
  readonly step: number;
  readonly path: string;
  readonly why: string;
}

/** A Keras, Orbax or Trainer policy's figures, with the fields the renderers read from a Lightning result. */
export interface DialectPolicyResult {
  readonly dialect: DialectName;
  readonly name: string;
  /** the options as the policy file gave them (the framework's names) */
  readonly options: Readonly<Record<string, unknown>>;
  readonly metric: MetricChoice | null;
  readonly saves: readonly DialectSave[];
  readonly removals: readonly DialectRemoval[];
  readonly kept: readonly KeptFile[];
  /** the best as the framework tracks it (Trainer's best_model_checkpoint, Orbax's best step), if it does */
  readonly best: { readonly path: string; readonly score: number | null } | null;
  readonly lastPath: string | null;
  readonly bestObserved: PolicyResult['bestObserved'];
  readonly bestKept: PolicyResult['bestKept'];
  readonly regret: number | null;
  readonly checkpointsWritten: number;
  readonly linksWritten: number;
  readonly peakFiles: number;
  readonly bytesWritten: number | null;
  readonly peakBytes: number | null;
  readonly undetermined: readonly Undetermined[];
  readonly errors: PolicyResult['errors'];
  readonly warnings: readonly string[];
  /** how the log was mapped onto this framework's loop, and what that assumes */
  readonly mapping: readonly string[];
}

export type ReportPolicy = (PolicyResult & { readonly dialect: 'lightning' }) | DialectPolicyResult;

/** A log as the report describes it: Lightning's fits, or a log a dialect read. */
export interface ReportFit extends Omit<FitSummary, 'kind'> {
  readonly kind: string;
  /** the policies that read the log this way (dialect policies) */
  readonly readBy?: readonly string[];
}

export interface Report extends Omit<SimulationResult, 'policies' | 'fits'> {
  readonly fits: readonly ReportFit[];
  readonly policies: readonly ReportPolicy[];
}

/** The Lightning simulator's result as a report. */
export function lightningReport(r: SimulationResult): Report {
  return { ...r, policies: r.policies.map(toReportPolicy) };
}

/** What the renderers take: a report, or the Lightning simulator's result as it is (the public API). */
export type ReportInput = Report | SimulationResult;

export function toReportPolicy(p: ReportPolicy | PolicyResult): ReportPolicy {
  return 'dialect' in p ? p : { ...p, dialect: 'lightning' as const };
}

export function toReport(r: ReportInput): Report {
  return { ...r, policies: r.policies.map(toReportPolicy) };
}

/** A policy's column heading: its name, and the framework when it is not Lightning. */
export const headingOf = (p: ReportPolicy): string => (p.dialect === 'lightning' ? p.name : `${p.name} (${FRAMEWORK[p.dialect]})`);

/** A value observed in the log for the figures' metric. */
export interface Observation {
  readonly epoch: number;
  readonly step: number;
  readonly value: number;
}

/** The best observation (the earliest of ties; NaN never best). */
export function bestOf(obs: readonly Observation[], mode: 'min' | 'max'): Observation | null {
  let best: Observation | null = null;
  for (const o of obs) {
    if (Number.isNaN(o.value)) continue;
    if (best === null || (mode === 'min' ? o.value < best.value : o.value > best.value)) best = o;
  }
  return best;
}

/** Best observed, best kept and regret, as figures.ts computes them for Lightning. */
export function regretFigures(metric: MetricChoice | null, obs: readonly Observation[], kept: readonly KeptFile[]): Pick<DialectPolicyResult, 'bestObserved' | 'bestKept' | 'regret'> {
  if (metric === null) return { bestObserved: null, bestKept: null, regret: null };
  const b = bestOf(obs, metric.mode);
  let bestKept: { path: string; value: number } | null = null;
  for (const k of kept) {
    const v = k.metricValue;
    if (v === null || Number.isNaN(v)) continue;
    if (!bestKept || (metric.mode === 'min' ? v < bestKept.value : v > bestKept.value)) bestKept = { path: k.path, value: v };
  }
  const bestObserved = b ? { metric: metric.name, value: b.value, epoch: b.epoch, step: b.step, logStep: b.step } : null;
  const regret = bestObserved && bestKept ? (metric.mode === 'min' ? bestKept.value - bestObserved.value : bestObserved.value - bestKept.value) : null;
  return { bestObserved, bestKept, regret };
}

/** Points for the chart, bounded as the Lightning series are. */
export function seriesOf(obs: readonly Observation[], max = 2000): SeriesPoint[] {
  const pts = obs.map((o) => ({ step: o.step, epoch: o.epoch, value: o.value }));
  if (pts.length <= max) return pts;
  return Array.from({ length: max }, (_, i) => pts[Math.floor((i * pts.length) / max)]!);
}
