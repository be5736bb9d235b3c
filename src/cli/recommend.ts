/**
 * `ckpt recommend`: given logs, a checkpoint size and a budget, the policies of a grid on the
 * Pareto frontier of storage against regret over all the runs, each as text ready to paste.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { parsePolicyText, readPolicyArg } from '../policyFile.ts';
import { PolicyConfigCodec } from '../core/config.ts';
import { parseStructured } from '../sources/structuredText.ts';
import { DEFAULT_GRID, expandGrid, recommend, type Budget, type Grid } from '../simulate/recommend.ts';
import { parseSize } from '../simulate/size.ts';
import { renderRecommendJson, renderRecommendTable } from '../report/recommend.ts';
import { addCommon, fail, issuesError, jobsOf, metricChoice, runFacts, runsFrom, UsageError, withRunProgress, type CommonOptions } from './simulate.ts';
import { SUMMARY } from './commands.ts';
import { resolve } from 'node:path';

interface RecommendOptions extends CommonOptions {
  policy?: string;
  grid?: string;
  budget?: string;
}

/** `--grid`: a file or inline JSON/YAML mapping each option to the values to try (a single value is one value). */
function gridOf(text: string | undefined): Grid {
  if (text === undefined) return DEFAULT_GRID;
  const isFile = existsSync(text) && statSync(text).isFile();
  const source = isFile ? text : '--grid';
  const parsed = parseStructured(isFile ? readFileSync(text, 'utf8') : text, source);
  if (!parsed.ok) throw issuesError(parsed.issues);
  const v = parsed.doc.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${source}: expected a mapping of option names to lists of values, like '{save_top_k: [1, 3], every_n_epochs: [1, 5]}'`);
  const grid: Record<string, readonly unknown[]> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const values = Array.isArray(x) ? x : [x];
    if (values.length === 0) throw new UsageError(`${source}: ${k}: an empty list leaves no policy to try; give at least one value`);
    grid[k] = values;
  }
  return grid;
}

/** `--budget 3` (checkpoints on disk at once) or `--budget 5GB` (bytes, with --ckpt-size). */
function budgetOf(text: string | undefined, size: number | null): Budget {
  if (text === undefined) return { kind: 'none' };
  if (/^\d+$/.test(text.trim())) return { kind: 'files', max: Number(text) };
  const b = parseSize(text);
  if (typeof b !== 'number') throw new UsageError(`--budget: ${b.error}; give a number of checkpoints (3) or a size (5GB)`);
  if (size === null) throw new UsageError(`--budget ${text}: a budget in bytes needs --ckpt-size (the size of one checkpoint)`);
  return { kind: 'bytes', max: b };
}

export function registerRecommend(program: Command): void {
  addCommon(
    program
      .command('recommend')
      .argument('<log...>', 'the runs: logs, folders of runs (lightning_logs/) or globs')
      .description(SUMMARY.recommend)
      .option('--policy <file|inline>', 'the base policy the grid varies (default: Lightning\'s defaults with monitor and mode from --metric)')
      .option('--grid <file|inline>', "options and the values to try, e.g. '{save_top_k: [1, 2, 3], every_n_epochs: [1, 5]}' (default: save_top_k 1,2,3,5,-1 x every_n_epochs default,2,5,10 x save_last default,True x keep_latest none,1)")
      .option('--budget <n|size>', 'the most any one run may hold at once: checkpoints (3) or bytes (5GB, with --ckpt-size)'),
  ).action(async (logs: string[], o: RecommendOptions) => {
    try {
      if (o.html !== undefined) throw new UsageError('--html: recommend writes no HTML report; use --format json, or ckpt compare --html with the recommended policies');
      const metric = metricChoice(o.metric);
      const base0 = o.policy === undefined ? parsePolicyText('', 'inline', o.set) : readPolicyArg(o.policy, o.set);
      if (E.isLeft(base0)) throw issuesError(base0.left);
      const baseOptions = PolicyConfigCodec.encode(base0.right.config) as Record<string, unknown>;
      const monitor = (baseOptions.monitor as string | null) ?? metric?.name ?? null;
      if (monitor === null) throw new UsageError('recommend: give the metric regret is measured on (--metric val_loss or --metric val_acc:max), or a monitor with --set monitor=...');
      const m = metric ?? { name: monitor, mode: baseOptions.mode as 'min' | 'max' };
      const base = { ...baseOptions, monitor, mode: baseOptions.monitor ? baseOptions.mode : m.mode };
      let size: number | null = null;
      if (o.ckptSize !== undefined) {
        const s = parseSize(o.ckptSize);
        if (typeof s !== 'number') throw new UsageError(`--ckpt-size: ${s.error}`);
        size = s;
      }
      const budget = budgetOf(o.budget, size);
      const { policies, refused } = expandGrid(base, gridOf(o.grid));
      if (policies.length === 0) throw new UsageError(`--grid: Lightning refuses every combination, e.g. ${JSON.stringify(refused[0]?.options)}: ${refused[0]?.why}`);
      const { runs, notes } = await runsFrom(logs, o);
      const list = (t: string | undefined) => (t === undefined ? undefined : t.split(',').map((x) => x.trim()).filter(Boolean));
      const settings = { run: runFacts(o), cwd: resolve(o.cwd ?? process.cwd()), roles: { valMetrics: list(o.valMetrics), testMetrics: list(o.testMetrics) }, metric: m, ckptSize: size, skipBad: o.skipBad ?? false };
      const jobs = jobsOf(o);
      const r = await withRunProgress(o.progress !== false, (progress) => recommend(runs, settings, policies, budget, { jobs, progress }));
      const rec = { ...r, refused, sweep: { ...r.sweep, notes: [...notes, ...r.sweep.notes] } };
      const layout = process.stdout.isTTY && process.stdout.columns > 0 ? { width: process.stdout.columns } : {};
      process.stdout.write(o.format === 'json' ? renderRecommendJson(rec, budget) : renderRecommendTable(rec, budget, layout));
      const unread = rec.sweep.runs.filter((x) => x.kind === 'unreadable');
      if (unread.length > 0) {
        process.stderr.write(`ckpt: ${unread.length} of ${rec.sweep.runs.length} runs could not be read (listed in the output); the figures are over the others\n`);
        process.exitCode = 1;
      } else if (rec.frontier.length === 0) {
        process.stderr.write('ckpt: no policy of the grid fits the budget without Lightning raising; raise --budget or widen --grid\n');
        process.exitCode = 1;
      }
    } catch (e) {
      process.exitCode = fail(e);
    }
  });
}
