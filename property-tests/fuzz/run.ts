/**
 * The fuzz suite's runner: mutated real logs (../shared/data) and options texts through every
 * reader (inputs.ts), in a worker process under a heap bound (512 MB), a deadline per input (15 s)
 * and a stall bound (30 s without an answer = a hang: the worker is killed and the input named by
 * its seed); then a few of the same inputs through the real `ckpt` process under a 256 MB heap.
 * Prints per reader how many inputs ran, ended with a result, or with a clean error; exit 1 on any
 * stack trace, hang, unnamed file or heap exhaustion.
 *   npm run fuzz -- [count per reader, default 2000] [seed, default 1] [readers, comma-separated]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { READERS, type Reader } from './inputs.ts';

export { READERS, type Reader };

export interface FuzzCounts {
  readonly reader: Reader;
  ok: number;
  clean: number;
  failures: string[];
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const STALL_MS = 30_000;
/** A stack trace or an uncaught error's excerpt (as test/helpers/cli.ts's STACK). */
const STACK = /^\s+at .+\(.+:\d+:\d+\)$|^Node\.js v\d+|^\s*\^+\s*$/m;

/** Runs `count` inputs of one reader from `seed`; a killed worker restarts after the input it died on. */
export async function fuzz(reader: Reader, count: number, seed: number): Promise<FuzzCounts> {
  const counts: FuzzCounts = { reader, ok: 0, clean: 0, failures: [] };
  const tmp = mkdtempSync(join(tmpdir(), 'ckpt-fuzz-'));
  try {
    let from = 0;
    while (from < count) from = await runWorker(reader, seed, from, count, tmp, counts);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return counts;
}

function runWorker(reader: Reader, seed: number, from: number, count: number, tmp: string, counts: FuzzCounts): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--max-old-space-size=512', '--expose-gc', '--import', 'tsx', WORKER, reader, String(seed), String(count), tmp, String(from)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let at = from;
    let buf = '';
    let timer = setTimeout(() => child.kill('SIGKILL'), STALL_MS);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        clearTimeout(timer);
        timer = setTimeout(() => child.kill('SIGKILL'), STALL_MS);
        const [what, n] = line.split(' ');
        if (what === 'ok') counts.ok++;
        else if (what === 'clean') counts.clean++;
        else if (what === 'FAIL') counts.failures.push(`${reader} seed ${seed} input ${n}: ${line.slice(line.indexOf(' ', 5) + 1).replace(/\\n/g, '\n')}`);
        if (what === 'ok' || what === 'clean' || what === 'FAIL') at = Number(n) + 1;
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (at >= count) return resolve(count);
      const why = signal === 'SIGKILL' ? `no answer within ${STALL_MS / 1000} s (a hang)` : `the worker died (exit ${code}, ${signal ?? 'no signal'}): ${stderr.split('\n').slice(-4).join(' ')}`;
      counts.failures.push(`${reader} seed ${seed} input ${at}: ${why}`);
      resolve(at + 1);
    });
  });
}

function run(args: readonly string[], opts: { heapMb?: number; timeoutMs: number }): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const heap = opts.heapMb ? [`--max-old-space-size=${opts.heapMb}`] : [];
    const child = spawn(process.execPath, [...heap, '--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The CLI's exit codes that mean a result or a clean refusal (3: the framework would have raised; simulate and audit). */
const CLEAN_EXITS = new Set([0, 1, 2, 3]);

/**
 * `n` inputs of `reader` (from input `from`) through `ckpt` in its own process under a 256 MB
 * heap and a 60 s limit: each ends with a clean exit, no stack trace, and an error naming the file.
 */
export async function fuzzCli(reader: Reader, n: number, seed: number, from = 0): Promise<{ ran: number; exits: Record<string, number>; failures: string[] }> {
  const tmp = mkdtempSync(join(tmpdir(), 'ckpt-fuzz-cli-'));
  const failures: string[] = [];
  const exits: Record<string, number> = {};
  let ran = 0;
  try {
    const w = await run([WORKER, reader, String(seed), String(from + n), tmp, String(from), 'cli'], { timeoutMs: 120_000 });
    for (const line of w.stdout.split('\n')) {
      const m = /^cli (\d+) (.*)$/.exec(line);
      if (!m || m[2] === 'null') continue;
      const argv = JSON.parse(m[2]!) as string[];
      const r = await run([MAIN, ...argv, ...(argv[0] === 'simulate' ? ['--no-progress'] : [])], { heapMb: 256, timeoutMs: 60_000 });
      ran++;
      const key = r.signal ?? String(r.code);
      exits[key] = (exits[key] ?? 0) + 1;
      const where = `${reader} seed ${seed} input ${m[1]} (ckpt ${argv.join(' ')})`;
      const input = `${reader}-${seed}-${m[1]}`;
      if (r.code === null || !CLEAN_EXITS.has(r.code)) failures.push(`${where}: ended with ${key}: ${r.stderr.slice(-600)}`);
      else if (STACK.test(r.stderr)) failures.push(`${where}: a stack trace: ${r.stderr.slice(-600)}`);
      else if (r.code === 1 || r.code === 2) {
        const said = r.stderr + r.stdout;
        if (!said.includes(input)) failures.push(`${where}: exit ${r.code} without naming the file: ${said.slice(-600)}`);
      }
    }
    if (w.code !== 0) failures.push(`${reader}: the input writer failed: ${w.stderr.slice(-600)}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { ran, exits, failures };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 2000);
  const seed = Number(process.argv[3] ?? 1);
  const only = process.argv[4]?.split(',') as Reader[] | undefined;
  let failed = 0;
  for (const reader of only ?? READERS) {
    const t0 = Date.now();
    const c = await fuzz(reader, count, seed);
    const cli = await fuzzCli(reader, Math.max(3, Math.floor(count / 200)), seed, count);
    const exits = Object.entries(cli.exits).map(([k, v]) => `${v}× exit ${k}`).join(', ');
    console.log(`${reader}: ${count} inputs, ${c.ok} read with a result, ${c.clean} refused with a clean error, ${c.failures.length} failures; through ckpt: ${cli.ran} inputs${exits ? ` (${exits})` : ''}, ${cli.failures.length} failures (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    for (const f of [...c.failures, ...cli.failures]) console.log(`  ${f}`);
    failed += c.failures.length + cli.failures.length;
  }
  process.exit(failed > 0 ? 1 : 0);
}
