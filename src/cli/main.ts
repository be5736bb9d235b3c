#!/usr/bin/env node
/**
 * The `ckpt` command. Start-up loads commander and nothing else: the module of the one subcommand
 * asked for is imported when it runs (the others are listed by name and summary only), so
 * `ckpt --help` and `ckpt --version` cost about what node itself does.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { MissingPeerError, loadPeer } from '../peer.ts';
import { ARGUMENTS, SUMMARY, type CommandName } from './commands.ts';

type Register = (program: Command) => void;

/** Each command's module; modules that register several commands are named once per command. */
const MODULES: Record<CommandName, () => Promise<Register>> = {
  demo: async () => (await loadPeer(() => import('./demo.ts'), ['@tensorflow/tfjs@4'], 'ckpt demo')).registerDemo,
  conformance: async () => (await import('./conformance.ts')).registerConformance,
  simulate: async () => (await import('./simulate.ts')).registerSimulate,
  compare: async () => (await import('./simulate.ts')).registerSimulate,
  recommend: async () => (await import('./recommend.ts')).registerRecommend,
  serve: async () => (await import('./serve.ts')).registerServe,
  audit: async () => (await import('./audit.ts')).registerAudit,
  explain: async () => (await import('./audit.ts')).registerAudit,
};

/** The package's version, from the package.json above this module (src/cli or dist/src/cli). */
function version(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const p = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (p.name === 'ckpt-policy' && typeof p.version === 'string') return p.version;
    } catch {
      // not this level
    }
  }
  return 'unknown';
}

/** The subcommand the arguments name (`ckpt help X` names X), if any. */
function requested(args: readonly string[]): CommandName | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  const word = words[0] === 'help' ? words[1] : words[0];
  return word !== undefined && Object.hasOwn(SUMMARY, word) ? (word as CommandName) : undefined;
}

// A reader that stops early (`ckpt explain LOG | head`) closes the pipe: that ends the output, not in a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

const program = new Command();
program
  .name('ckpt')
  .description('Checkpoint policies: decide, prove and carry out which model checkpoints to keep.')
  .version(version(), '-V, --version', 'print the version');

try {
  const wanted = requested(process.argv.slice(2));
  if (wanted !== undefined) (await MODULES[wanted]())(program);
  // the others, by name and summary, for `ckpt --help` (running one loads it: see `wanted`)
  const registered = new Set(program.commands.map((c) => c.name()));
  for (const name of Object.keys(SUMMARY) as CommandName[]) {
    if (!registered.has(name)) program.command(`${name} ${ARGUMENTS[name]}`.trim()).description(SUMMARY[name]).allowUnknownOption().allowExcessArguments();
  }
  await program.parseAsync(process.argv);
} catch (e) {
  if (!(e instanceof MissingPeerError)) throw e;
  console.error(`ckpt: ${e.message}`);
  process.exitCode = 2;
}
