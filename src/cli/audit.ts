/**
 * `ckpt audit verify|storage|lightning` and `ckpt explain`. Exit codes:
 *   verify:    0 verified, 1 tampered or diverged, 2 unreadable, 3 incomplete (torn or not closed)
 *   storage:   0 clean, 1 drift, 2 unreadable (log or storage)
 *   lightning: 0 clean, 1 drift, 2 unreadable (metrics, folder or policy), 3 the logs cannot tell
 *   trainer:   0 clean, 1 drift, 2 unreadable (output_dir, trainer_state.json or arguments), 3 the log cannot tell
 *   explain:   0, or 2 when the input cannot be read
 */
import { statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import { openStore } from '../../plugins/index.ts';
import { explainEvents, explainLog } from '../audit/explainLog.ts';
import { isUrl, loadPolicy, logSource, PolicyFileError } from '../audit/inputs.ts';
import { readLines } from '../audit/reader.ts';
import { auditLightning, formatLightningReport } from '../audit/lightning.ts';
import { auditStorage, formatStorageReport } from '../audit/storage.ts';
import { formatVerifyReport, verifyLog } from '../audit/verify.ts';
import { readJsonlEvents } from '../sources/jsonl.ts';
import { parseTrainerText, type RunFacts } from '../sources/loopFacts.ts';
import { openLog, type FitLog } from '../sources/open.ts';
import { issueText } from '../sources/structuredText.ts';
import { readTrainerFile } from '../sources/text.ts';
import type { LoopEvent } from '../core/events.ts';
import { SUMMARY } from './commands.ts';

const say = (line: string) => console.log(line);

/** The log's key inside the store, when the log lives there (it is then not an orphan). */
function logKeyIn(log: string, dir: string): string | undefined {
  if (isUrl(log) || isUrl(dir)) {
    const cut = log.lastIndexOf('/');
    return log.slice(0, cut).replace(/\/+$/, '') === dir.replace(/\/+$/, '') ? log.slice(cut + 1) : undefined;
  }
  const rel = relative(resolve(dir), resolve(log));
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith('/') ? rel.split('\\').join('/') : undefined;
}

export async function runVerify(log: string, opts: { json?: boolean; expectHead?: string }, out = say): Promise<number> {
  const anchor = opts.expectHead?.trim().toLowerCase();
  if (anchor !== undefined && !/^[0-9a-f]{64}$/.test(anchor)) {
    out(`ckpt audit verify: --expect-head: got ${JSON.stringify(opts.expectHead)}, expected the 64 hex digits of a record's hash (the "last hash" audit verify prints, kept where the log's writer cannot change it)`);
    return 2;
  }
  let report;
  try {
    report = verifyLog(await logSource(log), anchor !== undefined ? { expectHead: anchor } : {});
  } catch (e) {
    out(`unreadable: ${log}: ${(e as Error).message}`);
    return 2;
  }
  if (opts.json) out(JSON.stringify(report));
  else formatVerifyReport(report).forEach((l) => out(l));
  return report.exitCode;
}

/**
 * Why a local checkpoint folder cannot be audited, or null. Checked before the store is opened:
 * opening a folder store creates a missing folder, which would then be reported as empty (every
 * file "missing") instead of as the typo it usually is.
 */
function localFolderProblem(dir: string): string | null {
  if (isUrl(dir)) return null;
  const path = dir.startsWith('file://') ? fileURLToPath(dir) : dir;
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return `cannot read the checkpoint folder ${dir}: ${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'part of its path is a file' : (e as Error).message}`;
  }
  return st.isDirectory() ? null : `${dir} is not a folder (give the checkpoint folder the log's saves went to)`;
}

export async function runStorage(log: string, dir: string, opts: { json?: boolean; checksums?: boolean }, out = say): Promise<number> {
  const problem = localFolderProblem(dir);
  if (problem !== null) {
    if (opts.json) out(JSON.stringify({ log, location: dir, status: 'unreadable', exitCode: 2, unreadable: problem }));
    else [`unreadable: ${problem}`, 'result: unreadable'].forEach((l) => out(l));
    return 2;
  }
  let store;
  try {
    store = await openStore(dir);
  } catch (e) {
    out(`unreadable: cannot open ${dir}: ${(e as Error).message}`);
    return 2;
  }
  try {
    const logKey = logKeyIn(log, dir);
    const report = await auditStorage(await logSource(log), store, { checksums: opts.checksums !== false, ...(logKey !== undefined ? { logKey } : {}) });
    if (opts.json) out(JSON.stringify(report));
    else formatStorageReport(report).forEach((l) => out(l));
    return report.exitCode;
  } catch (e) {
    out(`unreadable: ${(e as Error).message}`);
    return 2;
  } finally {
    await store.close?.();
  }
}

export interface LightningCliOptions {
  policy: string;
  trainer?: string;
  resumedLog?: string[];
  cwd?: string;
  loggerDir?: string;
  json?: boolean;
}

export async function runLightning(metrics: string, dir: string, opts: LightningCliOptions, out = say): Promise<number> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  let config;
  let logs: FitLog[];
  let run: RunFacts | undefined;
  try {
    config = loadPolicy(opts.policy);
    logs = [metrics, ...(opts.resumedLog ?? [])].flatMap((l) => openLog(resolve(cwd, l)));
    if (opts.trainer !== undefined) {
      const text = readTrainerFile(opts.trainer);
      if (typeof text !== 'string') throw new Error(`${opts.trainer}: ${text.problem}`);
      const facts = parseTrainerText(text, opts.trainer);
      if (E.isLeft(facts)) throw new Error(facts.left.map(issueText).join('; '));
      run = facts.right;
    }
  } catch (e) {
    out(`unreadable: ${(e as Error).message}`);
    return 2;
  }
  const report = await auditLightning({ config, logs, cwd, dir: resolve(cwd, dir), ...(run ? { run } : {}), ...(opts.loggerDir !== undefined ? { loggerDir: resolve(cwd, opts.loggerDir) } : {}) });
  if (opts.json) out(JSON.stringify(report));
  else formatLightningReport(report).forEach((l) => out(l));
  return report.exitCode;
}

/** A decision log when the first line is a head record; otherwise loop events (needs --policy). */
function looksLikeLog(file: string): boolean {
  for (const l of readLines({ kind: 'file', path: file })) {
    if (l.text.trim() === '') continue;
    try {
      const v = JSON.parse(l.text) as { type?: unknown; format?: unknown };
      return v.type === 'head' && typeof v.format === 'string';
    } catch {
      return false;
    }
  }
  return false;
}

export async function runExplain(input: string, opts: { policy?: string; cwd?: string; all?: boolean }, out = say): Promise<number> {
  try {
    if (isUrl(input) || looksLikeLog(input)) {
      for (const line of explainLog(await logSource(input), { all: opts.all ?? false })) out(line);
      return 0;
    }
    if (opts.policy === undefined) {
      out(`ckpt explain: ${input} is not a decision log (its first line is no head record); to explain loop events, give the policy with --policy FILE`);
      return 2;
    }
    const config = loadPolicy(opts.policy);
    const events: Array<{ event: LoopEvent; line: number }> = [];
    for await (const batch of readJsonlEvents(input)) events.push(...batch);
    for (const line of explainEvents(events, config, resolve(opts.cwd ?? process.cwd()), { all: opts.all ?? false })) out(line);
    return 0;
  } catch (e) {
    out(e instanceof PolicyFileError ? `ckpt explain: ${e.message}` : `ckpt explain: cannot read ${input}: ${(e as Error).message}`);
    return 2;
  }
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description(SUMMARY.audit);

  audit
    .command('verify')
    .argument('<log>', 'decision log (a file, or s3://bucket/prefix/decisions.jsonl)')
    .option('--json', 'print the report as JSON')
    .option('--expect-head <hash>', 'the hash of the last record, kept elsewhere: the log must end at exactly that record (catches a cut-off tail and recomputed chains)')
    .description('replay the recorded events through the recorded policy (a dialect session through its dialect): exit 0 only if the chain holds, every decision matches and the log is complete')
    .action(async (log: string, opts: { json?: boolean; expectHead?: string }) => {
      process.exitCode = await runVerify(log, opts);
    });

  audit
    .command('storage')
    .argument('<log>', 'decision log (a file, or s3://bucket/prefix/decisions.jsonl)')
    .argument('<dir>', 'checkpoint directory, or s3://bucket/prefix')
    .option('--no-checksums', 'compare sizes only; do not read checkpoints back')
    .option('--json', 'print the report as JSON')
    .description('compare what the log says should exist with what storage holds: exit 0 clean, 1 drift, 2 unreadable')
    .action(async (log: string, dir: string, opts: { json?: boolean; checksums?: boolean }) => {
      process.exitCode = await runStorage(log, dir, opts);
    });

  audit
    .command('lightning')
    .argument('<metrics>', "the run's metrics log: metrics.csv, an events.out.tfevents.* file or a version folder")
    .argument('<dir>', 'the checkpoint folder Lightning wrote')
    .requiredOption('--policy <file|inline>', 'the ModelCheckpoint arguments: a JSON/YAML file or inline text, as for ckpt simulate --policy')
    .option('--trainer <file>', 'Trainer arguments and loop facts (JSON or YAML; max_epochs, val_check_interval, num_training_batches, fits, ...)')
    .option('--resumed-log <log>', "a later fit's log (resumed runs; repeat in order)", (v: string, prev: string[] = []) => [...prev, v])
    .option('--cwd <dir>', 'where the training script ran (relative dirpath and paths resolve here; default: the current directory)')
    .option('--logger-dir <dir>', "the first logger's version folder, when it is not the log's folder (dirpath=None puts checkpoints in <it>/checkpoints)")
    .option('--json', 'print the report as JSON')
    .description('simulate the policy on a Lightning run\'s log and compare with its checkpoint folder: exit 0 clean, 1 drift, 2 unreadable, 3 cannot tell')
    .action(async (metrics: string, dir: string, opts: LightningCliOptions) => {
      process.exitCode = await runLightning(metrics, dir, opts);
    });

  audit
    .command('trainer')
    .argument('<output_dir>', "a Hugging Face Trainer's output_dir (its trainer_state.json: the top-level one, else the newest checkpoint's)")
    .requiredOption('--args <file>', 'the TrainingArguments, JSON or YAML in transformers\' names (what the file does not give is taken from trainer_state.json)')
    .option('--fix <name>', 'an opt-in fix the run used (repeatable): saveNewBest, limitOneKeepsBest (docs/transformers.md)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--json', 'print the report as JSON')
    .description('simulate the Trainer policy on the run\'s trainer_state.json and compare with its checkpoint-* folders: exit 0 clean, 1 drift, 2 unreadable, 3 cannot tell')
    .action(async (dir: string, opts: { args: string; fix: string[]; json?: boolean }) => {
      const { auditTrainerOutputDir, formatTrainerAudit } = await import('../dialects/transformers/auditOutputDir.ts');
      const { decodeHfFixes } = await import('../dialects/transformers/fixes.ts');
      const fixes = decodeHfFixes(Object.fromEntries(opts.fix.map((name) => [name, true])));
      if (fixes._tag === 'Left') {
        process.stderr.write(`ckpt audit trainer: --fix ${fixes.left.replace(/^fixes: /, '')}\n`);
        process.exitCode = 2;
        return;
      }
      const report = auditTrainerOutputDir(dir, opts.args, fixes.right);
      if (opts.json) say(JSON.stringify(report));
      else formatTrainerAudit(report).forEach((l) => say(l));
      process.exitCode = report.exitCode;
    });

  audit
    .command('explain')
    .argument('<input>', 'a decision log (Lightning runs and dialect sessions), or a JSONL file of loop events (with --policy)')
    .option('--policy <file|inline>', 'ModelCheckpoint options for an events file')
    .option('--cwd <dir>', 'working directory relative dirpaths resolve against (events file)')
    .option('--all', 'show routine hooks and info lines too')
    .description('the same as ckpt explain: a line per decision')
    .action(async (input: string, opts: { policy?: string; cwd?: string; all?: boolean }) => {
      process.exitCode = await runExplain(input, opts);
    });

  program
    .command('explain')
    .argument('<input>', 'a decision log, or a JSONL file of loop events (with --policy)')
    .option('--policy <file|inline>', 'ModelCheckpoint options for an events file: a JSON/YAML file or inline text, as for ckpt simulate --policy')
    .option('--cwd <dir>', 'working directory relative dirpaths resolve against (events file; default: the current one)')
    .option('--all', 'show routine hooks and info lines too')
    .description(SUMMARY.explain)
    .action(async (input: string, opts: { policy?: string; cwd?: string; all?: boolean }) => {
      process.exitCode = await runExplain(input, opts);
    });
}
