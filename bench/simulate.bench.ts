/**
 * Simulation speed and memory (issue 14), figures side by side in one run:
 *
 * - the `ckpt` command as shipped (built JavaScript, start-up included) on a 300,000-row Lightning
 *   metrics.csv with a top-3 policy, table and JSON output, against Lightning's own ModelCheckpoint
 *   deciding on the same rows (5.75 s on this machine; goal: 10x faster, 20x the stretch goal);
 * - steady-state rows per second reading a 10^6-row CSV and a 10^6-scalar TensorBoard event file
 *   while simulating, against merely parsing the same file: from the sources in this process, and
 *   the built package in a process of its own (bench/steady-built.mjs; goal >= 10^6 rows/s);
 * - peak RSS of that command at 10^5, 10^6 and 10^7 rows, each in a fresh process (goal <= 100
 *   MiB and flat), and the peak live heap of the simulation in this process;
 *
 * Sweeps of many runs and `recommend` are in sweep.bench.ts.
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
import type { FitLog } from '../src/sources/open.ts';
import { spawnSync } from 'node:child_process';
import { buildOnce } from './build.ts';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Lightning 2.6's ModelCheckpoint deciding on the 300,000 rows of the CLI figure, measured on this machine (issue 14) */
const LIGHTNING_300K_S = 5.75;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const POLICY_TEXT = '{monitor: val_loss, save_top_k: 3, save_last: true}';


/**
 * The built `ckpt` on a log: wall seconds, and from /usr/bin/time (when there is one) peak RSS in
 * MiB and CPU seconds (user + system: on a machine shared with others, less noisy than wall time).
 */
function ckpt(args: readonly string[]): { s: number; cpu: number | null; rssMiB: number | null } {
  const time = existsSync('/usr/bin/time');
  const cmd = [process.execPath, join(root, 'bin/ckpt.js'), ...args, '--no-progress'];
  const t0 = performance.now();
  const r = time ? spawnSync('/usr/bin/time', ['-f', '%M %U %S', ...cmd], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] }) : spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`ckpt ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const [kb, user, sys] = time ? r.stderr.trim().split('\n').pop()!.split(' ').map(Number) : [];
  return { s, cpu: user !== undefined && sys !== undefined ? user + sys : null, rssMiB: kb !== undefined && Number.isFinite(kb) ? kb / 1024 : null };
}

/** The command as shipped, end to end, on 300,000 rows; and its peak memory as the log grows a hundredfold. */
async function command(report: Report, dir: string): Promise<void> {
  buildOnce();
  const csv = join(dir, 'metrics-3e5.csv');
  writeCsv(csv, 3e5);
  const args = { table: ['simulate', '--policy', POLICY_TEXT, csv], json: ['simulate', '--policy', POLICY_TEXT, csv, '--format', 'json'] };
  const times: Record<keyof typeof args, number[]> = { table: [], json: [] };
  const cpus: Record<keyof typeof args, number[]> = { table: [], json: [] };
  ckpt(args.json); // warm the file cache
  for (let i = 0; i < 5; i++) {
    for (const k of ['table', 'json'] as const) {
      const r = ckpt(args[k]);
      times[k].push(r.s);
      if (r.cpu !== null) cpus[k].push(r.cpu);
    }
  }
  const goal = `goal >= 10x, <= ${(LIGHTNING_300K_S / 10).toFixed(3)} s; 20x: ${(LIGHTNING_300K_S / 20).toFixed(3)} s`;
  for (const k of ['table', 'json'] as const) {
    const m = median(times[k]);
    report({ name: `ckpt simulate 3e5-row CSV, top-3 (${k} output): wall`, value: Number(m.toFixed(3)), unit: 's', note: `median of 5, start-up included; ${(LIGHTNING_300K_S / m).toFixed(1)}x Lightning's ${LIGHTNING_300K_S} s (${goal})` });
    if (cpus[k].length === 0) continue;
    const c = median(cpus[k]);
    report({ name: `ckpt simulate 3e5-row CSV, top-3 (${k} output): CPU`, value: Number(c.toFixed(3)), unit: 's', note: `user + system, median of 5; ${(LIGHTNING_300K_S / c).toFixed(1)}x Lightning's` });
  }
  const peaks: number[] = [];
  for (const rows of [1e5, 1e6, 1e7]) {
    const f = join(dir, `metrics-rss-${rows}.csv`);
    writeCsv(f, rows);
    const r = ckpt(['simulate', '--policy', POLICY_TEXT, f, '--format', 'json']);
    rmSync(f);
    if (r.rssMiB === null) return;
    peaks.push(r.rssMiB);
    report({ name: `ckpt simulate ${rows.toExponential().replace('+', '')}-row CSV: peak RSS`, value: Number(r.rssMiB.toFixed(1)), unit: 'MiB', note: `a fresh process, JSON output; ${r.s.toFixed(2)} s (goal <= 100 MiB)` });
  }
  report({ name: 'ckpt simulate peak RSS 1e7 / 1e5 rows', value: Number((peaks[2]! / peaks[0]!).toFixed(2)), unit: 'ratio', note: 'flat memory is about 1' });
}

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

/** the policy and loop facts of the steady-state figures (also handed to bench/steady-built.mjs) */
const POLICY_OPTIONS = { monitor: 'val_loss', save_top_k: 3, save_last: true, dirpath: 'ckpts' };
const FACT_OPTIONS = { num_training_batches: BATCHES, log_every_n_steps: 1 };
const POLICY = parseConfig(POLICY_OPTIONS);
const FACTS = (() => {
  const r = runFactsFrom(FACT_OPTIONS, null);
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
  /** CPU seconds of the faster simulate run (this process has no other thread busy then) */
  let simCpu = Infinity;
  let rows = 0;
  let r: Awaited<ReturnType<typeof simulateOnce>> | null = null;
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    rows = await parseOnly(log);
    parseS = Math.min(parseS, (performance.now() - t0) / 1000);
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    r = await simulateOnce(log, dir);
    const c = process.cpuUsage(c1);
    simS = Math.min(simS, (performance.now() - t1) / 1000);
    simCpu = Math.min(simCpu, (c.user + c.system) / 1e6);
  }
  const parseRate = rows / parseS;
  const simRate = rows / simS;
  report({ name: `${label}: parse only`, value: Math.round(parseRate), unit: 'rows/s', note: `${rows} records, ${(statSync(log.path).size / 1e6).toFixed(1)} MB` });
  report({ name: `${label}: simulate top-3`, value: Math.round(simRate), unit: 'rows/s', note: `${r!.policies[0]!.checkpointsWritten} checkpoints written; from the sources, in this process` });
  report({ name: `${label}: simulate top-3 per CPU second`, value: Math.round(rows / simCpu), unit: 'rows/s', note: 'user + system time: less noisy than wall time on a shared machine' });
  report({ name: `${label}: simulate / parse`, value: Number((simRate / parseRate).toFixed(3)), unit: 'ratio', note: 'goal >= 0.5' });
  // the package as shipped, in a process of its own without tsx (what `ckpt` runs): the figures
  // above are the sources beside tsx in a process that has done other work, and they varied
  // from run to run by up to 2.4x for event files
  buildOnce();
  const out = spawnSync(process.execPath, [join(root, 'bench/steady-built.mjs'), JSON.stringify({ kind: log.kind, path: log.path, dir, policy: POLICY_OPTIONS, facts: FACT_OPTIONS })], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`steady-built.mjs exited ${out.status}: ${out.stderr}`);
  const b = JSON.parse(out.stdout.trim().split('\n').pop()!) as { rows: number; parseS: number; simS: number };
  report({ name: `${label}: simulate top-3, built, own process`, value: Math.round(b.rows / b.simS), unit: 'rows/s', note: `best of 3 with plain node; parse only ${Math.round(b.rows / b.parseS).toLocaleString('en-US')} rows/s; goal >= 1e6 rows/s` });
}

export async function run(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-sim-bench-'));
  try {
    await command(report, dir);
    const csv1 = join(dir, 'metrics-1e6.csv');
    writeCsv(csv1, 1e6);
    const csvLog: FitLog = { kind: 'csv', path: csv1, dir };
    await throughput(report, 'csv 1e6 rows', csvLog, dir);

    const ev1 = join(dir, 'events.out.tfevents.1.host.1.0');
    writeEvents(ev1, 1e6);
    await throughput(report, 'tfevents 1e6 scalars', { kind: 'tfevents', path: ev1, dir }, dir);

    // this process's memory as the file grows tenfold
    const m1 = await peakMemory(() => simulateOnce(csvLog, dir));
    const csv10 = join(dir, 'metrics-1e7.csv');
    writeCsv(csv10, 1e7);
    const m10 = await peakMemory(() => simulateOnce({ kind: 'csv', path: csv10, dir }, dir));
    rmSync(csv10);
    const mb = (x: number) => Number((x / 2 ** 20).toFixed(1));
    report({ name: 'csv 1e6 rows: peak RSS of this process', value: mb(m1.rss), unit: 'MiB', note: 'after the figures above; tsx loaded' });
    report({ name: 'csv 1e7 rows: peak RSS of this process', value: mb(m10.rss), unit: 'MiB' });
    report({ name: 'csv 1e6 rows: peak live heap', value: mb(m1.heap), unit: 'MiB', note: 'heap in use after a full GC, sampled every 200 ms' });
    report({ name: 'csv 1e7 rows: peak live heap', value: mb(m10.heap), unit: 'MiB' });
    report({ name: 'peak live heap 1e7 / 1e6', value: Number((m10.heap / m1.heap).toFixed(2)), unit: 'ratio', note: 'flat memory is about 1' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
