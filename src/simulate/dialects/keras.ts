/**
 * A Keras `ModelCheckpoint` policy in the common report: `simulateKerasLog` on the log's epochs
 * (CSVLogger CSV, History JSON, Keras TensorBoard files, or a Lightning log mapped to epochs).
 * Keras never deletes: a path written again is overwritten in place, so the files kept are the
 * paths written, each holding its last write.
 */
import { readCsvLoggerFile } from '../../dialects/keras/csvLogger.ts';
import { readHistoryFile } from '../../dialects/keras/history.ts';
import type { KerasLog } from '../../dialects/keras/log.ts';
import { simulateKerasLog, type EpochAction } from '../../dialects/keras/simulate.ts';
import { metricFromName } from '../../dialects/keras/rules/directionByName.ts';
import { isArray, logGet } from '../../dialects/keras/values.ts';
import type { KeptFile, MetricChoice } from '../run.ts';
import { num } from '../../report/table.ts';
import type { Undetermined } from '../world.ts';
import { fitOf, UnreadableLog, type AdapterContext, type AdapterOutput, type DialectPolicy } from './context.ts';
import { readLightningLog } from './fromLightningLog.ts';
import { readKerasTfevents } from './kerasTfevents.ts';
import { regretFigures, seriesOf, type DialectSave, type Observation } from './result.ts';

export const KERAS_READS = ['Keras CSVLogger CSV', 'Keras History JSON', "Keras TensorBoard event files (a log_dir with train/ and validation/)", 'a Lightning metrics.csv or TensorBoard log (mapped to epochs)'];

interface EpochLog {
  readonly log: KerasLog;
  readonly kind: string;
  /** the report's step of an epoch row */
  readonly stepOf: (fit: number, epoch: number) => number;
  readonly mapping: string[];
}

async function epochLog(policy: DialectPolicy, ctx: AdapterContext): Promise<EpochLog> {
  const s = ctx.source;
  const byRow = (log: KerasLog) => {
    const index = new Map(log.epochs.map((e, i) => [`${e.fit}:${e.epoch}`, i]));
    return (fit: number, epoch: number) => index.get(`${fit}:${epoch}`) ?? epoch;
  };
  const noSteps = 'a Keras log holds no global steps: the step column counts epoch rows (0-based, across fits)';
  switch (s._tag) {
    case 'KerasCsv': {
      const log = await readCsvLoggerFile(s.path);
      return { log, kind: 'Keras CSVLogger', stepOf: byRow(log), mapping: [noSteps] };
    }
    case 'KerasHistory': {
      const log = readHistoryFile(s.path);
      return { log, kind: 'Keras History', stepOf: byRow(log), mapping: [noSteps] };
    }
    case 'KerasTensorBoard': {
      const { log, skipped } = await readKerasTfevents(s.files, s.path);
      const left = [...(skipped.batch ? [`${skipped.batch} batch_* scalars`] : []), ...(skipped.evaluation ? [`${skipped.evaluation} evaluation_*_vs_iterations scalars`] : [])];
      return {
        log,
        kind: 'Keras TensorBoard',
        stepOf: byRow(log),
        mapping: [noSteps, "epoch logs from the epoch_* scalars at step = epoch: train/ as the key, validation/ as val_<key>", ...(left.length ? [`not epoch logs, left out: ${left.join(', ')}`] : [])],
      };
    }
    case 'LightningLog': {
      if (s.format === 'loop events') break;
      const v = await readLightningLog(s.path, { roles: ctx.roles });
      return {
        log: v.keras,
        kind: `Lightning ${s.format} as Keras epochs`,
        stepOf: (_fit, epoch) => v.epochEndStep.get(epoch) ?? 0,
        mapping: [
          "one on_epoch_end per Lightning epoch; its logs are the latest value of each metric logged in that epoch (train and validation rows; test metrics and rows without an epoch left out), under the log's names",
          "the step of an epoch is the global step its last row was logged after (the step in Lightning's checkpoint names)",
        ],
      };
    }
    case 'StepsJsonl':
    case 'StepsTensorBoard':
    case 'TrainerState':
      break;
  }
  throw new UnreadableLog('keras', policy.name, s, KERAS_READS);
}

function why(a: Exclude<EpochAction, { _tag: 'NotSaved' }>): string {
  const r = a.reason;
  const base =
    r.kind === 'always' ? 'save_best_only=False: saved at every epoch end'
    : r.kind === 'improved' ? `${r.monitor} improved from ${r.previous === null ? 'inf' : num(r.previous)} to ${num(r.current)}`
    : r.kind === 'monitorMissing' ? `save_best_only with ${r.monitor ?? 'no monitor'} missing from the epoch's logs: Keras saves anyway (and warns)`
    : `${r.monitor} is not a scalar: Keras saves anyway (and warns)`;
  return a._tag === 'Overwrote' ? `${base}; overwrites the file written at epoch ${a.previous.epoch}${a.previous.fit ? ` of fit ${a.previous.fit}` : ''}` : base;
}

/** The figures' metric: --metric, else the monitor with its mode (given, or decided by the name as Keras's 'auto' does). */
function metricOf(options: Readonly<Record<string, unknown>>, chosen: MetricChoice | null): MetricChoice | null {
  if (chosen) return chosen;
  const monitor = typeof options['monitor'] === 'string' ? options['monitor'] : 'val_loss';
  const mode = options['mode'];
  if (mode === 'min' || mode === 'max') return { name: monitor, mode };
  const m = metricFromName(monitor);
  if (m === null) return null;
  return { name: monitor, mode: m === 'loss' || m.direction === 'down' ? 'min' : 'max' };
}

export async function runKeras(policy: DialectPolicy, ctx: AdapterContext): Promise<AdapterOutput> {
  const { log, kind, stepOf, mapping } = await epochLog(policy, ctx);
  const sim = simulateKerasLog(policy.options, log);
  const metric = metricOf(policy.options, ctx.metric);
  const valueAt = (logs: KerasLog['epochs'][number]['logs']): number | null => {
    if (metric === null) return null;
    const v = logGet(logs, metric.name);
    return v === undefined || isArray(v) ? null : v;
  };
  const obs: Observation[] = [];
  const valueOf = new Map<string, number | null>();
  for (const e of log.epochs) {
    const v = valueAt(e.logs);
    valueOf.set(`${e.fit}:${e.epoch}`, v);
    if (v !== null) obs.push({ epoch: e.epoch, step: stepOf(e.fit, e.epoch), value: v });
  }
  const saves: DialectSave[] = [];
  const undetermined: Undetermined[] = [];
  const errors: AdapterOutput['result']['errors'][number][] = [];
  const warnings: string[] = [];
  let kept: KeptFile[] = [];
  let lastPath: string | null = null;
  if (sim._tag === 'ConstructionFailed') errors.push({ fit: 0, epoch: 0, step: 0, errorType: sim.error.type, message: sim.error.message });
  else if (sim._tag === 'Undetermined') undetermined.push({ fit: 0, epoch: null, step: null, decision: `every save (${sim.what})`, reason: sim.message });
  else {
    for (const e of sim.epochs) {
      if (e.action._tag === 'NotSaved') continue;
      saves.push({ seq: saves.length, fit: e.fit, epoch: e.epoch, step: stepOf(e.fit, e.epoch), path: e.action.filepath, overwrote: e.action._tag === 'Overwrote', why: why(e.action), score: e.value, metricValue: valueOf.get(`${e.fit}:${e.epoch}`) ?? null });
    }
    kept = sim.files
      .map((f) => ({ path: f.filepath, type: 'file' as const, score: f.value, metricValue: valueOf.get(`${f.fit}:${f.epoch}`) ?? null, epoch: f.epoch, step: stepOf(f.fit, f.epoch) }))
      .sort((a, b) => a.step - b.step || (a.path < b.path ? -1 : 1));
    lastPath = sim.lastWritten?.filepath ?? null;
    for (const m of sim.messages) if (m.level === 'warning' && !warnings.includes(m.message)) warnings.push(m.message);
    if (sim.stopped) errors.push({ fit: sim.stopped.fit, epoch: sim.stopped.epoch, step: stepOf(sim.stopped.fit, sim.stopped.epoch), errorType: sim.stopped.error.type, message: sim.stopped.error.message });
  }
  const figures = regretFigures(metric, obs, kept);
  const bestFile = sim._tag === 'Simulated' && sim.best ? kept.find((k) => k.epoch === sim.best!.epoch && sim.files.some((f) => f.filepath === k.path && f.fit === sim.best!.fit && f.epoch === sim.best!.epoch)) : undefined;
  const size = ctx.ckptSize;
  return {
    result: {
      dialect: 'keras',
      name: policy.name,
      options: policy.options,
      metric,
      saves,
      removals: [],
      kept,
      best: bestFile ? { path: bestFile.path, score: bestFile.score } : null,
      lastPath,
      ...figures,
      checkpointsWritten: saves.length,
      linksWritten: 0,
      peakFiles: kept.length,
      bytesWritten: size === null ? null : saves.length * size,
      peakBytes: size === null ? null : kept.length * size,
      undetermined,
      errors,
      warnings,
      mapping,
    },
    fit: fitOf(ctx.source.path, kind, log.epochs.length),
    series: metric === null ? null : { metric: metric.name, points: seriesOf(obs) },
  };
}
