/** The writer-lease tests' second process (lease-child.ts), spawned and read line by line. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CKPT, root } from './cli.ts';

/** Spawns the lease child on a folder or S3 settings (JSON); resolves once it has trained and said `ready`. */
export async function leaseChild(where: string, ttlMs: number, epochs: number): Promise<{ proc: ChildProcess; next: () => Promise<string> }> {
  const proc = spawn(process.execPath, [CKPT[0]!, CKPT[1]!, join(root, 'test/helpers/lease-child.ts'), where, String(ttlMs), String(epochs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    return r.done ? '(exited)' : r.value;
  };
  const first = await next();
  assert.match(first, /^ready \d+$/, first);
  return { proc, next };
}

export const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
