/**
 * Runs `ckpt` subcommands in their own process, as a user would, through their own registration
 * (independent of what else main.ts registers). `tty` runs it under a pseudo-terminal of that many
 * columns (util-linux `script`), for output that depends on the terminal.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const entry = join(root, 'test/helpers/cli-entry.ts');
/** tsx by URL: the command may run in a folder outside the project (a temp copy of a run) */
const tsx = import.meta.resolve('tsx');

export function ckpt(args: readonly string[], cwd = root): CliResult {
  const r = spawnSync(process.execPath, ['--import', tsx, entry, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A Node stack trace or an uncaught error's source excerpt: what a user must never see. */
export const STACK = /^\s+at .+\(.+:\d+:\d+\)$|^Node\.js v\d+|^\s*\^+\s*$/m;
