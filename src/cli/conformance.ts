/**
 * `ckpt conformance DIR`: replay every *.jsonl trace file in DIR, with the framework its
 * manifest.json names (src/conformance/sets.ts), and report per file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SUMMARY } from './commands.ts';
import { setFor } from '../conformance/sets.ts';

function readManifest(dir: string): Record<string, unknown> | null | string {
  const path = join(dir, 'manifest.json');
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return null;
  try {
    const m: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as Record<string, unknown>) : `${path} is not a JSON object`;
  } catch (e) {
    return `${path} is not JSON (${(e as Error).message})`;
  }
}

export function runConformance(dir: string, out: (line: string) => void): number {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    out(`ckpt conformance: ${dir} is not a directory of *.jsonl scenario files`);
    return 2;
  }
  const manifest = readManifest(dir);
  if (typeof manifest === 'string') {
    out(`ckpt conformance: ${manifest}`);
    return 2;
  }
  const found = setFor(manifest);
  if ('unknown' in found) {
    out(`ckpt conformance: ${dir}: ${found.unknown}`);
    return 2;
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  if (files.length === 0) {
    out(`ckpt conformance: no *.jsonl files in ${dir}`);
    return 2;
  }
  let passed = 0;
  let failed = 0;
  for (const f of files) {
    const results = found.set.replayFile(readFileSync(join(dir, f), 'utf8'), join(dir, f));
    const failures = results.filter((r) => r.failure !== null);
    out(`${f}: ${results.length - failures.length} passed, ${failures.length} failed`);
    for (const r of failures) out(`  FAIL ${r.id}: ${r.failure!.replace(/\n/g, '\n    ')}`);
    passed += results.length - failures.length;
    failed += failures.length;
  }
  out(`total: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

export function registerConformance(program: Command): void {
  program
    .command('conformance')
    .argument('<dir>', 'directory of conformance traces (*.jsonl) and their manifest.json (Lightning when it has none)')
    .description(SUMMARY.conformance)
    .action((dir: string) => {
      process.exitCode = runConformance(dir, (l) => console.log(l));
    });
}
