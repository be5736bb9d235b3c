/**
 * Sweeps and recommend at scale (issue 14), figures side by side in one run:
 *
 * - a sweep of 1,000 runs x 10,000 rows (a lightning_logs/ of version folders, top-3 policy) in
 *   one thread and in one thread per core, from the TypeScript sources and from the built package
 *   (goal >= 1.8x on 2 cores), alternating, medians of BENCH_SWEEP_ROUNDS (default 5: single sweeps of this size varied by a third on the shared machine) each; the
 *   same rows and totals every way;
 * - because this machine is shared, beside wall time: the load average while measuring, the
 *   process's CPU time, and each thread's share (runs, CPU seconds, seconds spent waiting for a core,
 *   start-up, event-loop utilisation), so the speed-up can be judged from how the work was spread
 *   as well: "CPU-judged speed-up" is one thread's CPU seconds over the busiest thread's (start-up
 *   included), the wall time the sweep would take on idle cores, with no other process waiting;
 * - `recommend` over a 100-policy grid on the same sweep: wall time and CPU, and that each sampled
 *   policy's figures equal what `ckpt compare` (the built CLI) prints for it on the same folder
 *   (BENCH_RECOMMEND_CHECK=100 checks all).
 *
 * BENCH_SWEEP_RUNS, BENCH_SWEEP_ROWS scale the sweep down.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildOnce } from './build.ts';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { parseConfig } from '../src/core/config.ts';
import { DEFAULT_RUN } from '../src/sources/loopFacts.ts';
import { runsOf, type RunInput } from '../src/simulate/runs.ts';
import { simulateRuns, type SweepOptions, type SweepResult, type SweepSettings, type ThreadReport } from '../src/simulate/sweep.ts';
import { expandGrid, policyText, recommend } from '../src/simulate/recommend.ts';

type Report = (row: { name: string; value: number; unit: string; note?: string }) => void;
type Sweep = (runs: readonly RunInput[], s: SweepSettings, o?: SweepOptions) => Promise<SweepResult>;

const root = fileURLToPath(new URL('..', import.meta.url));
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => loadavg()[0]!;
const BATCHES = 1000;

/** A noisy decaying loss, deterministic. */
function loss(i: number): number {
  const noise = Math.sin(i * 12.9898) * 43758.5453;
  return 2 * Math.exp(-i / 3e5) + 0.1 * (noise - Math.floor(noise));
}

/** A lightning_logs/ of `runs` version folders, each a `rows`-row metrics.csv (the same shape, shifted so runs differ). */
function writeSweep(dir: string, runs: number, rows: number): void {
  for (let i = 0; i < runs; i++) {
    const d = join(dir, 'lightning_logs', `version_${i}`);
    mkdirSync(d, { recursive: true });
    const fd = openSync(join(d, 'metrics.csv'), 'w');
    let buf = 'epoch,step,train_loss,val_loss\n';
    let written = 0;
    for (let s = 0; written < rows; s++) {
      const epoch = Math.floor(s / BATCHES);
      buf += `${epoch},${s},${Math.fround(loss(s + i * 7919))},\n`;
      written++;
      if ((s + 1) % BATCHES === 0 && written < rows) {
        buf += `${epoch},${s},,${Math.fround(loss(s * 3 + i * 7919) * 0.9 + 0.05)}\n`;
        written++;
      }
    }
    writeSync(fd, buf);
    closeSync(fd);
  }
}

interface Measured {
  readonly wallS: number;
  /** every thread of the process, the garbage collector's helpers included */
  readonly processCpuS: number;
  readonly threads: readonly ThreadReport[];
  readonly load: readonly [number, number];
  readonly result: SweepResult;
}

async function measure(sweep: Sweep, runs: readonly RunInput[], s: SweepSettings, jobs: number): Promise<Measured> {
  let threads: readonly ThreadReport[] = [];
  const l0 = load();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await sweep(runs, s, { jobs, onThreads: (t) => (threads = t) });
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wallS, processCpuS: (c.user + c.system) / 1e6, threads, load: [l0, load()], result };
}

/** The busiest thread's CPU seconds, its start-up included: the wall time on idle cores. */
const criticalCpu = (m: Measured) => (m.threads.length === 0 ? NaN : Math.max(...m.threads.map((t) => (t.startCpuS ?? 0) + (t.cpuS ?? NaN))));
const threadCpu = (m: Measured) => (m.threads.length === 0 ? NaN : m.threads.reduce((a, t) => a + (t.startCpuS ?? 0) + (t.cpuS ?? NaN), 0));
const f2 = (x: number) => Number(x.toFixed(2));

function threadLine(t: ThreadReport): string {
  const cpu = t.cpuS === null ? 'CPU unknown' : `${t.cpuS.toFixed(2)} s CPU, ${t.waitS!.toFixed(2)} s waiting for a core`;
  return `${t.thread === 'main' ? 'main' : `worker ${t.thread}`}: ${t.runs} runs, ${cpu}, start ${t.startS.toFixed(2)} s (${(t.startCpuS ?? 0).toFixed(2)} s CPU), busy ${t.busyS.toFixed(2)} s, loop ${(t.utilization * 100).toFixed(0)}%`;
}

/** One thread and all, alternating (the machine's load drifts), medians of `rounds` each. */
async function oneAgainstAll(report: Report, label: string, sweep: Sweep, runs: readonly RunInput[], s: SweepSettings, rounds: number, cores: number): Promise<SweepResult> {
  const one: Measured[] = [];
  const all: Measured[] = [];
  for (let i = 0; i < rounds; i++) {
    one.push(await measure(sweep, runs, s, 1));
    all.push(await measure(sweep, runs, s, cores));
  }
  const rows = runs.length * Number(process.env.BENCH_SWEEP_ROWS ?? 10000);
  const loads = [...one, ...all].flatMap((m) => m.load);
  const w1 = median(one.map((m) => m.wallS));
  const wn = median(all.map((m) => m.wallS));
  const mid = (xs: Measured[]) => xs.find((m) => m.wallS === median(xs.map((x) => x.wallS)))!;
  report({ name: `${label}: 1 thread, wall`, value: f2(w1), unit: 's', note: `median of ${rounds}; ${Math.round(rows / w1)} rows/s; ${one.map((m) => m.wallS.toFixed(1)).join(', ')}` });
  report({ name: `${label}: ${cores} threads, wall`, value: f2(wn), unit: 's', note: `median of ${rounds}; ${all.map((m) => m.wallS.toFixed(1)).join(', ')}` });
  report({ name: `${label}: speed-up, wall`, value: f2(w1 / wn), unit: 'x', note: `goal >= 1.8 on 2 cores; load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} while measuring (${cores} cores)` });
  const c1 = median(one.map(threadCpu));
  const cn = median(all.map(criticalCpu));
  report({ name: `${label}: speed-up, CPU-judged`, value: f2(c1 / cn), unit: 'x', note: `1 thread's CPU ${c1.toFixed(2)} s / busiest of ${cores} threads ${cn.toFixed(2)} s (medians): the wall-time speed-up on idle cores` });
  report({ name: `${label}: CPU of ${cores} threads / 1 thread`, value: f2(median(all.map(threadCpu)) / c1), unit: 'ratio', note: `the sweep threads' CPU added up; 1 is no overhead for going parallel` });
  report({ name: `${label}: process CPU ${cores} threads / 1 thread`, value: f2(median(all.map((m) => m.processCpuS)) / median(one.map((m) => m.processCpuS))), unit: 'ratio', note: `every thread (GC helpers too): ${median(one.map((m) => m.processCpuS)).toFixed(2)} s / ${median(all.map((m) => m.processCpuS)).toFixed(2)} s` });
  for (const t of mid(all).threads) report({ name: `${label}: ${cores} threads, ${t.thread === 'main' ? 'main' : `worker ${t.thread}`}`, value: t.runs, unit: 'runs', note: threadLine(t) });
  for (const t of mid(one).threads) report({ name: `${label}: 1 thread, main`, value: t.runs, unit: 'runs', note: threadLine(t) });
  const same = [...one, ...all].every((m) => isDeepStrictEqual(m.result, one[0]!.result));
  report({ name: `${label}: same rows and totals 1 thread and ${cores}`, value: same ? 1 : 0, unit: 'bool', note: `over all ${2 * rounds} sweeps` });
  return one[0]!.result;
}


export async function run(report: Report): Promise<void> {
  const nRuns = Number(process.env.BENCH_SWEEP_RUNS ?? 1000);
  const nRows = Number(process.env.BENCH_SWEEP_ROWS ?? 10000);
  const rounds = Number(process.env.BENCH_SWEEP_ROUNDS ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-sweep-bench-'));
  try {
    writeSweep(dir, nRuns, nRows);
    const logs = join(dir, 'lightning_logs');
    const { runs } = runsOf(logs);
    const cores = availableParallelism();
    const settings: SweepSettings = { policies: [{ name: 'top3', config: parseConfig({ monitor: 'val_loss', save_top_k: 3, save_last: true }) }], run: DEFAULT_RUN, cwd: dir, roles: {}, metric: { name: 'val_loss', mode: 'min' }, ckptSize: 1e9, skipBad: false };
    const label = `sweep ${nRuns} runs x ${nRows} rows`;
    const fromSources = await oneAgainstAll(report, `${label} (sources)`, simulateRuns, runs, settings, rounds, cores);
    buildOnce();
    const dist = (await import(new URL('../dist/src/simulate/sweep.js', import.meta.url).href)) as { simulateRuns: Sweep };
    const fromBuilt = await oneAgainstAll(report, `${label} (built)`, dist.simulateRuns, runs, settings, rounds, cores);
    report({ name: `${label}: same rows and totals, sources and built`, value: isDeepStrictEqual(fromSources, fromBuilt) ? 1 : 0, unit: 'bool' });

    // recommend: 5 x 5 x 2 x 2 = 100 policies, all fed from one read of each run
    const grid = { save_top_k: [1, 2, 3, 5, -1], every_n_epochs: [null, 2, 5, 10, 20], save_last: [null, true], keep_latest: [null, 1] };
    const { policies } = expandGrid({ monitor: 'val_loss', mode: 'min' }, grid);
    const { ckptSize: _size, policies: _p, ...rest } = settings;
    let threads: readonly ThreadReport[] = [];
    const l0 = load();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const rec = await recommend(runs, { ...rest, ckptSize: 1e9 }, policies, { kind: 'none' }, { jobs: cores, onThreads: (t) => (threads = t) });
    const recS = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    report({ name: `recommend: ${policies.length}-policy grid on the sweep, wall`, value: f2(recS), unit: 's', note: `${cores} threads; ${rec.frontier.length} on the frontier; load average ${l0.toFixed(1)}-${load().toFixed(1)}` });
    report({ name: `recommend: process CPU`, value: f2((c.user + c.system) / 1e6), unit: 's', note: `${Math.round((nRuns * nRows * policies.length) / ((c.user + c.system) / 1e6))} row-policies per CPU second` });
    for (const t of threads) report({ name: `recommend: ${t.thread === 'main' ? 'main' : `worker ${t.thread}`}`, value: t.runs, unit: 'runs', note: threadLine(t) });
    const oneSim = await measure(simulateRuns, runs, { ...settings, policies: [policies[0]!] }, cores);
    report({ name: `recommend / a sweep of one policy, wall`, value: f2(recS / oneSim.wallS), unit: 'ratio', note: `${policies.length} policies; the sweep of one took ${oneSim.wallS.toFixed(2)} s` });

    // every figure equals `ckpt compare` (the built CLI) with those policies on the same folder
    const sample = Math.min(policies.length, Number(process.env.BENCH_RECOMMEND_CHECK ?? 5));
    const picks = Array.from({ length: sample }, (_, i) => Math.floor((i * policies.length) / sample));
    const texts = picks.map((i) => policyText(policies[i]!.config).yaml);
    const args = texts.length >= 2 ? texts : [texts[0]!, texts[0]!];
    const out = execFileSync(process.execPath, [join(root, 'bin/ckpt.js'), 'compare', ...args, '--metric', 'val_loss', '--ckpt-size', '1e9', '--format', 'json', '--no-progress', logs], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
    const cmp = (JSON.parse(out) as { totals: Record<string, unknown>[] }).totals;
    const strip = (t: object) => ({ ...JSON.parse(JSON.stringify(t)), name: null });
    const equal = picks.filter((p, k) => isDeepStrictEqual(strip(cmp[k]!), strip(rec.candidates[p]!.totals))).length;
    report({ name: `recommend: figures equal ckpt compare per policy`, value: equal, unit: `of ${picks.length}`, note: `totals of each sampled policy (BENCH_RECOMMEND_CHECK=${policies.length} checks all)` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
