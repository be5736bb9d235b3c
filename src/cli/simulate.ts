/**
 * `ckpt simulate` and `ckpt compare`: replay checkpoint policies on the metrics of a run that
 * already happened (Lightning CSV, TensorBoard event files, or JSONL loop events), and report what
 * each would have saved, removed and kept, with regret and storage figures.
 */
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { E } from '../core/deps.cts';
import { decodeFact, parseTrainerText, runFactsFrom, type LoopFacts, type RunFacts } from '../sources/loopFacts.ts';
import { logMetricNames, openLog, type FitLog } from '../sources/open.ts';
import { didYouMean } from '../core/didYouMean.ts';
import { SourceError } from '../sources/records.ts';
import { issueText, parseStructured, type TextIssue } from '../sources/structuredText.ts';
import { readTrainerFile } from '../sources/text.ts';
import { readAnyPolicyArgLazy, type AnyPolicy, type Policy } from '../policyText.ts';
import { rel } from '../simulate/figures.ts';
import type { AdapterOutput, DialectPolicy, LogSource } from '../simulate/dialects/index.ts';
import { FRAMEWORK, lightningReport, type Report, type ReportFit, type ReportPolicy } from '../simulate/dialects/result.ts';
import { simulate, type MetricChoice, type SimulationResult } from '../simulate/run.ts';
import { parseSize } from '../simulate/size.ts';
import { runsOf, splitUnrelated, type RunInput } from '../simulate/runs.ts';
import type { SweepResult } from '../simulate/sweep.ts';
import { SUMMARY } from './commands.ts';

// Loaded when used, not at start-up: one run of Lightning policies with one output format (the
// usual command) needs neither the other dialects, nor the worker pool, nor the other renderers.
const dialectsModule = () => import('../simulate/dialects/index.ts');
const sweepModule = () => import('../simulate/sweep.ts');

export interface CommonOptions {
  set: string[];
  resumedLog: string[];
  trainer?: string;
  maxEpochs?: string;
  maxSteps?: string;
  valCheckInterval?: string;
  checkValEveryNEpoch?: string;
  limitValBatches?: string;
  logEveryNSteps?: string;
  numTrainingBatches?: string;
  numValBatches?: string;
  loggerDir?: string;
  cwd?: string;
  valMetrics?: string;
  testMetrics?: string;
  metric?: string;
  ckptSize?: string;
  format: 'table' | 'json';
  html?: string;
  skipBad?: boolean;
  progress?: boolean;
  jobs?: string;
}

/** A problem with the command line or its files: printed, exit code 1. */
export class UsageError extends Error {}

/**
 * The exit code when the report is complete but the simulated framework would have raised
 * (Lightning's MisconfigurationException, say) for at least one policy: the run would have
 * stopped there, so a script must not take the figures for a run that finished.
 */
export const EXIT_FRAMEWORK_RAISED = 3;

const collect = (v: string, prev: string[]) => [...prev, v];

export function addCommon(cmd: Command): Command {
  return cmd
    .option('--set <key=value>', 'override a ModelCheckpoint option (repeatable), e.g. --set save_top_k=3', collect, [])
    .option('--resumed-log <log>', 'a later fit of the same run, resumed from a checkpoint of the previous one (repeatable, in order)', collect, [])
    .option('--trainer <file>', 'loop facts the log does not carry: JSON or YAML with Trainer names (max_epochs, val_check_interval, num_training_batches, ...)')
    .option('--max-epochs <n>', 'Trainer(max_epochs)')
    .option('--max-steps <n>', 'Trainer(max_steps)')
    .option('--val-check-interval <x>', 'Trainer(val_check_interval): 1.0 = once per epoch, 0.25 = four times, 7 = every 7 batches')
    .option('--check-val-every-n-epoch <n>', 'Trainer(check_val_every_n_epoch)')
    .option('--limit-val-batches <x>', 'Trainer(limit_val_batches); 0 disables validation')
    .option('--log-every-n-steps <n>', 'Trainer(log_every_n_steps)')
    .option('--num-training-batches <n>', 'training batches per epoch (trainer.num_training_batches)')
    .option('--num-val-batches <n>', 'validation batches per run')
    .option('--logger-dir <dir>', "the first logger's version folder: checkpoints go to <dir>/checkpoints when dirpath is not set (default: the log's folder)")
    .option('--cwd <dir>', 'the working directory the run had: relative dirpaths and reported paths are relative to it (default: the current one)')
    .option('--val-metrics <names>', 'comma-separated names of the validation metrics (default: names starting with val/valid/validation)')
    .option('--test-metrics <names>', 'comma-separated names of test metrics, which are ignored (default: names starting with test)')
    .option('--metric <name[:min|max]>', 'the metric regret is measured on (default: each policy\'s monitor)')
    .option('--ckpt-size <size>', 'size of one checkpoint for bytes written and peak storage, e.g. 1.5GB or 700MiB')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--html <file>', 'also write a self-contained HTML report with a chart')
    .option('--skip-bad', 'skip malformed records (counted in the output) instead of stopping at the first')
    .option('--no-progress', 'no progress bar on stderr')
    .option('--jobs <n>', 'threads simulating several runs, this one included (default: one per core)');
}

export function issuesError(issues: readonly TextIssue[]): UsageError {
  return new UsageError(issues.map(issueText).join('\n'));
}

function loopFlags(o: CommonOptions): Partial<LoopFacts> {
  const flags: Partial<LoopFacts> = {};
  const pairs: [string, string | undefined][] = [
    ['max_epochs', o.maxEpochs],
    ['max_steps', o.maxSteps],
    ['val_check_interval', o.valCheckInterval],
    ['check_val_every_n_epoch', o.checkValEveryNEpoch],
    ['limit_val_batches', o.limitValBatches],
    ['log_every_n_steps', o.logEveryNSteps],
    ['num_training_batches', o.numTrainingBatches],
    ['num_val_batches', o.numValBatches],
  ];
  for (const [key, text] of pairs) {
    if (text === undefined) continue;
    const value = text === 'null' || text === 'None' ? null : Number(text);
    if (value !== null && Number.isNaN(value)) throw new UsageError(`--${key.replace(/_/g, '-')}: expected a number, got ${JSON.stringify(text)}`);
    const r = decodeFact(key, value, text);
    if (E.isLeft(r)) throw new UsageError(`--${key.replace(/_/g, '-')}: ${r.left}`);
    Object.assign(flags, r.right);
  }
  return flags;
}

export function runFacts(o: CommonOptions): RunFacts {
  const flags = loopFlags(o);
  if (o.trainer === undefined) {
    const r = runFactsFrom(undefined, null, flags);
    if (E.isLeft(r)) throw new UsageError(r.left.map((i) => i.message).join('\n'));
    return r.right;
  }
  const text = readTrainerFile(o.trainer);
  if (typeof text !== 'string') throw new UsageError(`${o.trainer}: ${text.problem}`);
  const r = parseTrainerText(text, o.trainer, flags);
  if (E.isLeft(r)) throw issuesError(r.left);
  return r.right;
}

/** `name`, `name:min` or `name:max`; anything after the last `:` must be the mode (a name with `:` in it takes one: `a:b:min`). */
export function metricChoice(text: string | undefined): MetricChoice | null {
  if (text === undefined) return null;
  const cut = text.lastIndexOf(':');
  const name = cut < 0 ? text : text.slice(0, cut);
  const mode = cut < 0 ? 'min' : text.slice(cut + 1);
  if (mode !== 'min' && mode !== 'max') {
    throw new UsageError(`--metric: mode ${JSON.stringify(mode)} is not allowed: the mode is min or max, as in --metric ${name || 'val_loss'}:min or --metric ${name || 'val_loss'}:max (min when left out)`);
  }
  if (name === '') throw new UsageError(`--metric: expected a metric name, optionally with :min or :max, got ${JSON.stringify(text)}`);
  return { name, mode };
}

/**
 * A --metric the logs never logged leaves every figure blank: refused, naming the metrics they have.
 * Only when no policy observed it, so the second read of the logs happens only on this error path.
 */
async function checkMetricLogged(metric: MetricChoice, result: SimulationResult, logs: readonly FitLog[], skipBad: boolean): Promise<void> {
  if (result.policies.some((p) => p.bestObserved !== null)) return;
  const names = await logMetricNames(logs, { bad: { skipBad } });
  if ([metric.name, `${metric.name}_epoch`, `${metric.name}_step`].some((n) => names.includes(n))) return;
  const shown = names.slice(0, 20).join(', ') + (names.length > 20 ? `, ... (${names.length} in all)` : '');
  throw new UsageError(`--metric ${metric.name}: the log has no metric '${metric.name}'${didYouMean(metric.name, names)}; ${names.length ? `its metrics are: ${shown}` : 'it has no metric values'}`);
}

/** Why the report cannot be written at `file`, checked before the simulation runs (which can take a while). */
function htmlTargetProblem(file: string): string | null {
  const stat = (p: string) => {
    try {
      return statSync(p);
    } catch {
      return undefined; // missing, or a file where a folder should be (ENOTDIR): told apart below
    }
  };
  const path = resolve(file);
  const st = stat(path);
  if (st?.isDirectory()) return `${file} is a folder; give the report's file name, e.g. --html ${file.replace(/\/+$/, '')}/report.html`;
  const dir = dirname(path);
  const parent = stat(dir);
  if (parent === undefined) return `cannot write ${file}: the folder ${dir} does not exist (create it first)`;
  if (!parent.isDirectory()) return `cannot write ${file}: ${dir} is not a folder`;
  try {
    accessSync(st ? path : dir, constants.W_OK);
  } catch {
    return `cannot write ${file}: ${st ? 'the file is' : `the folder ${dir} is`} not writable`;
  }
  return null;
}

function logsOf(first: string, more: readonly string[]): FitLog[] {
  try {
    return [first, ...more].flatMap((l) => openLog(l));
  } catch (e) {
    if (e instanceof SourceError) throw new UsageError(e.message);
    throw e;
  }
}

/** A progress bar on stderr, only on a terminal and only once reading takes more than a moment. */
async function withProgress<T>(enabled: boolean, run: (progress: (done: number, total: number) => void) => Promise<T>): Promise<T> {
  if (!enabled || !process.stderr.isTTY) return run(() => {});
  const { SingleBar, Presets } = await import('cli-progress');
  let bar: InstanceType<typeof SingleBar> | null = null;
  let last = { done: 0, total: 0 };
  const started = Date.now();
  const progress = (done: number, total: number) => {
    last = { done, total };
    if (bar === null && Date.now() - started > 400 && total > 0) {
      bar = new SingleBar({ stream: process.stderr, format: 'reading logs [{bar}] {percentage}% | {value}/{total} MB', hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
      bar.start(Math.ceil(total / 1e6), 0);
    }
    bar?.update(Math.floor(last.done / 1e6));
  };
  try {
    return await run(progress);
  } finally {
    (bar as InstanceType<typeof SingleBar> | null)?.stop();
  }
}

/**
 * The runs the LOG arguments name: one run (a log, with its --resumed-log fits), or several (a
 * folder of runs, a glob, several arguments, or a folder whose event files are unrelated runs).
 */
export async function runsFrom(args: readonly string[], o: CommonOptions): Promise<{ runs: RunInput[]; several: boolean; notes: string[] }> {
  let named: { runs: RunInput[]; several: boolean }[];
  try {
    named = args.map((a) => runsOf(a));
  } catch (e) {
    if (e instanceof SourceError) throw new UsageError(e.message);
    throw e;
  }
  const notes: string[] = [];
  const runs: RunInput[] = [];
  for (const n of named) {
    for (const r of n.runs) {
      const split = await splitUnrelated(r);
      runs.push(...split.runs);
      notes.push(...split.notes);
    }
  }
  const several = runs.length > 1 || named.some((n) => n.several);
  if (several && o.resumedLog.length > 0) throw new UsageError(`--resumed-log: given with ${runs.length} runs; it names a later fit of one run (several event files in a run's folder are read as its fits)`);
  if (several && o.loggerDir !== undefined) throw new UsageError(`--logger-dir: given with ${runs.length} runs; each run's logger folder is its own log's`);
  return { runs, several, notes };
}

export function jobsOf(o: CommonOptions): number {
  // sweep.ts's defaultJobs, without loading the worker pool for a command that may not need it
  if (o.jobs === undefined) return availableParallelism();
  const n = Number(o.jobs);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--jobs: expected a whole number of threads, at least 1, got ${JSON.stringify(o.jobs)}`);
  return n;
}

/** A bar of runs done on stderr, on a terminal only. */
export async function withRunProgress<T>(enabled: boolean, run: (progress: (done: number, total: number) => void) => Promise<T>): Promise<T> {
  if (!enabled || !process.stderr.isTTY) return run(() => {});
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar({ stream: process.stderr, format: 'simulating runs [{bar}] {value}/{total} runs | {eta_formatted} left', hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
  let started = false;
  try {
    return await run((done, total) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    });
  } finally {
    if (started) bar.stop();
  }
}

/** The options every run needs checked before simulating: the working folder, --ckpt-size, a writable --html. */
function checkedCommon(o: CommonOptions): { cwd: string; size: number | null } {
  let size: number | null = null;
  if (o.ckptSize !== undefined) {
    const s = parseSize(o.ckptSize);
    if (typeof s !== 'number') throw new UsageError(`--ckpt-size: ${s.error}`);
    size = s;
  }
  if (o.html !== undefined) {
    const problem = htmlTargetProblem(o.html);
    if (problem !== null) throw new UsageError(`--html: ${problem}`);
  }
  return { cwd: resolve(o.cwd ?? process.cwd()), size };
}

async function executeSweep(policies: Policy[], runs: RunInput[], notes: string[], o: CommonOptions, compare: boolean): Promise<number> {
  const { cwd, size } = checkedCommon(o);
  const jobs = jobsOf(o);
  const { simulateRuns } = await sweepModule();
  const { renderSweepHtml, renderSweepJson, renderSweepTable } = await import('../report/sweep.ts');
  const list = (t: string | undefined) => (t === undefined ? undefined : t.split(',').map((x) => x.trim()).filter(Boolean));
  const settings = {
    policies: policies.map((p) => ({ name: p.name, config: p.config })),
    run: runFacts(o),
    cwd,
    roles: { valMetrics: list(o.valMetrics), testMetrics: list(o.testMetrics) },
    metric: metricChoice(o.metric),
    ckptSize: size,
    skipBad: o.skipBad ?? false,
  };
  const swept = await withRunProgress(o.progress !== false, (progress) => simulateRuns(runs, settings, { jobs, progress }));
  const result: SweepResult = { ...swept, notes: [...notes, ...swept.notes] };
  const layout = process.stdout.isTTY && process.stdout.columns > 0 ? { width: process.stdout.columns } : {};
  process.stdout.write(o.format === 'json' ? renderSweepJson(result) : renderSweepTable(result, layout));
  if (o.html !== undefined) {
    try {
      writeFileSync(o.html, renderSweepHtml(result, compare ? 'Checkpoint policies compared over many runs' : `Checkpoint policy ${policies[0]!.name} over many runs`));
    } catch (e) {
      throw new UsageError(`--html: cannot write ${o.html}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    process.stderr.write(`wrote ${o.html}\n`);
  }
  const unread = result.runs.filter((r) => r.kind === 'unreadable');
  if (unread.length > 0) {
    process.stderr.write(`ckpt: ${unread.length} of ${result.runs.length} runs could not be read: ${unread.slice(0, 3).map((r) => (r.kind === 'unreadable' ? r.problem : '')).join('; ')}${unread.length > 3 ? '; ...' : ''}\n`);
    return 1;
  }
  const raised = result.totals.filter((t) => t.runsRaised > 0);
  if (raised.length === 0) return 0;
  process.stderr.write(`ckpt: ${raised.map((t) => `${t.name}: Lightning would raise in ${t.runsRaised} of ${t.runs} runs`).join('; ')} (exit code ${EXIT_FRAMEWORK_RAISED})\n`);
  return EXIT_FRAMEWORK_RAISED;
}

/** One run in full (every decision), or several as summary rows (Lightning policies only). */
async function executeAny(all: AnyPolicy[], logArgs: readonly string[], o: CommonOptions, compare: boolean): Promise<number> {
  const dialects = all.filter((p): p is Extract<AnyPolicy, { dialect: DialectPolicy['dialect'] }> => p.dialect !== 'lightning');
  const policies: Policy[] = all.flatMap((p) => (p.dialect === 'lightning' ? [{ name: p.name, config: p.config, source: p.source }] : []));
  if (dialects.length === 0) {
    const { runs, several, notes } = await runsFrom(logArgs, o);
    if (several) return executeSweep(policies, runs, notes, o, compare);
    return execute(all, logArgs[0]!, null, o, compare);
  }
  const named = dialects.map((p) => `${p.name} (dialect: ${p.dialect})`).join(', ');
  if (logArgs.length > 1) throw new UsageError(`${named}: Keras, Orbax and Trainer policies are replayed on one log at a time; got ${logArgs.length} logs`);
  if (o.resumedLog.length > 0) throw new UsageError(`--resumed-log: ${named} read one log; a resumed run's later fits are for Lightning policies only`);
  const { detectLog, sourceName } = await dialectsModule();
  const source = await detectLog(logArgs[0]!);
  if (source._tag === 'LightningLog') {
    const { several } = await runsFrom(logArgs, o);
    if (several) throw new UsageError(`${named}: ${logArgs[0]} holds several runs; Keras, Orbax and Trainer policies are replayed on one run's log (give one version folder or file)`);
  } else if (policies.length > 0) {
    throw new UsageError(`${policies.map((p) => p.name).join(', ')} (dialect: lightning): ${logArgs[0]} is a ${sourceName(source)}, which Lightning policies cannot be replayed on; Lightning reads metrics.csv (CSVLogger), events.out.tfevents.* files or folders (TensorBoardLogger) and .jsonl loop events`);
  }
  return execute(all, logArgs[0]!, source, o, compare);
}

/**
 * `--trainer` for a Trainer policy: the run's TrainingArguments as JSON or YAML (its
 * `training_args` dump, say), under the policy's own keys. Keras and Orbax policies read no loop
 * facts, so a --trainer given only to them is refused rather than ignored.
 */
function trainingArguments(all: readonly AnyPolicy[], o: CommonOptions): Record<string, unknown> {
  if (o.trainer === undefined) return {};
  const dialects = new Set(all.map((p) => p.dialect));
  if (!dialects.has('transformers')) {
    if (dialects.has('lightning')) return {};
    throw new UsageError(`--trainer: Keras and Orbax policies read no loop facts from it (it holds Lightning Trainer facts, or a Trainer policy's TrainingArguments); leave it out`);
  }
  if (dialects.has('lightning')) throw new UsageError('--trainer: with both Lightning and Trainer policies it is ambiguous (Lightning Trainer facts, or TrainingArguments?); give the TrainingArguments in the Trainer policy file instead');
  const text = readTrainerFile(o.trainer);
  if (typeof text !== 'string') throw new UsageError(`${o.trainer}: ${text.problem}`);
  const parsed = parseStructured(text, o.trainer);
  if (!parsed.ok) throw issuesError(parsed.issues);
  const v = parsed.doc.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${o.trainer}: expected a mapping of TrainingArguments (save_strategy, save_steps, save_total_limit, ...)`);
  return v as Record<string, unknown>;
}

/** A dialect's reader or options error, as a usage error naming the file, the field and what is wrong. */
async function dialectError(e: unknown): Promise<never> {
  const [{ KerasLogError }, { KerasOptionsError }, { StepLogError }, { OrbaxSimulationError }, { TrainerStateError }, { UnreadableLog }, { TrainerArgsError }] = await Promise.all([
    import('../dialects/keras/log.ts'),
    import('../dialects/keras/options.ts'),
    import('../dialects/orbax/stepLogs.ts'),
    import('../dialects/orbax/simulate.ts'),
    import('../dialects/transformers/trainerState.ts'),
    import('../simulate/dialects/context.ts'),
    import('../simulate/dialects/transformers.ts'),
  ]);
  if (e instanceof UnreadableLog || e instanceof KerasLogError || e instanceof StepLogError || e instanceof TrainerStateError || e instanceof OrbaxSimulationError || e instanceof KerasOptionsError || e instanceof TrainerArgsError || e instanceof SourceError) throw new UsageError(e.message);
  throw e;
}

/**
 * Every policy on one log: Lightning's through the simulator (src/simulate/run.ts), the others
 * through their dialect's adapter (src/simulate/dialects/), in one report in the order given.
 */
async function execute(all: readonly AnyPolicy[], log: string, source: LogSource | null, o: CommonOptions, compare: boolean): Promise<number> {
  const { cwd, size } = checkedCommon(o);
  const metric = metricChoice(o.metric);
  const lightning = all.flatMap((p) => (p.dialect === 'lightning' ? [p] : []));
  const lightningResult = lightning.length > 0 ? await executeLightning(lightning, log, o, cwd, size, metric) : null;
  const outputs = new Map<number, AdapterOutput>();
  if (source !== null) {
    const list = (t: string | undefined) => (t === undefined ? undefined : t.split(',').map((x) => x.trim()).filter(Boolean));
    const nb = o.numTrainingBatches === undefined ? null : Number(o.numTrainingBatches);
    if (nb !== null && !(Number.isInteger(nb) && nb > 0)) throw new UsageError(`--num-training-batches: expected a whole number of batches, at least 1, got ${JSON.stringify(o.numTrainingBatches)}`);
    const { runDialect } = await dialectsModule();
    const ctx = { source, metric, ckptSize: size, roles: { valMetrics: list(o.valMetrics), testMetrics: list(o.testMetrics) }, numTrainingBatches: nb, trainingArguments: trainingArguments(all, o) };
    for (const [i, p] of all.entries()) {
      if (p.dialect === 'lightning') continue;
      try {
        outputs.set(i, await runDialect(p, ctx));
      } catch (e) {
        await dialectError(e);
      }
    }
  }
  const fits: ReportFit[] = lightningResult ? [...lightningResult.fits] : [];
  const series = new Map(lightningResult?.series ?? []);
  for (const out of outputs.values()) {
    const fit = { ...out.fit, log: isAbsolute(out.fit.log) ? rel(out.fit.log, cwd) : out.fit.log };
    const same = fits.findIndex((f) => f.log === fit.log && f.kind === fit.kind && f.readBy);
    if (same < 0) fits.push({ ...fit, readBy: [out.result.name] });
    else fits[same] = { ...fits[same]!, readBy: [...fits[same]!.readBy!, out.result.name] };
    if (out.series && !series.has(out.series.metric)) series.set(out.series.metric, out.series.points);
  }
  let li = 0;
  const lightningPolicies = lightningResult ? lightningReport(lightningResult).policies : [];
  const policies: ReportPolicy[] = all.map((p, i) => (p.dialect === 'lightning' ? lightningPolicies[li++]! : outputs.get(i)!.result));
  const result: Report = {
    cwd,
    fits,
    notes: lightningResult?.notes ?? [],
    skipped: lightningResult?.skipped ?? { count: 0, examples: [] },
    ckptSize: size,
    policies,
    series,
  };
  // on a terminal, tables fit its width; piped or redirected, every cell stays on one line
  const layout = process.stdout.isTTY && process.stdout.columns > 0 ? { width: process.stdout.columns } : {};
  if (o.format === 'json') process.stdout.write((await import('../report/json.ts')).renderJson(result));
  else {
    const { renderCompareTable, renderSimulateTable } = await import('../report/table.ts');
    process.stdout.write(compare ? renderCompareTable(result, layout) : renderSimulateTable(result, layout));
  }
  if (o.html !== undefined) {
    const { renderHtml } = await import('../report/html.ts');
    const page = await renderHtml(result, compare ? 'Checkpoint policies compared' : `Checkpoint policy simulation: ${all[0]!.name}`);
    try {
      writeFileSync(o.html, page);
    } catch (e) {
      // checked above, but the folder can change while the simulation runs
      throw new UsageError(`--html: cannot write ${o.html}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    process.stderr.write(`wrote ${o.html}\n`);
  }
  const raised = result.policies.filter((p) => p.errors.length > 0);
  if (raised.length === 0) return 0;
  process.stderr.write(`ckpt: ${raised.map((p) => `${p.name}: ${FRAMEWORK[p.dialect]} would raise ${p.errors[0]!.errorType}`).join('; ')} (exit code ${EXIT_FRAMEWORK_RAISED})\n`);
  return EXIT_FRAMEWORK_RAISED;
}

async function executeLightning(policies: readonly Policy[], log: string, o: CommonOptions, cwd: string, size: number | null, metric: MetricChoice | null): Promise<SimulationResult> {
  const logs = logsOf(log, o.resumedLog);
  const run = runFacts(o);
  const list = (t: string | undefined) => (t === undefined ? undefined : t.split(',').map((x) => x.trim()).filter(Boolean));
  let result: SimulationResult;
  try {
    result = await withProgress(o.progress !== false, (progress) =>
      simulate({
        policies: policies.map((p) => ({ name: p.name, config: p.config })),
        logs,
        run,
        cwd,
        loggerDir: o.loggerDir ?? null,
        roles: { valMetrics: list(o.valMetrics), testMetrics: list(o.testMetrics) },
        metric,
        ckptSize: size,
        skipBad: o.skipBad ?? false,
        progress,
      }),
    );
  } catch (e) {
    if (e instanceof SourceError) throw new UsageError(`${e.message}${o.skipBad || !e.skippable ? '' : '\n(--skip-bad skips malformed records and counts them)'}`);
    throw e;
  }
  if (metric !== null) await checkMetricLogged(metric, result, logs, o.skipBad ?? false);
  return result;
}

/** A word as it is typed in a POSIX shell, for commands the messages suggest. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

export function fail(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`ckpt: ${e.message}\n`);
    return 1;
  }
  throw e;
}

export function registerSimulate(program: Command): void {
  addCommon(
    program
      .command('simulate')
      .argument('<log...>', "metrics.csv, an events.out.tfevents.* file or folder, or a .jsonl of loop events; a folder of runs (lightning_logs/ with version_N folders), a glob ('runs/*/metrics.csv') or several logs: one summary row per run. Keras, Orbax and Trainer policies also read Keras CSVLogger/History/TensorBoard logs, JSONL or TensorBoard step logs, trainer_state.json")
      .description(SUMMARY.simulate)
      .option('--policy <file|inline>', 'the policy: a JSON/YAML file or inline text with ModelCheckpoint option names (default: Lightning\'s defaults); with dialect: keras, orbax or transformers, that framework\'s options (docs/simulate.md, "Dialects")'),
  ).action(async (logs: string[], o: CommonOptions & { policy?: string }) => {
    try {
      const p = await readAnyPolicyArgLazy(o.policy, o.set);
      if (E.isLeft(p)) throw issuesError(p.left);
      process.exitCode = await executeAny([p.right], logs, o, false);
    } catch (e) {
      process.exitCode = fail(e);
    }
  });

  addCommon(
    program
      .command('compare')
      .argument('<policies-and-log...>', 'two or more policies (files or inline JSON/YAML), then the log')
      .description(SUMMARY.compare),
  ).action(async (args: string[], o: CommonOptions) => {
    try {
      if (args.length < 3) {
        throw new UsageError(
          args.length < 2
            ? 'compare: give two or more policies and then the log (ckpt compare P1 P2 ... LOG)'
            : `compare: give two or more policies and then the log (ckpt compare P1 P2 ... LOG); got one policy: to replay one policy, use ckpt simulate --policy ${shellWord(args[0]!)} ${shellWord(args[1]!)}`,
        );
      }
      const log = args[args.length - 1]!;
      const policies: AnyPolicy[] = [];
      const issues: TextIssue[] = [];
      for (const a of args.slice(0, -1)) {
        const p = await readAnyPolicyArgLazy(a, o.set);
        if (E.isLeft(p)) issues.push(...p.left);
        else policies.push(p.right);
      }
      if (issues.length) throw issuesError(issues);
      // the same name twice (two files called policy.yaml) gets a number
      const seen = new Map<string, number>();
      const named = policies.map((p) => {
        const n = (seen.get(p.name) ?? 0) + 1;
        seen.set(p.name, n);
        return n === 1 ? p : { ...p, name: `${p.name} (${n})` };
      });
      process.exitCode = await executeAny(named, [log], o, true);
    } catch (e) {
      process.exitCode = fail(e);
    }
  });
}
