/**
 * A Hugging Face Trainer policy (TrainingArguments) in the common report: `simulateTrainerState`
 * on a trainer_state.json, its arguments the policy's over what the state itself records
 * (`argsFromTrainerState`), or on a Lightning log mapped to a Trainer's evaluations.
 */
import { resolveArgs, type ResolvedArgs } from '../../dialects/transformers/args.ts';
import { readTrainerStateFile } from '../../dialects/transformers/readTrainerStateFile.ts';
import { argsFromTrainerState } from '../../dialects/transformers/runArgs.ts';
import { simulateTrainerState, stepsPerEpoch } from '../../dialects/transformers/simulate.ts';
import type { TrainerStateLog } from '../../dialects/transformers/trainerState.ts';
import type { RemoveReason, SaveReason } from '../../dialects/transformers/types.ts';
import type { KeptFile, MetricChoice } from '../run.ts';
import type { Undetermined } from '../world.ts';
import { fitOf, UnreadableLog, type AdapterContext, type AdapterOutput, type DialectPolicy } from './context.ts';
import { evalKey, readLightningLog } from './fromLightningLog.ts';
import { regretFigures, seriesOf, type DialectRemoval, type DialectSave, type Observation } from './result.ts';

export const TRANSFORMERS_READS = ['trainer_state.json (a file, or a checkpoint folder holding one)', 'a Lightning metrics.csv or TensorBoard log (its validation rows as evaluations)'];

/** A problem with the policy's TrainingArguments against this log: names the field. */
export class TrainerArgsError extends Error {}

interface StateLog {
  readonly log: TrainerStateLog;
  readonly args: ResolvedArgs;
  readonly kind: string;
  readonly mapping: string[];
}

const argsError = (policy: DialectPolicy, issues: readonly { field: string | null; message: string }[]) =>
  new TrainerArgsError(issues.map((i) => `${policy.source}: ${i.field ? `${i.field}: ` : ''}${i.message}`).join('\n'));

async function stateLog(policy: DialectPolicy, ctx: AdapterContext): Promise<StateLog> {
  const s = ctx.source;
  const given = { output_dir: 'trainer_output', ...ctx.trainingArguments, ...policy.options };
  switch (s._tag) {
    case 'TrainerState': {
      const log = readTrainerStateFile(s.path);
      const a = argsFromTrainerState(log, given);
      if (!a.ok) throw argsError(policy, a.issues);
      const derived = Object.entries(a.derived).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      return {
        log,
        args: a.args,
        kind: 'trainer_state.json',
        mapping: [
          ...(derived.length ? [`from the trainer_state.json (the policy does not set them): ${derived.join(', ')}`] : []),
          ...a.unknown.map((u) => `not in the trainer_state.json nor the policy: ${u}`),
        ],
      };
    }
    case 'LightningLog': {
      if (s.format === 'loop events') break;
      const v = await readLightningLog(s.path, { roles: ctx.roles, numTrainingBatches: ctx.numTrainingBatches });
      const r = resolveArgs(given);
      if (!r.ok) throw argsError(policy, r.issues);
      const names = [...new Set(v.trainer.logHistory.flatMap((e) => (e.kind === 'eval' ? Object.keys(e.metrics) : [])))];
      return {
        log: v.trainer,
        args: r.value.args,
        kind: `Lightning ${s.format} as a Trainer's evaluations`,
        mapping: [
          `the loop runs global steps 1..${v.trainer.globalStep} (the logged step + 1); evaluations are the validation rows at the same step, each val_x as eval_x (${names.slice(0, 6).join(', ') || 'none in this log'})`,
          v.stepsPerEpoch === null ? 'steps per epoch: not shown by the log (give --num-training-batches)' : `steps per epoch: ${v.stepsPerEpoch}${ctx.numTrainingBatches !== null ? ' (--num-training-batches)' : " (from the epochs' last steps)"}`,
          'max_steps is the last logged step; output_dir holds no checkpoint from another run',
        ],
      };
    }
    case 'KerasCsv':
    case 'KerasHistory':
    case 'KerasTensorBoard':
    case 'StepsJsonl':
    case 'StepsTensorBoard':
      break;
  }
  throw new UnreadableLog('transformers', policy.name, s, TRANSFORMERS_READS);
}

function saveWhy(r: SaveReason): string {
  switch (r.rule) {
    case 'steps':
      return `save_steps=${r.saveSteps}: step ${r.step}${r.lastStep ? ' (the last step)' : ''}`;
    case 'epoch':
      return `save_strategy='epoch': end of epoch ${r.epoch}`;
    case 'best':
      return `save_strategy='best': ${r.metric} ${r.value} is a new best`;
  }
}

function removeWhy(r: RemoveReason): string {
  switch (r.rule) {
    case 'saveTotalLimit':
      return `save_total_limit=${r.configuredLimit}: older than the newest ${r.limit}${r.best ? ` (${r.best} protected as the best)` : ''}`;
    case 'limitOneAtEnd':
      return `save_total_limit=1 at the end of training: not the best (${r.best})`;
  }
}

export async function runTransformers(policy: DialectPolicy, ctx: AdapterContext): Promise<AdapterOutput> {
  const { log, args, kind, mapping } = await stateLog(policy, ctx);
  const sim = simulateTrainerState(log, args);
  const spe = stepsPerEpoch(log);
  const epochOf = (step: number) => (spe === null ? 0 : Math.floor(Math.max(0, step - 1) / spe));
  const own = args.metric_for_best_model === null ? null : args.metric_for_best_model.startsWith('eval_') ? args.metric_for_best_model : `eval_${args.metric_for_best_model}`;
  const metric: MetricChoice | null = ctx.metric ?? (own === null ? null : { name: own, mode: args.greater_is_better ? 'max' : 'min' });
  // a --metric named as the log of another framework (val_loss) reads the evaluation it became (eval_loss)
  const values = new Map<number, number>();
  const obs: Observation[] = [];
  let key: string | null = null;
  if (metric !== null) {
    const evals = log.logHistory.filter((e) => e.kind === 'eval');
    key = evals.some((e) => metric.name in e.metrics) ? metric.name : evals.some((e) => evalKey(metric.name) in e.metrics) ? evalKey(metric.name) : metric.name;
    for (const e of evals) {
      const v = e.metrics[key];
      if (v === undefined) continue;
      values.set(e.step, v);
      obs.push({ epoch: epochOf(e.step), step: e.step, value: v });
    }
  }
  const valueAt = (step: number) => values.get(step) ?? null;
  const stepOfFolder = (f: string) => Number(f.slice('checkpoint-'.length));
  const events = [
    ...sim.saved.map((s, i) => ({ step: s.step, order: 0, i, save: s })),
    ...sim.removed.map((r, i) => ({ step: r.atStep, order: 1, i, remove: r })),
  ].sort((a, b) => a.step - b.step || a.order - b.order || a.i - b.i);
  const saves: DialectSave[] = [];
  const removals: DialectRemoval[] = [];
  let seq = 0;
  let files = 0;
  let peak = 0;
  for (const e of events) {
    if ('save' in e && e.save) {
      saves.push({ seq: seq++, fit: 0, epoch: epochOf(e.step), step: e.step, path: e.save.folder, overwrote: false, why: saveWhy(e.save.reason), score: valueAt(e.step), metricValue: valueAt(e.step) });
      peak = Math.max(peak, ++files);
    } else if ('remove' in e && e.remove) {
      removals.push({ seq: seq++, fit: 0, epoch: epochOf(e.step), step: e.step, path: e.remove.folder, why: removeWhy(e.remove.reason) });
      files--;
    }
  }
  const kept: KeptFile[] = sim.kept.map((f) => {
    const step = stepOfFolder(f);
    return { path: f, type: 'file', score: valueAt(step), metricValue: valueAt(step), epoch: epochOf(step), step };
  });
  const undetermined: Undetermined[] = sim.undetermined.map((u) => ({ fit: 0, epoch: null, step: null, decision: u.split(':')[0]!, reason: u.slice(u.indexOf(':') + 1).trim() }));
  const size = ctx.ckptSize;
  return {
    result: {
      dialect: 'transformers',
      name: policy.name,
      options: policy.options,
      metric: metric && key ? { name: key, mode: metric.mode } : metric,
      saves,
      removals,
      kept,
      best: sim.best?.checkpoint ? { path: sim.best.checkpoint, score: sim.best.value } : null,
      lastPath: kept.at(-1)?.path ?? null,
      ...regretFigures(metric && key ? { name: key, mode: metric.mode } : metric, obs, kept),
      checkpointsWritten: saves.length,
      linksWritten: 0,
      peakFiles: peak,
      bytesWritten: size === null ? null : saves.length * size,
      peakBytes: size === null ? null : peak * size,
      undetermined,
      errors: sim.error ? [{ fit: 0, epoch: epochOf(sim.error.atStep), step: sim.error.atStep, errorType: sim.error.type, message: sim.error.message }] : [],
      warnings: [],
      // the Lightning mapping states its own loop; the mtime assumption holds for both
      mapping: [...mapping, ...sim.assumptions.filter((a) => ctx.source._tag === 'TrainerState' || a.includes('mtime')).map((a) => `assumed: ${a}`)],
    },
    fit: fitOf(ctx.source.path, kind, log.logHistory.length),
    series: metric === null || key === null ? null : { metric: key, points: seriesOf(obs) },
  };
}
