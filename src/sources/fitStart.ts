/**
 * Where a fit starts: at step 0; at the checkpoint a resumed fit (one that follows another in the
 * same log) most likely started from, among those the previous fit left; or, for a log that begins
 * mid-run with nothing before it, somewhere the log bounds.
 */
import { classify, type Group } from './recordKinds.ts';
import type { FitStart, ReconstructOptions, ResolvedFacts, ResumeCandidate } from './timeline.ts';

/** What the start is worked out from: the facts in force and the records held back at the fit's start. */
export interface StartContext {
  readonly opts: ReconstructOptions;
  readonly facts: ResolvedFacts;
  /** batches per epoch, when known */
  readonly N: number | null;
  readonly valEnabled: boolean;
  readonly held: readonly Group[];
  /** remarks about the assumptions made (appended to) */
  readonly notes: string[];
}

/** Where the fit starts, given its first module row (epoch, global step) and the step offset of its rows. */
export function findStart(ctx: StartContext, firstEpoch: number | null, firstG: number | null, off: 0 | 1): FitStart {
  const N = ctx.N;
  const L = ctx.opts.facts.logEveryNSteps;
  const r = ctx.opts.resume;
  if (r === undefined) {
    if (firstEpoch === null || firstG === null || !looksResumed(ctx, firstEpoch, firstG)) {
      return { epoch: 0, globalStep: 0, batchesDone: 0, stepOffset: off, how: 'fresh', range: null };
    }
    // the log begins mid-run: it resumed from a checkpoint the log does not show
    const lo = N !== null ? Math.min(firstEpoch * N, firstG - 1) : Math.max(0, firstG - L);
    const g0 = N !== null ? lo : firstG - 1;
    return { epoch: firstEpoch, globalStep: g0, batchesDone: N !== null ? g0 - firstEpoch * N : 0, stepOffset: off, how: 'unknown-resume', range: [lo, firstG - 1] };
  }
  if (r.exceptionStep !== null) {
    const c = r.candidates.find((x) => x.globalStep === r.exceptionStep);
    const epoch = c?.epoch ?? r.previousEnd.epoch;
    const done = c?.batchesDone ?? (N !== null ? r.exceptionStep - epoch * N : 0);
    return { epoch, globalStep: r.exceptionStep, batchesDone: done, stepOffset: off, how: 'resumed', range: null };
  }
  if (firstG === null || firstEpoch === null) {
    return { epoch: r.previousEnd.epoch, globalStep: r.previousEnd.globalStep, batchesDone: 0, stepOffset: 1, how: 'resumed', range: null };
  }
  // the first logged batch after a resume is at most log_every_n_steps batches in
  const lo = Math.max(0, firstG - L);
  const hi = firstG - 1;
  const fits = r.candidates.filter((c) => c.globalStep >= lo && c.globalStep <= hi && resumeEpoch(ctx, c) === firstEpoch);
  const steps = [...new Set(fits.map((c) => c.globalStep))].sort((a, b) => a - b);
  if (steps.length >= 1) {
    const pick = fits.find((c) => c.atEpochEnd) ?? fits.sort((a, b) => b.globalStep - a.globalStep)[0]!;
    if (steps.length > 1) ctx.notes.push(`the resumed fit's first logged step fits checkpoints written at global steps ${steps.join(', ')}; assuming ${pick.globalStep}`);
    return startFrom(ctx, pick, off, steps.length > 1 ? [steps[0]!, steps[steps.length - 1]!] : null);
  }
  const g0 = N !== null && firstEpoch * N >= lo && firstEpoch * N <= hi ? firstEpoch * N : hi;
  ctx.notes.push(`no checkpoint of the previous fit matches where the resumed fit starts (epoch ${firstEpoch}, global step ${lo}..${hi}); assuming global step ${g0}`);
  return { epoch: firstEpoch, globalStep: g0, batchesDone: N !== null ? g0 - firstEpoch * N : 0, stepOffset: off, how: 'unknown-resume', range: [lo, hi] };
}

/**
 * Does a log that is not a known resumed fit start mid-run? Its first row comes later than the
 * first logging step, or after whole epochs that validation (logged whatever log_every_n_steps
 * is) would have shown.
 */
function looksResumed(ctx: StartContext, firstEpoch: number, firstG: number): boolean {
  if (firstEpoch === 0) return false;
  const L = ctx.opts.facts.logEveryNSteps;
  if (firstG > L) return true;
  if (ctx.N !== null && firstEpoch * ctx.N >= L) return true;
  // validation rows in the first epoch seen, with validation every epoch: earlier epochs had them too
  const cve = ctx.facts.checkValEveryNEpoch;
  if (!ctx.valEnabled || cve === null) return false;
  for (const grp of ctx.held) {
    const c = classify(grp, ctx.opts.role);
    const v = c.find((k) => k.kind === 'val');
    if (v && v.record.epoch === firstEpoch) return firstEpoch >= cve;
    if (c.some((k) => k.record.epoch !== null && k.record.epoch > firstEpoch)) break;
  }
  return false;
}

/** The epoch a fit resumed from checkpoint `c` starts in. */
function resumeEpoch(ctx: StartContext, c: ResumeCandidate): number {
  if (c.atEpochEnd) return c.epoch + 1;
  if (ctx.N !== null && c.batchesDone >= ctx.N) return c.epoch + 1;
  return c.epoch;
}

function startFrom(ctx: StartContext, c: ResumeCandidate, off: 0 | 1, range: readonly [number, number] | null): FitStart {
  const epoch = resumeEpoch(ctx, c);
  return { epoch, globalStep: c.globalStep, batchesDone: epoch === c.epoch ? c.batchesDone : 0, stepOffset: off, how: 'resumed', range };
}
