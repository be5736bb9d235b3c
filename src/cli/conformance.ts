/** `ckpt conformance DIR`: replay every *.jsonl trace file in DIR and report per file. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SUMMARY } from './commands.ts';
import { parseScenarios } from '../conformance/trace.ts';
import { describeDifference, replayScenario } from '../conformance/replay.ts';

export function runConformance(dir: string, out: (line: string) => void): number {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    out(`ckpt conformance: ${dir} is not a directory of *.jsonl scenario files`);
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
    const scenarios = parseScenarios(readFileSync(join(dir, f), 'utf8'), join(dir, f));
    let p = 0;
    const failures: string[] = [];
    for (const s of scenarios) {
      const r = replayScenario(s);
      if (r.ok) p++;
      else failures.push(`  FAIL ${s.id}: ${describeDifference(r.diff).replace(/\n/g, '\n    ')}`);
    }
    out(`${f}: ${p} passed, ${failures.length} failed`);
    for (const line of failures) out(line);
    passed += p;
    failed += failures.length;
  }
  out(`total: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

export function registerConformance(program: Command): void {
  program
    .command('conformance')
    .argument('<dir>', 'directory of Lightning conformance traces (*.jsonl)')
    .description(SUMMARY.conformance)
    .action((dir: string) => {
      process.exitCode = runConformance(dir, (l) => console.log(l));
    });
}
