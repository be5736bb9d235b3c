/**
 * The Orbax dialect's speed: save decisions per second for AnyPreservationPolicy([LatestN(3), BestN(3),
 * EveryNSteps(100)]) with a save every step over 10^6 steps (ORBAX_BENCH_STEPS sets another count),
 * the rate and the memory (heap after a GC, RSS) at 25/50/75/100% of the steps. EveryNSteps(100) keeps
 * one step in 100, so the list grows to 10^4: the per-quarter rates show whether a decision's cost
 * grows with it (goal: flat). Then, side by side over 2*10^4 steps, the manager before retention
 * became incremental (extracted from git history, as core.bench.ts does), which re-read the whole
 * list at every save.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as Current from '../src/dialects/orbax/manager.ts';
import type { Row } from './run.ts';

/** The manager before incremental retention, the baseline of the side-by-side figure. */
const BEFORE = '1b1a790';

const N = Number(process.env.ORBAX_BENCH_STEPS ?? 1_000_000);
const SIDE_BY_SIDE = 20_000;
const REPEATS = 3;
const options = {
  enable_async_checkpointing: false,
  best_fn: { metric: 'loss' },
  preservation_policy: { type: 'AnyPreservationPolicy', policies: [{ type: 'LatestN', n: 3 }, { type: 'BestN', metric: 'loss', reverse: true, n: 3 }, { type: 'EveryNSteps', interval_steps: 100 }] },
};
const loss = (i: number) => Math.fround(0.5 + 0.4 * Math.sin(i * 12.9898) * Math.cos(i * 78.233));

type Manager = Pick<typeof Current, 'start' | 'reduce'>;

function gcHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

const mib = (b: number) => b / 2 ** 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Saves at steps 0..n-1; `quarter` sees the state and the seconds taken after every quarter of them. */
function drive(m: Manager, n: number, quarter?: (q: number, s: Current.ManagerState, seconds: number) => void): number {
  const [s0] = m.start({ options, clock: { save_seconds: 0 }, t: 0, entries: [] });
  let s = s0!;
  const q = Math.max(1, Math.floor(n / 4));
  const t00 = performance.now();
  let t0 = t00;
  for (let i = 0; i < n; i++) {
    s = m.reduce(s, { call: 'save', step: i, t: i, metrics: { loss: loss(i) } })[0];
    if (quarter !== undefined && (i + 1) % q === 0) {
      const now = performance.now();
      quarter(Math.round(((i + 1) / n) * 100), s, (now - t0) / 1000);
      t0 = performance.now();
    }
  }
  return n / ((performance.now() - t00) / 1000);
}

async function loadBefore(): Promise<{ m: Manager; dispose: () => void } | null> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-orbax-before-'));
  try {
    const tar = execFileSync('git', ['archive', BEFORE, 'src'], { cwd: root, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const m = (await import(pathToFileURL(join(dir, 'src/dialects/orbax/manager.ts')).href)) as Manager;
    return { m, dispose: () => rmSync(dir, { recursive: true, force: true }) };
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

export async function run(report: (row: Row) => void): Promise<void> {
  const base = gcHeap();
  const rss0 = process.memoryUsage().rss;
  const q = Math.max(1, Math.floor(N / 4));
  const total = drive(Current, N, (pct, s, seconds) => {
    const rate = q / seconds;
    const heap = mib(gcHeap() - base);
    const rss = mib(process.memoryUsage().rss);
    report({ name: `steps ${pct - 25}-${pct}%: decisions/s (kept ${s.checkpoints.length.toLocaleString('en-US')})`, value: rate, unit: '/s' });
    report({ name: `  memory at ${pct}%: heap held / RSS`, value: heap, unit: 'MiB', note: `RSS ${rss.toFixed(0)} MiB (${mib(process.memoryUsage().rss - rss0).toFixed(0)} MiB over the start)` });
  });
  report({ name: `decisions/s over ${N.toLocaleString('en-US')} steps`, value: total, unit: '/s', note: 'goal: last quarter within ~1.5x of the first (cost independent of the steps seen)' });

  const before = await loadBefore();
  if (before === null) {
    report({ name: `  before incremental retention (${BEFORE})`, value: NaN, unit: '/s', note: 'not measurable: no git history here' });
    return;
  }
  try {
    const now: number[] = [];
    const then: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      now.push(drive(Current, SIDE_BY_SIDE));
      then.push(drive(before.m, SIDE_BY_SIDE));
    }
    report({ name: `${SIDE_BY_SIDE.toLocaleString('en-US')} steps, median of ${REPEATS}: decisions/s now`, value: median(now), unit: '/s' });
    report({ name: `  the same before incremental retention (${BEFORE})`, value: median(then), unit: '/s' });
    report({ name: '  ratio now / before', value: median(now) / median(then), unit: 'x', note: 'grows with the steps: before re-read the whole list per save' });
  } finally {
    before.dispose();
  }
}
