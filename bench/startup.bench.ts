/**
 * What the package costs before it does anything: the compiled `ckpt` command's start-up against
 * bare node (goal: `ckpt --help` and `ckpt --version` within 150 ms of `node -e 0`), and the memory
 * of importing each entry against bare node (goal: the core within 15 MB). Runs alternate between
 * the commands compared, so machine noise falls on all of them alike; medians are reported.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Row } from './run.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 15;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall milliseconds of one run of node with these arguments. */
function wall(args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
  return performance.now() - t0;
}

/** Peak resident memory (MB) of a node process that imports `entry` (none: bare node). */
function peakMb(entry: string | null): number {
  const code = `${entry === null ? '' : `await import(${JSON.stringify(entry)});`} process.stdout.write(String(process.resourceUsage().maxRSS));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
  return Number(out) / 1024;
}

export async function run(report: (row: Row) => void): Promise<void> {
  // the command as shipped: built JavaScript, no TypeScript at run time
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const commands: Record<string, readonly string[]> = {
    'node -e 0': ['-e', '0'],
    'ckpt --help': ['bin/ckpt.js', '--help'],
    'ckpt --version': ['bin/ckpt.js', '--version'],
    // the simulate command's own modules loaded, nothing read: its share of `ckpt simulate LOG`
    'ckpt simulate --help': ['bin/ckpt.js', 'simulate', '--help'],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (const args of Object.values(commands)) wall(args); // warm the file cache
  for (let i = 0; i < RUNS; i++) for (const [name, args] of Object.entries(commands)) times[name]!.push(wall(args));
  const bare = median(times['node -e 0']!);
  report({ name: 'node -e 0 (bare node)', value: bare, unit: 'ms', note: `median of ${RUNS}` });
  for (const name of ['ckpt --help', 'ckpt --version', 'ckpt simulate --help']) {
    const m = median(times[name]!);
    report({ name, value: m, unit: 'ms', note: `+${(m - bare).toFixed(0)} ms over bare node${name === 'ckpt simulate --help' ? ' (start-up of the simulate command)' : ' (goal: within 150)'}, ${(m / bare).toFixed(2)}x` });
  }

  const runsOf = (entry: string | null) => median(Array.from({ length: 5 }, () => peakMb(entry)));
  const bareMb = runsOf(null);
  report({ name: 'peak RSS, bare node', value: bareMb, unit: 'MB', note: 'median of 5' });
  for (const entry of ['ckpt-policy', 'ckpt-policy/runtime', 'ckpt-policy/stores', 'ckpt-policy/simulate', 'ckpt-policy/audit']) {
    const mb = runsOf(entry);
    report({ name: `peak RSS, import('${entry}')`, value: mb, unit: 'MB', note: `+${(mb - bareMb).toFixed(1)} MB over bare node${entry === 'ckpt-policy' ? ' (goal: within 15)' : ''}` });
  }
}
