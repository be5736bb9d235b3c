/**
 * How tests run the `ckpt` command: in its own process, as a user would, from its TypeScript
 * sources through tsx, so a test never runs a stale build (the compiled bin/ckpt.js is what
 * test/package-consumer.test.ts runs, from the packed tarball). `tty` runs it under a
 * pseudo-terminal of that many columns (util-linux `script`), for output that depends on the terminal.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/**
 * node's arguments before the command's own: `spawn(process.execPath, [...CKPT, 'simulate', …])`.
 * tsx by URL: the command may run in a folder outside the project (a temp copy of a run).
 */
export const CKPT: readonly string[] = ['--import', import.meta.resolve('tsx'), MAIN];

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function ckpt(args: readonly string[], cwd = root): CliResult {
  const r = spawnSync(process.execPath, [...CKPT, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A Node stack trace or an uncaught error's source excerpt: what a user must never see. */
export const STACK = /^\s+at .+\(.+:\d+:\d+\)$|^Node\.js v\d+|^\s*\^+\s*$/m;
