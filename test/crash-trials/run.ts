/**
 * Kill trials of a real Checkpointer run: each trial trains one seeded loop (plan.ts) in a child
 * process on a real folder, SIGKILLs it at a random moment (start-up, resume, the very first save,
 * or later in training) one to three times, resuming each time, then lets it finish. After every
 * kill each file is checked (a `.ckpt` is a complete checkpoint whose hash checks, or the store's
 * hidden temporary), and the next run must resume from the newest complete checkpoint on disk. At
 * the end the kept set must equal what the pure reducer keeps for the same events run without a
 * kill, and last.ckpt must be the last decision's. Prints the trials, the kills by phase and each
 * failure with its seed (which fixes the plan and the phases aimed at; the moment within a phase
 * depends on timing) and its kept folder.
 *   npm run crash-trials -- [N, default 100] [first seed, default 1] [trials at a time, default 2]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, lstatSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parseConfig } from '../../src/core/config.ts';
import { init, reduce } from '../../src/core/reduce.ts';
import type { LoopEvent } from '../../src/core/events.ts';
import { planEvents, rng, trialPlan, verifiedRecord, type TrialPlan } from './plan.ts';

export const PHASES = ['start-up', 'resume', 'first save', 'training'] as const;
export type Phase = (typeof PHASES)[number];

export interface TrialResult {
  readonly seed: number;
  readonly kills: readonly Phase[];
  readonly failures: readonly string[];
}

/** The child bundled once (esbuild): a run starts in tens of milliseconds instead of tsx's second. */
async function bundleChild(): Promise<string> {
  const out = join(mkdtempSync(join(tmpdir(), 'ckpt-crash-bundle-')), 'child.mjs');
  await build({ entryPoints: [fileURLToPath(new URL('./child.ts', import.meta.url))], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'silent', external: ['@aws-sdk/*', '@tensorflow/*'], banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
  return out;
}

/** What the pure reducer keeps when the loop runs once without a kill: the keys, and where each decision of last.ckpt was made. */
export function expectedOutcome(p: TrialPlan, dir: string): { kept: Set<string>; saving: number[]; lastAt: number | null } {
  const { events, trainer } = planEvents(p);
  let [state] = init(parseConfig({ ...p.options, dirpath: dir }), { cwd: dir });
  const kept = new Set<string>();
  const saving: number[] = [];
  let lastAt: number | null = null;
  const savedAt = new Map<string, number>();
  const apply = (e: LoopEvent, i: number) => {
    const [next, effects] = reduce(state, e);
    state = next;
    for (const f of effects) {
      const key = 'path' in f ? relative(dir, f.path) : '';
      if (f.type === 'save' || f.type === 'link') {
        kept.add(key);
        if (!saving.includes(i)) saving.push(i);
        // a link holds its target's record: the decision that saved the target
        const at = f.type === 'link' ? (savedAt.get(relative(dir, f.target)) ?? i) : i;
        savedAt.set(key, at);
        if (key === 'last.ckpt') lastAt = at;
      } else if (f.type === 'remove') kept.delete(key);
    }
  };
  apply({ type: 'setup', stage: 'fit', trainer, files: [] }, -1);
  events.forEach(apply);
  return { kept, saving, lastAt };
}

const TEMP = /^\..+\.ckpt-tmp-\d+-[0-9a-f]+$/;
/** The folder's writer lease (docs/reliability.md): one small record per generation, never a checkpoint. */
const LEASE = /^\.ckpt-policy-lease\.\d+$/;

/** Every entry of the folder: complete checkpoints (key → record) and temporaries; problems for anything else. */
function inspect(dir: string): { records: Map<string, Record<string, unknown>>; temps: number; problems: string[] } {
  const records = new Map<string, Record<string, unknown>>();
  const problems: string[] = [];
  let temps = 0;
  for (const name of readdirSync(dir)) {
    if (TEMP.test(name)) {
      temps++;
      continue;
    }
    if (LEASE.test(name)) continue;
    const path = join(dir, name);
    if (!name.endsWith('.ckpt')) {
      problems.push(`${name}: a file that is neither a checkpoint nor the store's temporary`);
      continue;
    }
    if (lstatSync(path).isSymbolicLink() && !existsSync(path)) {
      problems.push(`${name}: a link to a checkpoint that is not there`);
      continue;
    }
    const v = verifiedRecord(readFileSync(path));
    if (v === null) problems.push(`${name}: named like a checkpoint but its hash does not check (a partial file)`);
    else records.set(name, v.record);
  }
  return { records, temps, problems };
}

/**
 * Whether resume may start from this checkpoint (the runtime's rule, docs/embedding.md): each save
 * it names as still in flight reached the folder, or holds this very model (a save of the same
 * decision, rewritten from it), or is removed by its own decision. A newer checkpoint captured
 * while an older decision's save was in flight, that save then lost to a kill, describes a folder
 * that never existed: resume takes the newest one that does not.
 */
function resumable(rec: Record<string, unknown>, present: ReadonlyMap<string, unknown>): boolean {
  const list = (k: string) => (Array.isArray(rec[k]) ? (rec[k] as string[]) : []);
  const own = new Set([...list('sameDecisionSaves'), ...list('pendingRemovals')]);
  return list('pendingSaves').every((k) => present.has(k) || own.has(k));
}

interface Run {
  readonly lines: string[];
  /** ms after spawn each line arrived */
  readonly times: number[];
  readonly killed: boolean;
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs the child once; `killAt` decides from each stdout line (and the time since start) whether to SIGKILL now. */
function runChild(child: string, dir: string, seed: number, killAt: (line: string | null, ms: number) => number | null): Promise<Run> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [child, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const t0 = Date.now();
    const lines: string[] = [];
    const times: number[] = [];
    let buf = '';
    let stderr = '';
    let killed = false;
    let timer: NodeJS.Timeout | null = null;
    const arm = (line: string | null) => {
      const delay = killAt(line, Date.now() - t0);
      if (delay === null || timer !== null) return;
      timer = setTimeout(() => {
        killed = c.kill('SIGKILL');
      }, delay);
    };
    arm(null);
    const guard = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        times.push(Date.now() - t0);
        arm(line);
      }
    });
    c.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-3000)));
    c.on('close', (code) => {
      if (timer) clearTimeout(timer);
      clearTimeout(guard);
      resolve({ lines, times, killed: killed && !lines.includes('finished'), code, stderr });
    });
  });
}

/** Where a killed run was: from the lines it said. */
function phaseOf(lines: readonly string[], firstSave: number | null, savedBefore: boolean): Phase {
  const opened = lines.some((l) => l === 'fresh' || l.startsWith('resumed '));
  if (!opened) return lines.includes('phase resume') ? 'resume' : 'start-up';
  const last = [...lines].reverse().find((l) => l.startsWith('event '));
  if (!savedBefore && firstSave !== null && last !== undefined && Number(last.slice(6)) <= firstSave && lines.includes('fresh')) return 'first save';
  return 'training';
}

export async function crashTrial(child: string, seed: number): Promise<TrialResult> {
  const plan = trialPlan(seed);
  const r = rng(seed ^ 0x5eed);
  const dir = mkdtempSync(join(tmpdir(), `ckpt-crash-${seed}-`));
  const expected = expectedOutcome(plan, dir);
  const firstSave = expected.saving[0] ?? null;
  const n = planEvents(plan).events.length;
  const failures: string[] = [];
  const kills: Phase[] = [];
  const fail = (s: string) => failures.push(`seed ${seed}: ${s}`);
  try {
    const maxKills = 1 + Math.floor(r() * 3);
    let savedBefore = false;
    /** when the last run said it had opened, and its phase line before that (ms after spawn) */
    let [openMs, phaseMs] = [150, 100];
    for (let run = 0; run <= maxKills && failures.length === 0; run++) {
      const last = run === maxKills;
      const had = inspect(dir);
      const newest = [...had.records.values()].filter((x) => resumable(x, had.records)).reduce<Record<string, unknown> | null>((a, x) => (a === null || Number(x['seq']) > Number(a['seq']) ? x : a), null);
      // where this run is killed: a phase at random, then a moment inside it
      const target = last ? null : (['start-up', 'resume', 'first save', 'training'] as const)[Math.floor(r() * 4)];
      const k = firstSave !== null && target === 'first save' && !savedBefore ? firstSave : Math.floor(r() * n);
      const jitter = Math.floor(r() * 6);
      const res = await runChild(child, dir, seed, (line, ms) => {
        if (target === null) return null;
        if (line === null) return target === 'start-up' ? Math.floor(r() * openMs * 0.8) : null;
        // open() takes a few milliseconds: kill at a moment inside the previous run's, counted from its 'phase' line
        if (target === 'resume' && (line === 'phase resume' || line === 'phase open')) return r() < 0.5 ? 0 : Math.floor(r() * Math.max(1, openMs - phaseMs));
        if ((target === 'first save' || target === 'training') && line === `event ${k}`) return jitter;
        void ms;
        return null;
      });
      const resumed = res.lines.find((l) => l.startsWith('resumed '));
      const at = (l: (x: string) => boolean) => res.times[res.lines.findIndex(l)];
      const o = at((l) => l === 'fresh' || l.startsWith('resumed '));
      const ph = at((l) => l.startsWith('phase ') && l !== 'phase start');
      if (o !== undefined && ph !== undefined) [openMs, phaseMs] = [o, ph];
      if (resumed && newest !== null) {
        const [, key] = resumed.split(' ');
        if (had.records.get(key!)?.['seq'] !== newest['seq']) fail(`run ${run} resumed from ${key} (seq ${String(had.records.get(key!)?.['seq'])}), not from the newest complete checkpoint ${String(newest['key'])} (seq ${String(newest['seq'])})`);
      }
      if (!resumed && newest !== null && res.lines.includes('fresh')) fail(`run ${run} started fresh although ${String(newest['key'])} is a complete checkpoint`);
      if (!res.killed && !res.lines.includes('finished')) {
        fail(`run ${run} ended with exit ${res.code} before finishing: ${res.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        break;
      }
      if (res.killed) kills.push(phaseOf(res.lines, firstSave, savedBefore));
      const now = inspect(dir);
      for (const p of now.problems) fail(`after run ${run}${res.killed ? ` (killed in ${kills[kills.length - 1]})` : ''}: ${p}`);
      if (now.records.size > 0) savedBefore = true;
      if (!res.killed) {
        const got = [...now.records.keys()].sort();
        const want = [...expected.kept].sort();
        if (got.join(',') !== want.join(',')) fail(`kept ${JSON.stringify(got)}; the reducer without kills keeps ${JSON.stringify(want)}`);
        const lastRec = now.records.get('last.ckpt');
        if (expected.lastAt !== null && lastRec) {
          const e = planEvents(plan).events[expected.lastAt]!;
          const v = 'view' in e ? e.view : undefined;
          if (lastRec['globalStep'] !== v?.globalStep || lastRec['epoch'] !== v?.epoch) fail(`last.ckpt holds epoch ${String(lastRec['epoch'])}, step ${String(lastRec['globalStep'])}; the last decision of last.ckpt was at epoch ${v?.epoch}, step ${v?.globalStep} (a stale last.ckpt)`);
        }
        break;
      }
    }
  } finally {
    if (failures.length === 0) rmSync(dir, { recursive: true, force: true });
    else failures.push(`seed ${seed}: the folder is kept at ${dir}`);
  }
  return { seed, kills, failures };
}

/** `count` trials from `firstSeed`, `parallel` at a time (each trial's own folder and child). */
export async function crashTrials(count: number, firstSeed: number, onTrial?: (t: TrialResult, i: number) => void, parallel = 1): Promise<{ trials: number; kills: Record<Phase, number>; failures: string[] }> {
  const child = await bundleChild();
  const kills = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  const failures: string[] = [];
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < count) {
      const t = await crashTrial(child, firstSeed + next++);
      for (const k of t.kills) kills[k]++;
      failures.push(...t.failures);
      onTrial?.(t, done++);
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, lane));
  } finally {
    rmSync(join(child, '..'), { recursive: true, force: true });
  }
  return { trials: count, kills, failures };
}

export const summaryLine = (s: { trials: number; kills: Record<Phase, number>; failures: string[] }) =>
  `crash trials: ${s.trials} trials, ${Object.values(s.kills).reduce((a, b) => a + b, 0)} kills (${PHASES.map((p) => `${p} ${s.kills[p]}`).join(', ')}), ${new Set(s.failures.map((f) => f.split(':')[0])).size} failed trials`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 100);
  const first = Number(process.argv[3] ?? 1);
  const parallel = Number(process.argv[4] ?? 2);
  const seen = { trials: 0, kills: Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>, failures: [] as string[] };
  const s = await crashTrials(
    count,
    first,
    (t, i) => {
      for (const f of t.failures) console.log(`  ${f}`);
      seen.trials = i + 1;
      for (const k of t.kills) seen.kills[k]++;
      seen.failures.push(...t.failures);
      // the summary so far, so a run stopped early still reports what it did
      if ((i + 1) % 25 === 0) console.error(summaryLine(seen));
    },
    parallel,
  );
  console.log(summaryLine(s));
  process.exit(s.failures.length > 0 ? 1 : 0);
}
