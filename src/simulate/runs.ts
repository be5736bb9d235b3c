/**
 * Which runs a command line names: one log, a folder of runs (a `lightning_logs/` of `version_N`
 * folders, or any folder whose sub-folders are logs), or a glob; and, in a folder of event files,
 * which files are unrelated runs rather than the fits of one resumed run.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { openLog, readRecords, type FitLog } from '../sources/open.ts';
import { SourceError } from '../sources/records.ts';

/** One run to simulate: its fits' logs in order, and the name it is reported under. */
export interface RunInput {
  readonly name: string;
  readonly logs: readonly FitLog[];
}

const GLOB = /[*?[]/;

/** A path segment pattern (`*`, `?`, `[abc]`) as a regular expression. */
function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${seg.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * The paths a glob matches, sorted (version folders by number: version_2 before version_10).
 * `*`, `?` and `[...]` match within a segment, `**` any number of folders. Hidden names match
 * only a pattern that starts with a dot.
 */
export function expandGlob(pattern: string, cwd = process.cwd()): string[] {
  const abs = resolve(cwd, pattern);
  const parts = abs.split('/').filter(Boolean);
  let paths = ['/'];
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    if (!GLOB.test(part)) {
      paths = paths.map((p) => join(p, part));
      continue;
    }
    const next: string[] = [];
    const re = segmentRegex(part);
    const walk = (dir: string, deep: boolean) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const n of names) {
        if (n.startsWith('.') && !part.startsWith('.')) continue;
        const p = join(dir, n);
        if (deep) {
          if (isDir(p)) {
            next.push(p);
            walk(p, true);
          }
        } else if (re.test(n) && (last || isDir(p))) next.push(p);
      }
    };
    for (const p of paths) {
      if (part === '**') {
        next.push(p);
        walk(p, true);
      } else walk(p, false);
    }
    paths = next;
  }
  return [...new Set(paths)].filter((p) => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  }).sort(naturalOrder);
}

/** `version_2` before `version_10`: digit runs compare as numbers. */
export function naturalOrder(a: string, b: string): number {
  const split = (s: string) => s.split(/(\d+)/).map((x, i) => (i % 2 ? Number(x) : x));
  const xa = split(a);
  const xb = split(b);
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const p = xa[i]!;
    const q = xb[i]!;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p - q;
    return String(p) < String(q) ? -1 : 1;
  }
  return xa.length - xb.length;
}

/** Is this folder a log itself (a version folder with metrics.csv or event files)? */
function isLogFolder(dir: string): boolean {
  try {
    return readdirSync(dir).some((n) => n === 'metrics.csv' || n.startsWith('events.out.tfevents.'));
  } catch {
    return false;
  }
}

/**
 * The runs one LOG argument names: a log (one run), a folder whose sub-folders are logs (each a
 * run: `lightning_logs/version_N`), or a glob (each match a run). `several` is whether the
 * argument names a set of runs (a folder of runs or a glob), even when it matches one.
 * Throws SourceError when nothing there is a log.
 */
export function runsOf(arg: string, cwd = process.cwd()): { runs: RunInput[]; several: boolean } {
  const name = (p: string) => {
    const r = relative(cwd, p);
    return r === '' ? basename(p) : r.startsWith('..') ? p : r;
  };
  if (GLOB.test(arg)) {
    const matches = expandGlob(arg, cwd);
    if (matches.length === 0) throw new SourceError({ file: arg }, null, 'the pattern matches no file or folder');
    const runs = matches.flatMap((m) => (isDir(m) && !isLogFolder(m) ? subRuns(m, name) : [{ name: name(m), logs: openLog(m) }]));
    if (runs.length === 0) throw new SourceError({ file: arg }, null, `none of the ${matches.length} paths the pattern matches is a log`);
    return { runs, several: true };
  }
  const abs = resolve(cwd, arg);
  if (isDir(abs) && !isLogFolder(abs)) {
    const runs = subRuns(abs, name);
    if (runs.length > 0) return { runs, several: true };
  }
  return { runs: [{ name: arg, logs: openLog(abs) }], several: false };
}

/** The sub-folders of `dir` that are logs, each a run, in natural order. */
function subRuns(dir: string, name: (p: string) => string): RunInput[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.') && isLogFolder(join(dir, n)))
    .sort(naturalOrder)
    .map((n) => ({ name: name(join(dir, n)), logs: openLog(join(dir, n)) }));
}

/** The first module record (with an epoch) of a log: where its fit starts. */
async function firstRecord(log: FitLog): Promise<{ epoch: number; step: number } | null> {
  if (log.kind === 'jsonl') return null;
  const gen = readRecords(log, { bad: { skipBad: true, onSkip: () => {} } });
  try {
    for await (const batch of gen) for (const r of batch) if (r.epoch !== null) return { epoch: r.epoch, step: r.step };
    return null;
  } finally {
    await gen.return(undefined);
  }
}

/**
 * A folder's event files are the fits of one run when each later one resumed (it starts past
 * where the run started); a file that starts again at epoch 0, at or before the step the first
 * file started at, is a new, unrelated run (a new `Trainer` logging into the same folder). Returns
 * the runs, each named after its folder and, when split, its first event file; and a note per split.
 */
export async function splitUnrelated(run: RunInput): Promise<{ runs: RunInput[]; notes: string[] }> {
  if (run.logs.length < 2 || run.logs.some((l) => l.kind !== 'tfevents')) return { runs: [run], notes: [] };
  const groups: FitLog[][] = [];
  let start: { epoch: number; step: number } | null = null;
  for (const log of run.logs) {
    const first = await firstRecord(log);
    const fresh = first !== null && start !== null && first.epoch === 0 && first.step <= start.step;
    if (groups.length === 0 || fresh) {
      groups.push([log]);
      start = first;
    } else groups[groups.length - 1]!.push(log);
    if (start === null) start = first;
  }
  if (groups.length === 1) return { runs: [run], notes: [] };
  const runs = groups.map((g) => ({ name: `${run.name} [${basename(g[0]!.path)}]`, logs: g }));
  const notes = [
    `${run.name}: its ${run.logs.length} event files hold ${groups.length} unrelated runs (a file starting again at epoch 0 begins a new run, not a resumed fit): ${groups.map((g) => g.map((l) => basename(l.path)).join(' + ')).join('; ')}; each is simulated as its own run`,
  ];
  return { runs, notes };
}
