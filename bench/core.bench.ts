/**
 * The reducer's speed: the figures side by side with the reducer before the rules rewrite
 * (extracted from git history into a temp dir), then epoch-end events per second for save_top_k 1,
 * 3 and -1 over 10^6 events with a monitored metric, and the heap it holds. Goals: non-saving
 * events >= 3 M/s, saving events >= 2x before, the composed policy within 1.5x of top-k alone; the
 * cost per event does not grow with the number of kept checkpoints (k=-1 within 3x of k=1); memory
 * flat for small k.
 *
 * Each side-by-side figure runs in a fresh process of its own (this file, started with a job as its
 * argument), the runs alternating so machine noise falls on all alike. In one process the two
 * reducers share the driver's call sites and the JIT's feedback, and whichever ran second was
 * measured on the first one's profile (the current core measured 0.45x to 2.4x of the old one
 * depending on that). Each run reports events/s by the wall clock and by the process's CPU time:
 * on this shared machine the wall clock also counts the time other processes held the cores.
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

const noise = (i: number) => Math.fround(0.5 + 0.4 * Math.sin(i * 12.9898) * Math.cos(i * 78.233));

/**
 * Metric shapes: i.i.d. noise (top-k rarely changes), a noisy improving curve, a strictly improving
 * one, where every k saves on every event (the like-for-like comparison of save costs), and noise
 * after ten best values (save_top_k=1 rejects every event after the first few).
 */
const SEQUENCES = {
  strictlyImproving: (i: number) => 1 - i * 1e-7,
  noise,
  improving: (i: number) => Math.fround(1 / (1 + i * 1e-3) + 0.002 * Math.sin(i * 12.9898)),
  rejected: (i: number) => (i < 10 ? 0 : 1 + noise(i)),
};
type SequenceName = keyof typeof SEQUENCES;

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
  const values = new Float64Array(N);
  for (let i = 0; i < N; i++) values[i] = seq(i);
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
    const [next, effects] = reduce(s, { type: 'trainEpochEnded', view: { epoch: i, globalStep: i + 1, metrics: { val_loss: values[i]! } } });
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

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

/**
 * The core at BEFORE_RULES, extracted from git history into a temp dir (its own copy of src/core
 * beside the project's node_modules); null outside a git checkout.
 */
function extractBefore(): { root: string; dispose: () => void } | null {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-core-before-'));
  try {
    const tar = execFileSync('git', ['archive', BEFORE_RULES, 'src/core'], { cwd: ROOT, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    return { root: dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

/** One measurement, run in a child process: the core under `root`, a config and a sequence. */
interface Job {
  readonly root: string;
  readonly options: Record<string, unknown>;
  readonly seq: SequenceName;
  readonly n: number;
}
interface Rate {
  /** events/s by the wall clock */
  readonly eps: number;
  /** events/s by the process's CPU time (user + system, GC threads included) */
  readonly cpuEps: number;
  readonly saves: number;
}

/** The child's side: epoch-end events of one config over one sequence, from a fresh state. */
async function rateJob(job: Job): Promise<Rate> {
  const at = (f: string) => pathToFileURL(join(job.root, 'src/core', f)).href;
  const core = { ...(await import(at('config.ts'))), ...(await import(at('reduce.ts'))) } as Core;
  const seq = SEQUENCES[job.seq];
  const config = core.parseConfig({ dirpath: '/ckpts', monitor: 'val_loss', filename: '{epoch}-{step}', ...job.options });
  let [s] = core.init(config as never, { cwd: '/' });
  [s] = core.reduce(s as never, { type: 'setup', files: [] });
  let saves = 0;
  // the metric values are computed before the clock starts: the figure is the reducer's, not
  // Math.sin's (computing them in the loop took about a third of a non-saving event's time)
  const values = new Float64Array(job.n);
  for (let i = 0; i < job.n; i++) values[i] = seq(i);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < job.n; i++) {
    const [next, effects] = core.reduce(s as never, { type: 'trainEpochEnded', view: { epoch: i, globalStep: i + 1, metrics: { val_loss: values[i]! } } });
    s = next;
    for (const e of effects) if (e.type === 'save') saves++;
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { eps: job.n / wall, cpuEps: job.n / ((cpu.user + cpu.system) / 1e6), saves };
}

function rateInChild(job: Job): Rate {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, JSON.stringify(job)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as Rate;
}

/**
 * Medians of `repeats` runs of each job, each in its own process, alternating (the order flips
 * every round, so a slow drift of the machine favours neither side).
 */
function sideBySide(jobs: readonly Job[], repeats = REPEATS): Rate[] {
  return roundsOf(jobs, repeats).map(medianRate);
}

/** The median rate of one job's runs. */
function medianRate(rs: readonly Rate[]): Rate {
  return { eps: median(rs.map((x) => x.eps)), cpuEps: median(rs.map((x) => x.cpuEps)), saves: rs[0]!.saves };
}

/** Each job's runs, round by round (the order of the jobs flipped every other round). */
function roundsOf(jobs: readonly Job[], repeats: number): Rate[][] {
  const out = jobs.map(() => [] as Rate[]);
  for (let r = 0; r < repeats; r++) {
    const order = r % 2 === 0 ? jobs.map((_, i) => i) : jobs.map((_, i) => jobs.length - 1 - i);
    for (const i of order) out[i]![r] = rateInChild(jobs[i]!);
  }
  return out;
}

/**
 * Two jobs' time ratio (b's time over a's) as the median of the rounds' ratios: the two runs of a
 * round are seconds apart, so the machine's speed (which drifts by 20% over minutes here, with the
 * same code) cancels in each round's ratio; the median of medians does not cancel it.
 */
function pairedRatio(a: readonly Rate[], b: readonly Rate[]): { wall: number; cpu: number } {
  return { wall: median(a.map((x, r) => x.eps / b[r]!.eps)), cpu: median(a.map((x, r) => x.cpuEps / b[r]!.cpuEps)) };
}

/** Rounds for the composed / top-k figure: single rounds ranged 1.05x-1.70x on an idle machine here, and a median of 7 from 1.30x to 1.53x. */
const PAIRED_ROUNDS = 15;

const saves = (r: { saves: number }) => `${r.saves.toLocaleString('en-US')} saves`;
const cpuNote = (r: Rate) => `${Math.round(r.cpuEps).toLocaleString('en-US')} events/s by CPU time`;

export async function run(report: (row: Row) => void): Promise<void> {
  // the figures, side by side with the code before the rules rewrite: non-saving events
  // (rejected after the first few) and saving events (strictly improving)
  const before = extractBefore();
  try {
    const figures = [
      ['non-saving epoch-end events/s (save_top_k=1, rejected)', { save_top_k: 1 }, 'rejected', 'goal >= 3 M/s (before: 1.4 M/s on a quiet machine)'],
      ['saving epoch-end events/s (save_top_k=3, every event saves)', { save_top_k: 3 }, 'strictlyImproving', 'goal >= 2x before'],
    ] as const;
    for (const [name, options, seq, goal] of figures) {
      const job = { root: ROOT, options, seq, n: N };
      const [now, then] = sideBySide(before ? [job, { ...job, root: before.root }] : [job]);
      report({ name, value: now!.eps, unit: 'events/s', note: `${saves(now!)}; ${cpuNote(now!)}; ${goal}` });
      if (!then) {
        report({ name: `  before the rules rewrite (${BEFORE_RULES})`, value: NaN, unit: 'events/s', note: 'not measurable: no git history here' });
        continue;
      }
      report({ name: `  the same before the rules rewrite (${BEFORE_RULES})`, value: then.eps, unit: 'events/s', note: `${saves(then)}; ${cpuNote(then)}` });
      report({ name: '  ratio now / before (wall clock)', value: now!.eps / then.eps, unit: 'x', note: goal });
      report({ name: '  ratio now / before (CPU time)', value: now!.cpuEps / then.cpuEps, unit: 'x', note: goal });
    }
  } finally {
    before?.dispose();
  }
  // best-3 ∪ latest-2 ∪ every 1,000th step against top-3 alone: on a stream where top-3 saves on
  // every event (the same files written), and on noise (composed writes every event, top-3 rarely)
  const composed = { save_top_k: 3, keep_latest: 2, keep_every_n_steps: 1000 };
  const streams = [['strictly improving', 'strictlyImproving'], ['noise', 'noise']] as const;
  for (const [label, seq] of streams) {
    const rounds = label === 'noise' ? REPEATS : PAIRED_ROUNDS;
    const [topkRuns, unionRuns] = roundsOf([{ root: ROOT, options: { save_top_k: 3 }, seq, n: N }, { root: ROOT, options: composed, seq, n: N }], rounds);
    const [topk, union] = [medianRate(topkRuns!), medianRate(unionRuns!)];
    report({ name: `top-3 alone, ${label}: events/s`, value: topk!.eps, unit: 'events/s', note: `${saves(topk!)}; ${cpuNote(topk!)}; median of ${rounds}` });
    report({ name: `best-3 ∪ latest-2 ∪ every 1,000th step, ${label}: events/s`, value: union!.eps, unit: 'events/s', note: `${saves(union!)}; ${cpuNote(union!)}; median of ${rounds}` });
    const note = label === 'noise' ? 'composed writes a file per event, top-3 does not' : 'goal <= 1.5 (same files written)';
    const ratio = pairedRatio(topkRuns!, unionRuns!);
    const each = topkRuns!.map((x, r) => (x.eps / unionRuns![r]!.eps).toFixed(2)).join(', ');
    report({ name: `  time ratio composed / top-3 alone, ${label}`, value: ratio.wall, unit: 'x', note: `${note}; median of ${rounds} rounds' ratios (${each}); by CPU time ${ratio.cpu.toFixed(3)}x` });
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

// started as a child by rateInChild: one job, its Rate as the last line of stdout
if (process.argv[1] !== undefined && fileURLToPath(pathToFileURL(process.argv[1])) === SELF && process.argv[2] !== undefined) {
  console.log(JSON.stringify(await rateJob(JSON.parse(process.argv[2]) as Job)));
}
