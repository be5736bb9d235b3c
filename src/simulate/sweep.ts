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
import { threadTime, threadTimeSince } from './threadTime.ts';
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
  /** threads simulating runs, this one included (default: one per core; 1 stays in this thread) */
  readonly jobs?: number;
  /** runs done so far, of all */
  readonly progress?: (done: number, total: number) => void;
  /** how the work went over the threads, once the sweep is done (benchmarks judge the speed-up by it) */
  readonly onThreads?: (threads: readonly ThreadReport[]) => void;
}

/** One thread's share of a sweep. */
export interface ThreadReport {
  /** 'main' is the thread that called simulateRuns; workers are numbered from 1 */
  readonly thread: 'main' | number;
  readonly runs: number;
  /** seconds from the sweep's start to this thread's first run (a worker's start-up) */
  readonly startS: number;
  /** CPU seconds it spent before its first run (a worker loading its code; 0 for the main thread) */
  readonly startCpuS: number | null;
  /** seconds from its first run to its last one's end */
  readonly busyS: number;
  /** CPU seconds it spent over those (null where the OS does not tell, see threadTime.ts) */
  readonly cpuS: number | null;
  /** seconds it was ready but waited for a core: other processes' load */
  readonly waitS: number | null;
  /** the share of busyS its event loop was not idle */
  readonly utilization: number;
}

/** The number of threads a sweep uses by default: the cores this process may use. */
export const defaultJobs = (): number => availableParallelism();

/** Every run simulated with the settings, rows in the runs' order. */
export async function simulateRuns(runs: readonly RunInput[], s: SweepSettings, o: SweepOptions = {}): Promise<SweepResult> {
  const jobs = Math.max(1, Math.min(o.jobs ?? defaultJobs(), runs.length));
  const rows = await inThreads(runs, s, jobs, o);
  return { settings: { ckptSize: s.ckptSize, metric: s.metric }, notes: [], runs: rows, totals: totals(rows, s.policies, s.ckptSize) };
}

/**
 * What a worker is started with. Runs are claimed one at a time from a shared counter (an
 * Int32Array over a SharedArrayBuffer, `Atomics.add`), so a thread that is idle takes the next run
 * at once, without a message: the work balances itself whatever the runs' sizes, and no thread
 * waits on another. Each thread reads and parses its runs' files itself; only the paths go in and
 * only the summary rows come out.
 */
export interface WorkerData {
  readonly settings: SweepSettings;
  readonly runs: readonly RunInput[];
  readonly claims: SharedArrayBuffer;
  /** the sweep's start, as an absolute time in ms (performance.timeOrigin + performance.now()) */
  readonly startedAt: number;
  readonly thread: number;
}

export type WorkerReply =
  | { readonly kind: 'row'; readonly index: number; readonly row: RunSummary }
  | { readonly kind: 'failure'; readonly index: number; readonly message: string }
  | { readonly kind: 'done'; readonly report: ThreadReport };

const now = () => performance.timeOrigin + performance.now();

/** A run that failed for a reason other than its input (a bug): the sweep stops with it. */
export class RunFailure extends Error {
  constructor(readonly index: number, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/**
 * Claims runs until none is left, handing each row to `onRow`; returns this thread's report.
 * Runs in the main thread and in every worker alike.
 */
export async function drain(d: Omit<WorkerData, 'claims'> & { readonly claims: Int32Array }, onRow: (index: number, row: RunSummary) => void): Promise<ThreadReport> {
  const t0 = threadTime();
  const elu0 = performance.eventLoopUtilization();
  const first = now();
  let n = 0;
  for (;;) {
    const i = Atomics.add(d.claims, 0, 1);
    if (i >= d.runs.length) break;
    let row: RunSummary;
    try {
      row = await summarizeRun(d.runs[i]!, d.settings);
    } catch (e) {
      throw new RunFailure(i, e);
    }
    n++;
    onRow(i, row);
  }
  const time = threadTimeSince(t0);
  return {
    thread: d.thread === 0 ? 'main' : d.thread,
    runs: n,
    startS: (first - d.startedAt) / 1000,
    startCpuS: d.thread === 0 ? 0 : (t0?.cpuS ?? null),
    busyS: (now() - first) / 1000,
    cpuS: time?.cpuS ?? null,
    waitS: time?.waitS ?? null,
    utilization: performance.eventLoopUtilization(elu0).utilization,
  };
}

/**
 * The runs over `jobs` threads: this one and jobs - 1 workers. This thread starts on the runs at
 * once, while the workers start up (from the sources, while their code is being bundled), so no
 * run waits for a worker's start-up; and on 2 cores, 2 threads do the runs rather than 2 workers
 * and an idle main thread.
 */
async function inThreads(runs: readonly RunInput[], s: SweepSettings, jobs: number, o: SweepOptions): Promise<RunSummary[]> {
  const claims = new SharedArrayBuffer(4);
  const startedAt = now();
  const rows: (RunSummary | undefined)[] = new Array(runs.length);
  const reports: ThreadReport[] = [];
  let done = 0;
  let pool: Pool | null = null;
  const record = (i: number, row: RunSummary) => {
    rows[i] = row;
    done++;
    o.progress?.(done, runs.length);
    if (done === runs.length) pool?.allAnswered();
  };
  const counter = new Int32Array(claims);
  /** no thread takes another run: on the first failure */
  const stop = () => Atomics.store(counter, 0, runs.length);
  pool = jobs > 1 ? startWorkers(jobs - 1, { settings: s, runs, claims, startedAt }, record, stop) : null;
  try {
    reports.push(await drain({ settings: s, runs, claims: counter, startedAt, thread: 0 }, record));
  } catch (e) {
    stop();
    await pool?.abort();
    if (e instanceof RunFailure) throw new Error(`simulating ${runs[e.index]!.name}: ${e.message}`);
    throw e;
  }
  if (pool) reports.push(...(await pool.finished));
  o.onThreads?.(reports);
  return rows as RunSummary[];
}

interface Pool {
  /** the workers' reports, once every run is answered */
  readonly finished: Promise<ThreadReport[]>;
  /** every run is answered: workers that answered none (still starting) are not waited for */
  readonly allAnswered: () => void;
  /** stop every worker, reporting nothing (the main thread failed) */
  readonly abort: () => Promise<void>;
}

/**
 * Workers drain the same claims as the main thread. `finished` settles when every worker has
 * reported or, having answered no run when all runs are answered, been stopped; it rejects on a
 * worker's failure, after stopping the others.
 */
function startWorkers(n: number, d: Omit<WorkerData, 'thread'>, record: (i: number, row: RunSummary) => void, stopClaims: () => void): Pool {
  const workers: Worker[] = [];
  const reports: (ThreadReport | null)[] = new Array(n).fill(null);
  const answered = new Array<number>(n).fill(0);
  const over = new Array<boolean>(n).fill(false);
  let pending = n;
  let failed = false;
  let allIn = false;
  let settleAll: (r: ThreadReport[]) => void = () => {};
  let rejectAll: (e: Error) => void = () => {};
  const finished = new Promise<ThreadReport[]>((res, rej) => {
    settleAll = res;
    rejectAll = rej;
  });
  finished.catch(() => {}); // awaited once the main thread is done; until then a failure must not count as unhandled
  const stop = async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  };
  const fail = (e: Error) => {
    if (failed) return;
    failed = true;
    stopClaims();
    void stop().then(() => rejectAll(e));
  };
  const end = (k: number) => {
    if (over[k]) return;
    over[k] = true;
    if (--pending === 0 && !failed) settleAll(reports.filter((r): r is ThreadReport => r !== null));
  };
  const allAnswered = () => {
    allIn = true;
    for (const [k, w] of workers.entries()) {
      if (answered[k] !== 0 || over[k]) continue;
      end(k);
      void w.terminate();
    }
    if (workers.length === 0) for (let k = 0; k < n; k++) end(k); // never started
  };
  const name = (i: number) => d.runs[i]?.name ?? 'a run';
  sweepWorkerScript().then(
    (script) => {
      if (allIn || failed) return;
      for (let k = 0; k < n; k++) {
        const w = new Worker(script, { workerData: { ...d, thread: k + 1 } satisfies WorkerData });
        workers.push(w);
        w.on('message', (m: WorkerReply) => {
          if (failed) return;
          switch (m.kind) {
            case 'row':
              answered[k]!++;
              record(m.index, m.row);
              return;
            case 'failure':
              fail(new Error(`simulating ${name(m.index)}: ${m.message}`));
              return;
            case 'done':
              reports[k] = m.report;
              end(k);
              return;
          }
        });
        w.on('error', (e) => fail(e));
        w.on('exit', (code) => {
          if (!over[k]) fail(new Error(`a sweep worker stopped (exit code ${code}) before answering its runs`));
        });
      }
    },
    (e: unknown) => fail(e instanceof Error ? e : new Error(String(e))),
  );
  const abort = () => {
    failed = true;
    return stop();
  };
  return { finished, allAnswered, abort };
}
