/**
 * Many runs at once: every run simulated with the same policies, one summary row per run and
 * totals per policy. Runs are independent, so they are spread over worker threads (one per core
 * by default); each worker sends back only the run's summary, so memory does not grow with the
 * runs' decisions, and the rows come back in the runs' order whatever the threads' timing.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RunFacts } from '../sources/loopFacts.ts';
import { SourceError } from '../sources/records.ts';
import type { RoleOptions } from '../sources/roles.ts';
import { simulate, type MetricChoice, type PolicyResult, type PolicySpec } from './run.ts';
import type { RunInput } from './runs.ts';
import { sweepWorkerScript } from './workerScript.ts';

/** What every run of a sweep is simulated with (structured-cloneable: it goes to the workers as is). */
export interface SweepSettings {
  readonly policies: readonly PolicySpec[];
  readonly run: RunFacts;
  readonly cwd: string;
  readonly roles: RoleOptions;
  readonly metric: MetricChoice | null;
  readonly ckptSize: number | null;
  readonly skipBad: boolean;
}

/** One policy's figures on one run. */
export interface PolicySummary {
  readonly name: string;
  readonly metric: MetricChoice | null;
  readonly bestObserved: number | null;
  readonly bestKept: number | null;
  readonly bestKeptPath: string | null;
  readonly regret: number | null;
  /** the best observed value is not among the files kept at the end (regret > 0) */
  readonly lostBest: boolean;
  readonly checkpointsWritten: number;
  readonly linksWritten: number;
  readonly filesKept: number;
  readonly peakFiles: number;
  readonly bytesWritten: number | null;
  readonly peakBytes: number | null;
  readonly undetermined: number;
  /** the errors the simulated Lightning would raise (their types) */
  readonly errors: readonly string[];
}

/** One run's row: its figures per policy, or why it could not be read. */
export type RunSummary =
  | { readonly kind: 'simulated'; readonly run: string; readonly logs: readonly string[]; readonly notes: readonly string[]; readonly policies: readonly PolicySummary[] }
  | { readonly kind: 'unreadable'; readonly run: string; readonly logs: readonly string[]; readonly problem: string };

export interface PolicyTotals {
  readonly name: string;
  readonly runs: number;
  /** runs whose best checkpoint the policy would have lost (regret > 0) */
  readonly runsLostBest: number;
  /** runs where the simulated Lightning would have raised */
  readonly runsRaised: number;
  readonly checkpointsWritten: number;
  readonly bytesWritten: number | null;
  /** the largest peak of any one run */
  readonly maxPeakFiles: number;
  readonly maxPeakBytes: number | null;
  /** the runs' peaks added up: all runs' checkpoints on disk at once */
  readonly sumPeakFiles: number;
  readonly sumPeakBytes: number | null;
  readonly meanRegret: number | null;
  readonly maxRegret: number | null;
  readonly undetermined: number;
}

export interface SweepResult {
  readonly settings: Pick<SweepSettings, 'ckptSize' | 'metric'>;
  readonly notes: readonly string[];
  readonly runs: readonly RunSummary[];
  readonly totals: readonly PolicyTotals[];
}

export function summarizePolicy(p: PolicyResult): PolicySummary {
  return {
    name: p.name,
    metric: p.metric,
    bestObserved: p.bestObserved?.value ?? null,
    bestKept: p.bestKept?.value ?? null,
    bestKeptPath: p.bestKept?.path ?? null,
    regret: p.regret,
    lostBest: p.regret !== null && p.regret > 0,
    checkpointsWritten: p.checkpointsWritten,
    linksWritten: p.linksWritten,
    filesKept: p.kept.length,
    peakFiles: p.peakFiles,
    bytesWritten: p.bytesWritten,
    peakBytes: p.peakBytes,
    undetermined: p.undetermined.length,
    errors: p.errors.map((e) => e.errorType),
  };
}

/** One run through `simulate`, as its summary row (a log that cannot be read is a row, not the end of the sweep). */
export async function summarizeRun(run: RunInput, s: SweepSettings): Promise<RunSummary> {
  const logs = run.logs.map((l) => l.path);
  try {
    const r = await simulate({ policies: s.policies, logs: run.logs, run: s.run, cwd: s.cwd, roles: s.roles, metric: s.metric, ckptSize: s.ckptSize, skipBad: s.skipBad });
    return { kind: 'simulated', run: run.name, logs, notes: r.notes, policies: r.policies.map(summarizePolicy) };
  } catch (e) {
    if (e instanceof SourceError) return { kind: 'unreadable', run: run.name, logs, problem: e.message };
    if (e instanceof Error && /JSONL event log cannot be combined/.test(e.message)) return { kind: 'unreadable', run: run.name, logs, problem: e.message };
    throw e;
  }
}

export function totals(rows: readonly RunSummary[], policies: readonly PolicySpec[], ckptSize: number | null): PolicyTotals[] {
  return policies.map((spec, i) => {
    const ps = rows.flatMap((r) => (r.kind === 'simulated' ? [r.policies[i]!] : []));
    const regrets = ps.flatMap((p) => (p.regret === null ? [] : [p.regret]));
    const sum = (f: (p: PolicySummary) => number) => ps.reduce((a, p) => a + f(p), 0);
    const maxPeakFiles = ps.reduce((a, p) => Math.max(a, p.peakFiles), 0);
    const sumPeakFiles = sum((p) => p.peakFiles);
    return {
      name: spec.name,
      runs: ps.length,
      runsLostBest: ps.filter((p) => p.lostBest).length,
      runsRaised: ps.filter((p) => p.errors.length > 0).length,
      checkpointsWritten: sum((p) => p.checkpointsWritten),
      bytesWritten: ckptSize === null ? null : sum((p) => p.checkpointsWritten) * ckptSize,
      maxPeakFiles,
      maxPeakBytes: ckptSize === null ? null : maxPeakFiles * ckptSize,
      sumPeakFiles,
      sumPeakBytes: ckptSize === null ? null : sumPeakFiles * ckptSize,
      meanRegret: regrets.length ? regrets.reduce((a, b) => a + b, 0) / regrets.length : null,
      maxRegret: regrets.length ? Math.max(...regrets) : null,
      undetermined: sum((p) => p.undetermined),
    };
  });
}

export interface SweepOptions {
  /** worker threads (default: one per core; 1 runs in this thread) */
  readonly jobs?: number;
  /** runs done so far, of all */
  readonly progress?: (done: number, total: number) => void;
}

/** The number of threads a sweep uses by default: the cores this process may use. */
export const defaultJobs = (): number => availableParallelism();

/** Every run simulated with the settings, rows in the runs' order. */
export async function simulateRuns(runs: readonly RunInput[], s: SweepSettings, o: SweepOptions = {}): Promise<SweepResult> {
  const jobs = Math.max(1, Math.min(o.jobs ?? defaultJobs(), runs.length));
  const rows = jobs === 1 ? await inThread(runs, s, o.progress) : await inWorkers(runs, s, jobs, o.progress);
  return { settings: { ckptSize: s.ckptSize, metric: s.metric }, notes: [], runs: rows, totals: totals(rows, s.policies, s.ckptSize) };
}

async function inThread(runs: readonly RunInput[], s: SweepSettings, progress?: (done: number, total: number) => void): Promise<RunSummary[]> {
  const rows: RunSummary[] = [];
  for (const r of runs) {
    rows.push(await summarizeRun(r, s));
    progress?.(rows.length, runs.length);
  }
  return rows;
}

export type WorkerTask = { readonly index: number; readonly run: RunInput };
export type WorkerReply = { readonly index: number; readonly row: RunSummary } | { readonly index: number; readonly failure: string };

/** Runs a worker has been given and not yet answered: two, so that it never waits for its next run. */
const IN_FLIGHT = 2;

async function inWorkers(runs: readonly RunInput[], s: SweepSettings, jobs: number, progress?: (done: number, total: number) => void): Promise<RunSummary[]> {
  const script = await sweepWorkerScript();
  return new Promise((resolvePromise, reject) => {
    const rows: (RunSummary | undefined)[] = new Array(runs.length);
    let next = 0;
    let done = 0;
    let failed = false;
    const workers: Worker[] = [];
    const stopAll = () => Promise.all(workers.map((w) => w.terminate()));
    const give = (w: Worker) => {
      if (next < runs.length) {
        const task: WorkerTask = { index: next, run: runs[next]! };
        next++;
        w.postMessage(task);
      }
    };
    for (let i = 0; i < jobs; i++) {
      const w = new Worker(script, { workerData: s });
      workers.push(w);
      w.on('message', (m: WorkerReply) => {
        if (failed) return;
        if ('failure' in m) {
          failed = true;
          void stopAll();
          reject(new Error(`simulating ${runs[m.index]!.name}: ${m.failure}`));
          return;
        }
        rows[m.index] = m.row;
        done++;
        progress?.(done, runs.length);
        if (done === runs.length) {
          void stopAll().then(() => resolvePromise(rows as RunSummary[]));
          return;
        }
        give(w);
      });
      w.on('error', (e) => {
        if (failed) return;
        failed = true;
        void stopAll();
        reject(e);
      });
      for (let k = 0; k < IN_FLIGHT; k++) give(w);
    }
  });
}
