/**
 * The reducer's speed: the figures side by side with the reducer before the rules rewrite
 * (extracted from git history into a temp dir and run in the same process, alternating), then
 * epoch-end events per second for save_top_k 1, 3 and -1 over 10^6 events with a monitored metric,
 * and the heap it holds. Goals: non-saving events >= 3 M/s, saving events >= 2x before, the composed
 * policy within 1.5x of top-k alone; the cost per event does not grow with the number of kept
 * checkpoints (k=-1 within 3x of k=1); memory flat for small k.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseConfig } from '../src/core/config.ts';
import { init, reduce } from '../src/core/reduce.ts';
import type { PolicyState } from '../src/core/state.ts';
import type { Row } from './run.ts';

/** The reducer before the rules rewrite (one Hook class), the baseline of the figures. */
const BEFORE_RULES = 'ab5f649';

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

interface Core {
  readonly parseConfig: (o: Record<string, unknown>) => unknown;
  readonly init: (c: never, env: { cwd: string }) => readonly [unknown, ...unknown[]];
  readonly reduce: (s: never, e: unknown) => readonly [unknown, readonly { type: string }[], ...unknown[]];
}
const CURRENT = { parseConfig, init, reduce } as unknown as Core;

/**
 * The core at BEFORE_RULES, extracted from git history into a temp dir and loaded beside the
 * current one, so the ratio is measured in one run on this noisy machine; null outside a git checkout.
 */
async function loadBefore(): Promise<{ core: Core; dispose: () => void } | null> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-core-before-'));
  try {
    const tar = execFileSync('git', ['archive', BEFORE_RULES, 'src/core'], { cwd: root, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const at = (f: string) => pathToFileURL(join(dir, 'src/core', f)).href;
    const core = { ...(await import(at('config.ts'))), ...(await import(at('reduce.ts'))) } as Core;
    return { core, dispose: () => rmSync(dir, { recursive: true, force: true }) };
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

/** Epoch-end events/s of one run of a config over a sequence, and how many saved. */
function rateOnce(core: Core, options: Record<string, unknown>, seq: (i: number) => number): { eps: number; saves: number } {
  const config = core.parseConfig({ dirpath: '/ckpts', monitor: 'val_loss', filename: '{epoch}-{step}', ...options });
  let [s] = core.init(config as never, { cwd: '/' });
  [s] = core.reduce(s as never, { type: 'setup', files: [] });
  let saves = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const [next, effects] = core.reduce(s as never, { type: 'trainEpochEnded', view: { epoch: i, globalStep: i + 1, metrics: { val_loss: seq(i) } } });
    s = next;
    for (const e of effects) if (e.type === 'save') saves++;
  }
  return { eps: N / ((performance.now() - t0) / 1000), saves };
}

/** Medians of REPEATS runs of each configuration, the runs alternating so machine noise falls on all alike. */
function sideBySide(runs: readonly (readonly [Core, Record<string, unknown>])[], seq: (i: number) => number): { eps: number; saves: number }[] {
  const out = runs.map(() => [] as { eps: number; saves: number }[]);
  for (let r = 0; r < REPEATS; r++) runs.forEach(([core, options], i) => out[i]!.push(rateOnce(core, options, seq)));
  return out.map((rs) => ({ eps: median(rs.map((x) => x.eps)), saves: rs[0]!.saves }));
}

const saves = (r: { saves: number }) => `${r.saves.toLocaleString('en-US')} saves`;

export async function run(report: (row: Row) => void): Promise<void> {
  // the figures, side by side with the code before the rules rewrite: non-saving events
  // (noise after the first few) and saving events (strictly improving)
  const before = await loadBefore();
  try {
    const figures = [
      ['non-saving epoch-end events/s (save_top_k=1, rejected)', { save_top_k: 1 }, (i: number) => (i < 10 ? 0 : 1 + SEQUENCES.noise(i)), 'goal >= 3 M/s (before: 1.4 M/s on a quiet machine)'],
      ['saving epoch-end events/s (save_top_k=3, every event saves)', { save_top_k: 3 }, SEQUENCES.strictlyImproving, 'goal >= 2x before'],
    ] as const;
    for (const [name, options, seq, goal] of figures) {
      const [now, then] = sideBySide(before ? [[CURRENT, options], [before.core, options]] : [[CURRENT, options]], seq);
      report({ name, value: now!.eps, unit: 'events/s', note: `${saves(now!)}; ${goal}` });
      if (!then) {
        report({ name: `  before the rules rewrite (${BEFORE_RULES})`, value: NaN, unit: 'events/s', note: 'not measurable: no git history here' });
        continue;
      }
      report({ name: `  the same before the rules rewrite (${BEFORE_RULES})`, value: then.eps, unit: 'events/s', note: saves(then) });
      report({ name: '  ratio now / before', value: now!.eps / then.eps, unit: 'x', note: goal });
    }
  } finally {
    before?.dispose();
  }
  // best-3 ∪ latest-2 ∪ every 1,000th step against top-3 alone: on a stream where top-3 saves on
  // every event (the same files written), and on noise (composed writes every event, top-3 rarely)
  const composed = { save_top_k: 3, keep_latest: 2, keep_every_n_steps: 1000 };
  const streams = [['strictly improving', SEQUENCES.strictlyImproving], ['noise', SEQUENCES.noise]] as const;
  for (const [label, seq] of streams) {
    const [topk, union] = sideBySide([[CURRENT, { save_top_k: 3 }], [CURRENT, composed]], seq);
    report({ name: `top-3 alone, ${label}: events/s`, value: topk!.eps, unit: 'events/s', note: saves(topk!) });
    report({ name: `best-3 ∪ latest-2 ∪ every 1,000th step, ${label}: events/s`, value: union!.eps, unit: 'events/s', note: saves(union!) });
    report({ name: `  time ratio composed / top-3 alone, ${label}`, value: topk!.eps / union!.eps, unit: 'x', note: label === 'noise' ? 'composed writes a file per event, top-3 does not' : 'goal <= 1.5 (same files written)' });
  }
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
