/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) and prints
 * each figure as it is measured. Benchmarks report medians and ratios measured side by side in the
 * same run, because this machine is shared and noisy.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

export interface Row {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
}

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();

const fmt = (v: number) => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(4)).toString());

for (const f of files) {
  console.log(`\n== ${f}`);
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { run: (report: (row: Row) => void) => Promise<void> };
  const started = performance.now();
  await mod.run((row) => console.log(`  ${row.name.padEnd(64)} ${fmt(row.value).padStart(14)} ${row.unit}${row.note ? `   ${row.note}` : ''}`));
  console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
