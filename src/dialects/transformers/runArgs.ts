/**
 * The arguments of a run, as far as its trainer_state.json holds them: save/eval/logging steps, the
 * eval strategy its evaluations show, the metric whose value best_metric is. What the file never
 * holds (save_total_limit, load_best_model_at_end) stays at transformers' default and is named in
 * `unknown`; arguments the user gives (transformers' names) take precedence over everything derived.
 */
import { resolveArgs, type ArgsIssue, type ResolvedArgs } from './args.ts';
import type { TrainerStateLog } from './trainerState.ts';

export type RunArgs = { ok: true; args: ResolvedArgs; derived: Readonly<Record<string, unknown>>; unknown: readonly string[] } | { ok: false; issues: readonly ArgsIssue[]; derived: Readonly<Record<string, unknown>> };

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

export function argsFromTrainerState(log: TrainerStateLog, given: Readonly<Record<string, unknown>> = {}): RunArgs {
  const has = (k: string, camel: string) => k in given || camel in given;
  const derived: Record<string, unknown> = {};
  const unknown: string[] = [];
  const evalSteps = log.logHistory.filter((e) => e.kind === 'eval').map((e) => e.step);
  if (!has('save_steps', 'saveSteps')) {
    if (log.saveSteps !== null) derived['save_steps'] = log.saveSteps;
    else unknown.push('save_steps (not in this older trainer_state.json format; give it in the arguments)');
  }
  if (!has('logging_steps', 'loggingSteps') && log.loggingSteps !== null) derived['logging_steps'] = log.loggingSteps;
  if (!has('eval_strategy', 'evalStrategy') && evalSteps.length > 0) {
    const atEpochEnds = log.logHistory.every((e) => e.kind !== 'eval' || (e.epoch !== null && Number.isInteger(e.epoch)));
    const every = log.evalSteps ?? evalSteps.reduce(gcd);
    const onCadence = evalSteps.every((s) => s % every === 0 || s === log.maxSteps);
    if (onCadence && !(atEpochEnds && log.evalSteps !== null && evalSteps.some((s) => s % log.evalSteps! !== 0))) {
      derived['eval_strategy'] = 'steps';
      if (!has('eval_steps', 'evalSteps')) derived['eval_steps'] = every;
    } else if (atEpochEnds) derived['eval_strategy'] = 'epoch';
    else unknown.push(`eval_strategy (evaluations at steps ${evalSteps.slice(0, 5).join(', ')}… follow no cadence)`);
  }
  if (!has('metric_for_best_model', 'metricForBestModel') && log.bestMetric !== null) {
    const keys = new Set<string>();
    for (const e of log.logHistory) if (e.kind === 'eval') for (const [k, v] of Object.entries(e.metrics)) if (v === log.bestMetric || (Number.isNaN(v) && Number.isNaN(log.bestMetric))) keys.add(k);
    const [key, ...others] = [...keys];
    if (key !== undefined && others.length === 0) {
      derived['metric_for_best_model'] = key;
      if (!has('greater_is_better', 'greaterIsBetter')) {
        const values = log.logHistory.flatMap((e) => (e.kind === 'eval' && key in e.metrics ? [e.metrics[key]!] : []));
        const isMin = values.every((v) => !(v < log.bestMetric!));
        const isMax = values.every((v) => !(v > log.bestMetric!));
        if (isMin !== isMax) derived['greater_is_better'] = isMax;
      }
    } else unknown.push(`metric_for_best_model (best_metric ${log.bestMetric} is ${key === undefined ? 'no logged eval value' : `the value of ${[...keys].join(', ')}`})`);
  }
  if (!has('save_total_limit', 'saveTotalLimit')) unknown.push('save_total_limit (trainer_state.json does not record it; None assumed: every save kept)');
  if (!has('load_best_model_at_end', 'loadBestModelAtEnd')) unknown.push('load_best_model_at_end (not recorded; False assumed)');
  const r = resolveArgs({ ...derived, ...given });
  if (!r.ok) return { ok: false, issues: r.issues, derived };
  return { ok: true, args: r.value.args, derived, unknown };
}
