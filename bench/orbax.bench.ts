/**
 * The Orbax dialect's speed: save decisions per second for AnyPreservationPolicy([LatestN(3), BestN(3),
 * EveryNSteps(100)]) with a save every step over 10^6 steps (ORBAX_BENCH_STEPS sets another count),
 * the rate and the memory (heap after a GC, RSS) at 25/50/75/100% of the steps. EveryNSteps(100) keeps
 * one step in 100, so the list grows to 10^4: the per-quarter rates show whether a decision's cost
 * grows with it (goal: flat). Rates are given in wall time and in this process's CPU time (the
 * machine is shared: CPU time is what the manager costs, wall time what a loaded machine gave it),
 * and for the manager alone: the same loop with a reducer that does nothing is timed and subtracted.
 * Then, side by side, earlier managers extracted from git history (as core.bench.ts does): the one
 * that copied its lists at every save, and the one before retention became incremental.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as Current from '../src/dialects/orbax/manager.ts';
import type { Row } from './run.ts';

/** Earlier managers, each measured side by side with this one over `steps` steps. */
const BEFORE = [
  { commit: '0f79451', label: 'before persistent lists (copied per save)', steps: 100_000 },
  { commit: '1b1a790', label: 'before incremental retention (whole list re-read)', steps: 20_000 },
] as const;

const N = Number(process.env.ORBAX_BENCH_STEPS ?? 1_000_000);
const REPEATS = 3;
const options = {
  enable_async_checkpointing: false,
  best_fn: { metric: 'loss' },
  preservation_policy: { type: 'AnyPreservationPolicy', policies: [{ type: 'LatestN', n: 3 }, { type: 'BestN', metric: 'loss', reverse: true, n: 3 }, { type: 'EveryNSteps', interval_steps: 100 }] },
};
const loss = (i: number) => Math.fround(0.5 + 0.4 * Math.sin(i * 12.9898) * Math.cos(i * 78.233));

type Manager = Pick<typeof Current, 'start' | 'reduce'>;

/** The harness alone: the same calls built and handed to a reducer that keeps the call (so it is built) and returns its state. */
let lastCall: unknown;
const NOOP: Manager = {
  start: Current.start,
  reduce: (s, c) => {
    lastCall = c;
    return [s, lastCall as Current.CallOutput];
  },
};

function gcHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

const mib = (b: number) => b / 2 ** 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Timing {
  readonly wall: number;
  readonly cpu: number;
}

/** Saves at steps 0..n-1; `quarter` sees the state and the time taken after every quarter of them. */
function drive(m: Manager, n: number, quarter?: (q: number, s: Current.ManagerState, t: Timing) => void): Timing {
  const [s0] = m.start({ options, clock: { save_seconds: 0 }, t: 0, entries: [] });
  let s = s0!;
  const q = Math.max(1, Math.floor(n / 4));
  let used: Timing = { wall: 0, cpu: 0 };
  let w0 = performance.now();
  let c0 = cpuSeconds();
  for (let i = 0; i < n; i++) {
    s = m.reduce(s, { call: 'save', step: i, t: i, metrics: { loss: loss(i) } })[0];
    if ((i + 1) % q === 0) {
      const t = { wall: (performance.now() - w0) / 1000, cpu: cpuSeconds() - c0 };
      used = { wall: used.wall + t.wall, cpu: used.cpu + t.cpu };
      // the report's GC and printing are outside the timed spans
      quarter?.(Math.round(((i + 1) / n) * 100), s, t);
      w0 = performance.now();
      c0 = cpuSeconds();
    }
  }
  return { wall: used.wall + (performance.now() - w0) / 1000, cpu: used.cpu + cpuSeconds() - c0 };
}

async function loadBefore(commit: string): Promise<{ m: Manager; dispose: () => void } | null> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-orbax-before-'));
  try {
    const tar = execFileSync('git', ['archive', commit, 'src'], { cwd: root, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
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
  const total = drive(Current, N, (pct, s, t) => {
    const heap = mib(gcHeap() - base);
    const rss = mib(process.memoryUsage().rss);
    report({ name: `steps ${pct - 25}-${pct}%: decisions/s (kept ${s.checkpoints.length.toLocaleString('en-US')})`, value: q / t.wall, unit: '/s', note: `${Math.round(q / t.cpu).toLocaleString('en-US')}/s in CPU time` });
    report({ name: `  memory at ${pct}%: heap held / RSS`, value: heap, unit: 'MiB', note: `RSS ${rss.toFixed(0)} MiB (${mib(process.memoryUsage().rss - rss0).toFixed(0)} MiB over the start)` });
  });
  report({ name: `decisions/s over ${N.toLocaleString('en-US')} steps`, value: N / total.wall, unit: '/s', note: `${Math.round(N / total.cpu).toLocaleString('en-US')}/s in CPU time; goal: flat quarters, >= 50,000/s` });
  const harness = drive(NOOP, N);
  report({ name: '  the harness alone (a reducer doing nothing)', value: N / harness.wall, unit: '/s', note: `${Math.round(N / harness.cpu).toLocaleString('en-US')}/s in CPU time` });
  report({ name: '  the manager alone (harness time subtracted)', value: N / (total.wall - harness.wall), unit: '/s', note: `${Math.round(N / (total.cpu - harness.cpu)).toLocaleString('en-US')}/s in CPU time` });

  for (const { commit, label, steps: most } of BEFORE) {
    const b = { commit, label, steps: Math.min(most, N) };
    const before = await loadBefore(b.commit);
    if (before === null) {
      report({ name: `  ${b.label} (${b.commit})`, value: NaN, unit: '/s', note: 'not measurable: no git history here' });
      continue;
    }
    try {
      const now: number[] = [];
      const then: number[] = [];
      const nowCpu: number[] = [];
      const thenCpu: number[] = [];
      for (let r = 0; r < REPEATS; r++) {
        const a = drive(Current, b.steps);
        const z = drive(before.m, b.steps);
        now.push(b.steps / a.wall);
        nowCpu.push(b.steps / a.cpu);
        then.push(b.steps / z.wall);
        thenCpu.push(b.steps / z.cpu);
      }
      report({ name: `${b.steps.toLocaleString('en-US')} steps, median of ${REPEATS}: decisions/s now`, value: median(now), unit: '/s', note: `${Math.round(median(nowCpu)).toLocaleString('en-US')}/s in CPU time` });
      report({ name: `  ${b.label} (${b.commit})`, value: median(then), unit: '/s', note: `${Math.round(median(thenCpu)).toLocaleString('en-US')}/s in CPU time` });
      report({ name: '  ratio now / then', value: median(now) / median(then), unit: 'x', note: `${(median(nowCpu) / median(thenCpu)).toFixed(2)}x in CPU time; grows with the steps: then cost grew with the list` });
    } finally {
      before.dispose();
    }
  }
}
