#!/usr/bin/env node
/** The `ckpt` command: each subcommand lives in its own module and registers itself here. */
import { Command } from 'commander';
import { runConformance } from './conformance.ts';
import { runDemo } from './demo.ts';
import { registerSimulate } from './simulate.ts';
import { registerServe } from './serve.ts';
import { registerAudit } from './audit.ts';

const program = new Command();
program.name('ckpt').description('Checkpoint policies: decide, prove and carry out which model checkpoints to keep.');

program
  .command('demo')
  .description('train a small TensorFlow.js model with a top-k + save_last policy into ./checkpoints, printing every decision')
  .action(async () => {
    process.exitCode = await runDemo((l) => console.log(l));
  });

program
  .command('conformance')
  .argument('<dir>', 'directory of Lightning conformance traces (*.jsonl)')
  .description('replay recorded Lightning ModelCheckpoint scenarios and report every difference')
  .action((dir: string) => {
    process.exitCode = runConformance(dir, (l) => console.log(l));
  });

// Further commands register here, one line each: registerX(program);
registerSimulate(program);
registerServe(program);
registerAudit(program);

await program.parseAsync(process.argv);
