/**
 * The reducer's speed: epoch-end events per second for save_top_k 1, 3 and -1 over 10^6 events with
 * a monitored metric, and the heap it holds. Goals (issue #2): >= 10^6 events/s for small k; the
 * cost per event does not grow with the number of kept checkpoints (k=-1 within 3x of k=1);
 * memory flat for small k.
 */
import { parseConfig } from '../src/core/config.ts';
import { init, reduce } from '../src/core/reduce.ts';
import type { PolicyState } from '../src/core/state.ts';
import type { Row } from './run.ts';

const N = 1_000_000;
const REPEATS = 3;

/**
 * Three metric shapes: i.i.d. noise (top-k rarely changes), a noisy improving curve, and a strictly
 * improving one, where every k saves on every event: the like-for-like comparison of save costs.
 */
const SEQUENCES = {
  strictlyImproving: (i: number) => 1 - i * 1e-7,
  noise: (i: number) => Math.fround(0.5 + 0.4 * Math.sin(i * 12.9898) * Math.cos(i * 78.233)),
  improving: (i: number) => Math.fround(1 / (1 + i * 1e-3) + 0.002 * Math.sin(i * 12.9898)),
};

function gcHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

function runOnce(k: number, seq: (i: number) => number, sampleHeap: boolean) {
  const config = parseConfig({ dirpath: '/ckpts', monitor: 'val_loss', save_top_k: k, filename: '{epoch}-{val_loss:.4f}' });
  let [state] = init(config, { cwd: '/' });
  [state] = reduce(state, { type: 'setup', files: [] });
  const heap: number[] = [];
  const base = sampleHeap ? gcHeap() : 0;
  let saves = 0;
  const t0 = performance.now();
  let s: PolicyState = state;
  let tenth = t0;
  const tenths: number[] = [];
  for (let i = 0; i < N; i++) {
    if (i % (N / 10) === 0 && i > 0) {
      const now = performance.now();
      tenths.push(now - tenth);
      tenth = now;
    }
    const [next, effects] = reduce(s, { type: 'trainEpochEnded', view: { epoch: i, globalStep: i + 1, metrics: { val_loss: seq(i) } } });
    s = next;
    if (effects.length) saves++;
    if (sampleHeap && (i + 1) % (N / 4) === 0) heap.push(gcHeap() - base);
  }
  const end = performance.now();
  tenths.push(end - tenth);
  const seconds = (end - t0) / 1000;
  // cost growth: the last tenth of the run (most checkpoints kept) against the first
  return { eventsPerSecond: N / seconds, seconds, heap, saves, kept: s.bestKModels.size, growth: tenths[9]! / tenths[0]! };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Epoch-end events/s of one config over a sequence (median of REPEATS), and how many saved. */
function rate(options: Record<string, unknown>, seq: (i: number) => number): { eps: number; saves: number } {
  const config = parseConfig({ dirpath: '/ckpts', monitor: 'val_loss', filename: '{epoch}-{step}', ...options });
  const once = () => {
    let [s] = init(config, { cwd: '/' });
    [s] = reduce(s, { type: 'setup', files: [] });
    let saves = 0;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const [next, effects] = reduce(s, { type: 'trainEpochEnded', view: { epoch: i, globalStep: i + 1, metrics: { val_loss: seq(i) } } });
      s = next;
      for (const e of effects) if (e.type === 'save') saves++;
    }
    return { eps: N / ((performance.now() - t0) / 1000), saves };
  };
  const rs = Array.from({ length: REPEATS }, once);
  return { eps: median(rs.map((r) => r.eps)), saves: rs[0]!.saves };
}

export async function run(report: (row: Row) => void): Promise<void> {
  // the figures, side by side: non-saving events (noise after the first few), saving events
  // (strictly improving), and the composed policy best-3 ∪ latest-2 ∪ every 1,000th step against top-3 alone
  const nonSaving = rate({ save_top_k: 1 }, (i) => (i < 10 ? 0 : 1 + SEQUENCES.noise(i)));
  report({ name: 'non-saving epoch-end events/s (save_top_k=1, rejected)', value: nonSaving.eps, unit: 'events/s', note: 'before the rules rewrite: 1.4 M/s on this machine; goal >= 3 M/s' });
  const saving = rate({ save_top_k: 3 }, SEQUENCES.strictlyImproving);
  report({ name: 'saving epoch-end events/s (save_top_k=3, every event saves)', value: saving.eps, unit: 'events/s', note: 'before: 210 k/s; goal >= 2x' });
  const topk = rate({ save_top_k: 3 }, SEQUENCES.noise);
  const composed = rate({ save_top_k: 3, keep_latest: 2, keep_every_n_steps: 1000 }, SEQUENCES.noise);
  report({ name: 'top-3 alone, noise: events/s', value: topk.eps, unit: 'events/s', note: `${topk.saves.toLocaleString('en-US')} saves` });
  report({ name: 'best-3 ∪ latest-2 ∪ every 1,000th step, noise: events/s', value: composed.eps, unit: 'events/s', note: `${composed.saves.toLocaleString('en-US')} saves (latest-2 saves every event)` });
  report({ name: 'time ratio composed / top-3 alone', value: topk.eps / composed.eps, unit: 'x', note: 'goal <= 1.5 (the composed policy writes a file on every event)' });
  report({ name: "Lightning's own ModelCheckpoint (not runnable here)", value: 40_000, unit: 'decisions/s', note: 'figure given for this machine; the oracle harness is not in the project' });
  for (const [name, seq] of Object.entries(SEQUENCES)) {
    const medians = new Map<number, number>();
    let growth = 0;
    for (const k of [1, 3, -1]) {
      const runs = Array.from({ length: REPEATS }, () => runOnce(k, seq, false));
      const eps = median(runs.map((r) => r.eventsPerSecond));
      medians.set(k, median(runs.map((r) => r.seconds)));
      if (k === -1) growth = median(runs.map((r) => r.growth));
      report({ name: `${name}: save_top_k=${k} epoch-end events/s (median of ${REPEATS})`, value: eps, unit: 'events/s', note: `${runs[0]!.saves.toLocaleString('en-US')} events acted, ${runs[0]!.kept.toLocaleString('en-US')} kept` });
    }
    report({ name: `${name}: time ratio save_top_k=-1 / save_top_k=1`, value: medians.get(-1)! / medians.get(1)!, unit: 'x', note: 'goal <= 3' });
    report({ name: `${name}: save_top_k=-1 last 10% of events / first 10% (time)`, value: growth, unit: 'x', note: 'flat cost per event ~ 1' });
    for (const k of [1, -1]) {
      const r = runOnce(k, seq, true);
      report({ name: `${name}: save_top_k=${k} heap held at 25/50/75/100% of 10^6 events`, value: r.heap[3]! / 2 ** 20, unit: 'MiB', note: r.heap.map((h) => (h / 2 ** 20).toFixed(1)).join(' / ') + ' MiB' });
    }
  }
}
