/** `ckpt` with the commands the CLI tests run (simulate, compare, audit, explain), registered as main.ts does. */
import { Command } from 'commander';
import { registerSimulate } from '../../src/cli/simulate.ts';
import { registerAudit } from '../../src/cli/audit.ts';

const program = new Command('ckpt');
registerSimulate(program);
registerAudit(program);
await program.parseAsync(process.argv.slice(2), { from: 'user' });
