/**
 * Simulation throughput and memory: rows per second reading a generated 10^6-row Lightning CSV and
 * a 10^6-scalar TensorBoard event file while simulating a top-k policy, against merely parsing the
 * same file (the ratio's goal is >= 0.5), and peak memory at 10^6 and 10^7 rows (it should stay
 * flat: the readers stream and the simulator keeps bounded state).
 *
 * Then a sweep (issue 14): 1,000 runs x 10,000 rows in a lightning_logs/ folder, simulated in one
 * thread and in one worker thread per core (wall times, speed-up, and that the totals are the
 * same), and `recommend` over a 100-policy grid on it (wall time, and that its figures equal
 * simulating each sampled policy on its own, as `ckpt compare` would). BENCH_SWEEP_RUNS,
 * BENCH_SWEEP_ROWS scale the sweep down; BENCH_ONLY=sweep skips the single-log figures.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/core/config.ts';
import { readCsvLog } from '../src/sources/csv.ts';
import { runFactsFrom } from '../src/sources/loopFacts.ts';
import { frameRecord } from '../src/sources/tfrecord.ts';
import { fileVersionEvent, readTfeventsLog, scalarEvent } from '../src/sources/tfevents.ts';
import { simulate } from '../src/simulate/run.ts';
import { availableParallelism } from 'node:os';
import { mkdirSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_RUN } from '../src/sources/loopFacts.ts';
import { runsOf } from '../src/simulate/runs.ts';
import { simulateRuns } from '../src/simulate/sweep.ts';
import { expandGrid, recommend } from '../src/simulate/recommend.ts';
import type { FitLog } from '../src/sources/open.ts';

type Report = (row: { name: string; value: number; unit: string; note?: string }) => void;

const BATCHES = 1000;

/** A noisy decaying loss, deterministic. */
function loss(i: number): number {
  const noise = Math.sin(i * 12.9898) * 43758.5453;
  return 2 * Math.exp(-i / 3e5) + 0.1 * (noise - Math.floor(noise));
}

/** A Lightning-shaped metrics.csv: a train row every step, a validation row at every epoch end. */
function writeCsv(path: string, rows: number): void {
  const fd = openSync(path, 'w');
  let buf = 'epoch,step,train_loss,val_loss\r\n';
  let written = 0;
  for (let s = 0; written < rows; s++) {
    const epoch = Math.floor(s / BATCHES);
    buf += `${epoch},${s},${Math.fround(loss(s))},\r\n`;
    written++;
    if ((s + 1) % BATCHES === 0 && written < rows) {
      buf += `${epoch},${s},,${Math.fround(loss(s) * 0.9 + 0.05)}\r\n`;
      written++;
    }
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
}

/** An event file of `scalars` scalars as Lightning's TensorBoardLogger writes them (each call ends with `epoch`). */
function writeEvents(path: string, scalars: number): void {
  const fd = openSync(path, 'w');
  const parts: Uint8Array[] = [frameRecord(fileVersionEvent())];
  let size = parts[0]!.length;
  const flush = () => {
    writeSync(fd, Buffer.concat(parts, size));
    parts.length = 0;
    size = 0;
  };
  const add = (tag: string, v: number, step: number) => {
    const rec = frameRecord(scalarEvent(tag, v, step));
    parts.push(rec);
    size += rec.length;
    if (size > 1 << 20) flush();
  };
  let n = 0;
  for (let s = 0; n < scalars; s++) {
    const epoch = Math.floor(s / BATCHES);
    add('train_loss', loss(s), s);
    add('epoch', epoch, s);
    n += 2;
    if ((s + 1) % BATCHES === 0) {
      add('val_loss', loss(s) * 0.9 + 0.05, s);
      add('epoch', epoch, s);
      n += 2;
    }
  }
  flush();
  closeSync(fd);
}

async function parseOnly(log: FitLog): Promise<number> {
  let n = 0;
  const it = log.kind === 'csv' ? readCsvLog(log.path) : readTfeventsLog(log.path);
  for await (const batch of it) n += batch.length;
  return n;
}

const POLICY = parseConfig({ monitor: 'val_loss', save_top_k: 3, save_last: true, dirpath: 'ckpts' });
const FACTS = (() => {
  const r = runFactsFrom({ num_training_batches: BATCHES, log_every_n_steps: 1 }, null);
  if (r._tag === 'Left') throw new Error('bench facts');
  return r.right;
})();

async function simulateOnce(log: FitLog, dir: string) {
  return simulate({ policies: [{ name: 'top3', config: POLICY }], logs: [log], run: FACTS, cwd: dir });
}

/**
 * Peak RSS while `fn` runs, and its peak live heap: heap in use right after a full collection,
 * sampled every 200 ms (needs --expose-gc; without it, heap in use including garbage).
 */
async function peakMemory<T>(fn: () => Promise<T>): Promise<{ rss: number; heap: number; result: T }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  let rss = process.memoryUsage().rss;
  let heap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    gc?.();
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 200);
  try {
    const result = await fn();
    return { rss: Math.max(rss, process.memoryUsage().rss), heap, result };
  } finally {
    clearInterval(timer);
  }
}

/** Best of two alternating runs each, so both sides are measured with a warm JIT. */
async function throughput(report: Report, label: string, log: FitLog, dir: string) {
  let parseS = Infinity;
  let simS = Infinity;
  let rows = 0;
  let r: Awaited<ReturnType<typeof simulateOnce>> | null = null;
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    rows = await parseOnly(log);
    parseS = Math.min(parseS, (performance.now() - t0) / 1000);
    const t1 = performance.now();
    r = await simulateOnce(log, dir);
    simS = Math.min(simS, (performance.now() - t1) / 1000);
  }
  const parseRate = rows / parseS;
  const simRate = rows / simS;
  report({ name: `${label}: parse only`, value: Math.round(parseRate), unit: 'rows/s', note: `${rows} records, ${(statSync(log.path).size / 1e6).toFixed(1)} MB` });
  report({ name: `${label}: simulate top-3`, value: Math.round(simRate), unit: 'rows/s', note: `${r!.policies[0]!.checkpointsWritten} checkpoints written` });
  report({ name: `${label}: simulate / parse`, value: Number((simRate / parseRate).toFixed(3)), unit: 'ratio', note: 'goal >= 0.5' });
}

/** A lightning_logs/ of `runs` version folders, each a `rows`-row metrics.csv (the same shape, shifted so runs differ). */
function writeSweep(root: string, runs: number, rows: number): void {
  for (let i = 0; i < runs; i++) {
    const d = join(root, 'lightning_logs', `version_${i}`);
    mkdirSync(d, { recursive: true });
    writeCsvShifted(join(d, 'metrics.csv'), rows, i * 7919);
  }
}

function writeCsvShifted(path: string, rows: number, shift: number): void {
  const fd = openSync(path, 'w');
  let buf = 'epoch,step,train_loss,val_loss\n';
  let written = 0;
  for (let s = 0; written < rows; s++) {
    const epoch = Math.floor(s / BATCHES);
    buf += `${epoch},${s},${Math.fround(loss(s + shift))},\n`;
    written++;
    if ((s + 1) % BATCHES === 0 && written < rows) {
      buf += `${epoch},${s},,${Math.fround(loss(s * 3 + shift) * 0.9 + 0.05)}\n`;
      written++;
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
}

async function sweep(report: Report, dir: string): Promise<void> {
  const runs = Number(process.env.BENCH_SWEEP_RUNS ?? 1000);
  const rows = Number(process.env.BENCH_SWEEP_ROWS ?? 10000);
  const root = join(dir, 'sweep');
  writeSweep(root, runs, rows);
  const { runs: inputs } = runsOf(join(root, 'lightning_logs'));
  const settings = { policies: [{ name: 'top3', config: parseConfig({ monitor: 'val_loss', save_top_k: 3, save_last: true }) }], run: DEFAULT_RUN, cwd: root, roles: {}, metric: { name: 'val_loss', mode: 'min' as const }, ckptSize: 1e9, skipBad: false };
  const cores = availableParallelism();
  const time = async <T>(fn: () => Promise<T>) => {
    const t = performance.now();
    const r = await fn();
    return { s: (performance.now() - t) / 1000, r };
  };
  // alternate, best of two each: the machine is shared
  let one = Infinity;
  let all = Infinity;
  let same = true;
  for (let i = 0; i < 2; i++) {
    const a = await time(() => simulateRuns(inputs, settings, { jobs: 1 }));
    const b = await time(() => simulateRuns(inputs, settings, { jobs: cores }));
    one = Math.min(one, a.s);
    all = Math.min(all, b.s);
    same &&= isDeepStrictEqual(a.r, b.r);
  }
  const label = `sweep ${runs} runs x ${rows} rows`;
  report({ name: `${label}: 1 thread`, value: Number(one.toFixed(2)), unit: 's', note: `${Math.round((runs * rows) / one)} rows/s` });
  report({ name: `${label}: ${cores} threads`, value: Number(all.toFixed(2)), unit: 's', note: `${Math.round((runs * rows) / all)} rows/s` });
  report({ name: `${label}: speed-up`, value: Number((one / all).toFixed(2)), unit: 'x', note: `goal >= 1.8 on 2 cores` });
  report({ name: `${label}: same rows and totals either way`, value: same ? 1 : 0, unit: 'bool' });

  const grid = { save_top_k: [1, 2, 3, 5, -1], every_n_epochs: [null, 2, 5, 10, 20], save_last: [null, true], keep_latest: [null, 1] };
  const { policies } = expandGrid({ monitor: 'val_loss' }, grid);
  const rec = await time(() => recommend(inputs, { ...settings, ckptSize: 1e9 }, policies, { kind: 'none' }, { jobs: cores }));
  report({ name: `recommend: ${policies.length}-policy grid on the sweep`, value: Number(rec.s.toFixed(2)), unit: 's', note: `${rec.r.frontier.length} on the frontier; ${cores} threads` });
  // every figure equals the policy simulated on its own (what `ckpt compare` with it prints)
  const sample = Number(process.env.BENCH_RECOMMEND_CHECK ?? 5);
  let equal = 0;
  const picks = Array.from({ length: Math.min(sample, policies.length) }, (_, i) => Math.floor((i * policies.length) / Math.min(sample, policies.length)));
  for (const i of picks) {
    const alone = await simulateRuns(inputs, { ...settings, policies: [policies[i]!] }, { jobs: cores });
    if (isDeepStrictEqual(alone.totals[0], rec.r.candidates[i]!.totals)) equal++;
  }
  report({ name: `recommend: figures equal each policy alone`, value: equal, unit: `of ${picks.length}`, note: 'sampled across the grid (BENCH_RECOMMEND_CHECK=100 checks all)' });
  rmSync(root, { recursive: true, force: true });
}

export async function run(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-sim-bench-'));
  try {
    await sweep(report, dir);
    if (process.env.BENCH_ONLY === 'sweep') return;
    const csv1 = join(dir, 'metrics-1e6.csv');
    writeCsv(csv1, 1e6);
    const csvLog: FitLog = { kind: 'csv', path: csv1, dir };
    await throughput(report, 'csv 1e6 rows', csvLog, dir);

    const ev1 = join(dir, 'events.out.tfevents.1.host.1.0');
    writeEvents(ev1, 1e6);
    await throughput(report, 'tfevents 1e6 scalars', { kind: 'tfevents', path: ev1, dir }, dir);

    // memory as the file grows tenfold
    const m1 = await peakMemory(() => simulateOnce(csvLog, dir));
    const csv10 = join(dir, 'metrics-1e7.csv');
    writeCsv(csv10, 1e7);
    const m10 = await peakMemory(() => simulateOnce({ kind: 'csv', path: csv10, dir }, dir));
    rmSync(csv10);
    const mb = (x: number) => Number((x / 2 ** 20).toFixed(1));
    report({ name: 'csv 1e6 rows: peak RSS', value: mb(m1.rss), unit: 'MiB' });
    report({ name: 'csv 1e7 rows: peak RSS', value: mb(m10.rss), unit: 'MiB' });
    report({ name: 'csv 1e6 rows: peak live heap', value: mb(m1.heap), unit: 'MiB', note: 'heap in use after a full GC, sampled every 200 ms' });
    report({ name: 'csv 1e7 rows: peak live heap', value: mb(m10.heap), unit: 'MiB' });
    report({ name: 'peak live heap 1e7 / 1e6', value: Number((m10.heap / m1.heap).toFixed(2)), unit: 'ratio', note: 'flat memory is about 1' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
