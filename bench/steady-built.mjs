// The steady-state figure of simulate.bench.ts for the built package, in a process of its own with
// plain node (no tsx), as the `ckpt` command runs it: node bench/steady-built.mjs KIND PATH DIR.
// Prints one JSON line: rows, and the best of 3 seconds parsing only and simulating top-3.
import { fileURLToPath } from 'node:url';

const dist = (f) => new URL(`../dist/src/${f}`, import.meta.url).href;
const [kind, path, dir] = process.argv.slice(2);
const { simulate } = await import(dist('simulate/run.js'));
const { parseConfig } = await import(dist('core/config.js'));
const { runFactsFrom } = await import(dist('sources/loopFacts.js'));
const { readCsvLog } = await import(dist('sources/csv.js'));
const { readTfeventsLog } = await import(dist('sources/tfevents.js'));
// the same policy and loop facts as simulate.bench.ts
const policy = parseConfig({ monitor: 'val_loss', save_top_k: 3, save_last: true, dirpath: 'ckpts' });
const facts = runFactsFrom({ num_training_batches: 1000, log_every_n_steps: 1 }, null);
if (facts._tag === 'Left') throw new Error('bench facts');
let rows = 0;
let parseS = Infinity;
let simS = Infinity;
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  rows = 0;
  for await (const batch of kind === 'csv' ? readCsvLog(path) : readTfeventsLog(path)) rows += batch.length;
  parseS = Math.min(parseS, (performance.now() - t0) / 1000);
  const t1 = performance.now();
  await simulate({ policies: [{ name: 'top3', config: policy }], logs: [{ kind, path, dir }], run: facts.right, cwd: dir });
  simS = Math.min(simS, (performance.now() - t1) / 1000);
}
console.log(JSON.stringify({ rows, parseS, simS, self: fileURLToPath(import.meta.url) }));
