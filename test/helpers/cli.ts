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

const entry = `import { Command } from 'commander';
import { registerSimulate } from ${JSON.stringify(join(root, 'src/cli/simulate.ts'))};
import { registerAudit } from ${JSON.stringify(join(root, 'src/cli/audit.ts'))};
const p = new Command('ckpt'); registerSimulate(p); registerAudit(p);
await p.parseAsync(process.argv.slice(1), { from: 'user' });`;

export function ckpt(args: readonly string[], cwd = root): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry, '--', ...args], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A Node stack trace or an uncaught error's source excerpt: what a user must never see. */
export const STACK = /^\s+at .+\(.+:\d+:\d+\)$|^Node\.js v\d+|^\s*\^+\s*$/m;
