/**
 * The Orbax dialect's speed: save decisions per second for AnyPreservationPolicy([LatestN(3), BestN(3),
 * EveryNSteps(100)]) with a save every step, and the heap at 25/50/75/100% of the steps. Orbax's
 * retention re-reads the whole checkpoint list at each save and EveryNSteps(100) keeps one step in 100,
 * so the cost per decision grows with the steps: the per-quarter rates show how much.
 * ORBAX_BENCH_STEPS sets the steps (default 2*10^4; the figure is 10^6).
 */
import { reduce, start, type ManagerState } from '../src/dialects/orbax/manager.ts';
import type { Row } from './run.ts';

// 2*10^4 by default so `npm run bench` finishes: the manager re-evaluates every policy over the whole
// kept list at each save, so 10^6 steps (the figure) takes hours until that is incremental.
const N = Number(process.env.ORBAX_BENCH_STEPS ?? 20_000);
const options = {
  enable_async_checkpointing: false,
  best_fn: { metric: 'loss' },
  preservation_policy: { type: 'AnyPreservationPolicy', policies: [{ type: 'LatestN', n: 3 }, { type: 'BestN', metric: 'loss', reverse: true, n: 3 }, { type: 'EveryNSteps', interval_steps: 100 }] },
};
const loss = (i: number) => Math.fround(0.5 + 0.4 * Math.sin(i * 12.9898) * Math.cos(i * 78.233));

function gcHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

export async function run(report: (row: Row) => void): Promise<void> {
  const [s0] = start({ options, clock: { save_seconds: 0 }, t: 0, entries: [] });
  let s: ManagerState = s0!;
  const base = gcHeap();
  const quarter = Math.max(1, Math.floor(N / 4));
  let t0 = performance.now();
  const t00 = t0;
  for (let i = 0; i < N; i++) {
    s = reduce(s, { call: 'save', step: i, t: i, metrics: { loss: loss(i) } })[0];
    if ((i + 1) % quarter === 0) {
      const rate = quarter / ((performance.now() - t0) / 1000);
      const q = Math.round(((i + 1) / N) * 100);
      report({ name: `decisions/s, steps ${q - 25}-${q}% (kept ${s.checkpoints.length})`, value: rate, unit: '/s' });
      report({ name: `heap at ${q}%`, value: (gcHeap() - base) / 2 ** 20, unit: 'MiB' });
      t0 = performance.now();
    }
  }
  report({ name: `decisions/s over ${N} steps`, value: N / ((performance.now() - t00) / 1000), unit: '/s' });
}
