// The steady-state figure of simulate.bench.ts for the built package, in a process of its own with
// plain node (no tsx), as the `ckpt` command runs it: node bench/steady-built.mjs JSON, the JSON
// holding the log (kind, path, dir) and the bench's policy and loop-fact options.
// Prints one JSON line: rows, and the best of 3 seconds parsing only and simulating.
const dist = (f) => new URL(`../dist/src/${f}`, import.meta.url).href;
const { kind, path, dir, policy: policyOptions, facts: factOptions } = JSON.parse(process.argv[2]);
const { simulate } = await import(dist('simulate/run.js'));
const { parseConfig } = await import(dist('core/config.js'));
const { runFactsFrom } = await import(dist('sources/loopFacts.js'));
const { readCsvLog } = await import(dist('sources/csv.js'));
const { readTfeventsLog } = await import(dist('sources/tfevents.js'));
const policy = parseConfig(policyOptions);
const facts = runFactsFrom(factOptions, null);
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
console.log(JSON.stringify({ rows, parseS, simS }));
