/**
 * The fuzz suite's runner: mutated real logs (../shared/data) and policy texts through the
 * readers and the simulation, in a worker process under a heap bound (512 MB) and a time bound
 * (20 s without progress = a hang: the worker is killed and the input named by its seed). Prints
 * per reader how many inputs ran, ended cleanly with a result, or with a clean error; exit 1 on any
 * stack trace, hang or heap exhaustion.
 *   npm run fuzz -- [count per reader, default 2000] [seed, default 1]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const READERS = ['csv', 'policy'] as const;
export type Reader = (typeof READERS)[number];

export interface FuzzCounts {
  readonly reader: Reader;
  ok: number;
  clean: number;
  failures: string[];
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const STALL_MS = 20_000;

/** Runs `count` inputs of one reader from `seed`; a killed worker restarts after the input it died on. */
export async function fuzz(reader: Reader, count: number, seed: number): Promise<FuzzCounts> {
  const counts: FuzzCounts = { reader, ok: 0, clean: 0, failures: [] };
  const tmp = mkdtempSync(join(tmpdir(), 'ckpt-fuzz-'));
  try {
    let from = 0;
    while (from < count) {
      // each input is seeded by its number: a worker killed on one restarts at the next
      from = await runWorker(reader, seed, from, count, tmp, counts);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return counts;
}

function runWorker(reader: Reader, seed: number, from: number, count: number, tmp: string, counts: FuzzCounts): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', WORKER, reader, String(seed), String(count), tmp, String(from)], { stdio: ['ignore', 'pipe', 'pipe'] });
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 2000);
  const seed = Number(process.argv[3] ?? 1);
  let failed = 0;
  for (const reader of READERS) {
    const c = await fuzz(reader, count, seed);
    console.log(`${reader}: ${count} inputs, ${c.ok} read with a result, ${c.clean} refused with a clean error, ${c.failures.length} failures`);
    for (const f of c.failures) console.log(`  ${f}`);
    failed += c.failures.length;
  }
  process.exit(failed > 0 ? 1 : 0);
}
