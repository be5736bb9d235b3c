/**
 * An Orbax `CheckpointManager` policy in the common report: `simulateOrbaxSteps` on the log's steps
 * (a JSONL or TensorBoard step log, or a Lightning log mapped to steps). A checkpoint is the step's
 * folder, named by the step as Orbax's default step_name_format does.
 */
import { readOrbaxStepsJsonl, readOrbaxStepsTfevents } from '../../dialects/orbax/stepLogs.ts';
import { simulateOrbaxSteps, type OrbaxStep } from '../../dialects/orbax/simulate.ts';
import type { KeptFile, MetricChoice } from '../run.ts';
import type { Undetermined } from '../world.ts';
import { fitOf, UnreadableLog, type AdapterContext, type AdapterOutput, type DialectPolicy } from './context.ts';
import { readLightningLog } from './fromLightningLog.ts';
import { regretFigures, seriesOf, type DialectRemoval, type DialectSave, type Observation } from './result.ts';

export const ORBAX_READS = ['JSONL step logs ({step, time?, metrics} lines)', 'TensorBoard step logs', 'a Lightning metrics.csv or TensorBoard log (mapped to steps)'];

interface StepLog {
  readonly steps: readonly (OrbaxStep & { readonly epoch?: number })[];
  readonly kind: string;
  readonly mapping: string[];
  readonly undetermined: Undetermined[];
}

async function stepLog(policy: DialectPolicy, ctx: AdapterContext): Promise<StepLog> {
  const s = ctx.source;
  switch (s._tag) {
    case 'StepsJsonl':
      return { steps: await readOrbaxStepsJsonl(s.path), kind: 'JSONL steps', mapping: ['save(step, metrics) at every step of the log, synchronous; step logs have no epochs (the epoch column is 0)'], undetermined: [] };
    case 'StepsTensorBoard': {
      const steps: OrbaxStep[] = [];
      for (const f of s.files) steps.push(...(await readOrbaxStepsTfevents(f)));
      return { steps, kind: 'TensorBoard steps', mapping: ["save(step, metrics) at every step with scalars, its time the step's latest wall time; no epochs (the epoch column is 0)"], undetermined: [] };
    }
    case 'LightningLog': {
      if (s.format === 'loop events') break;
      const v = await readLightningLog(s.path, { roles: ctx.roles });
      // a policy that judges by a metric gets it at each evaluation: save() between them, without
      // it, makes Orbax's best_fn raise KeyError at the first step, a loop no one ran
      const judged = policyMetric(policy.options);
      const valSteps = v.steps.filter((x) => judged !== null && x.metrics !== undefined && judged in x.metrics);
      const calls = valSteps.length > 0 ? valSteps : v.steps;
      const undetermined: Undetermined[] = [];
      const last = v.steps.at(-1)?.step ?? 0;
      if (calls.length < last) {
        undetermined.push({
          fit: 0,
          epoch: null,
          step: null,
          decision: `saves at the ${last - calls.length} other steps`,
          reason: `save(step, metrics) is replayed at ${calls.length} of the steps 1..${last}; a loop that calls save at every step could also have saved (and removed) at the others`,
        });
      }
      return {
        steps: calls,
        kind: `Lightning ${s.format} as Orbax steps`,
        mapping: [
          calls === v.steps
            ? "save(step, metrics) at every logged step, step = Lightning's global step after the batch (the logged step + 1, as in its checkpoint names), with every metric logged at it"
            : `save(step, metrics) at every step that logged ${judged} (the policy judges by it: a loop passes it at each evaluation), step = Lightning's global step after the batch (the logged step + 1, as in its checkpoint names), with every metric logged at it`,
          'the log has no wall times: policies that read the clock are undetermined',
        ],
        undetermined,
      };
    }
    case 'KerasCsv':
    case 'KerasHistory':
    case 'KerasTensorBoard':
    case 'TrainerState':
      break;
  }
  throw new UnreadableLog('orbax', policy.name, s, ORBAX_READS);
}

/** The metric the policy's rules read (best_fn, else a BestN member), or null. */
function policyMetric(o: Readonly<Record<string, unknown>>): string | null {
  const fn = o['best_fn'] ?? o['bestFn'];
  if (typeof fn === 'object' && fn !== null && typeof (fn as Record<string, unknown>)['metric'] === 'string') return (fn as Record<string, string>)['metric']!;
  const find = (p: unknown): string | null => {
    if (typeof p !== 'object' || p === null) return null;
    const r = p as Record<string, unknown>;
    if (r['type'] === 'BestN' && typeof r['metric'] === 'string') return r['metric'];
    if (Array.isArray(r['policies'])) for (const c of r['policies']) if (find(c) !== null) return find(c);
    return null;
  };
  return find(o['preservation_policy'] ?? o['preservationPolicy']);
}

export async function runOrbax(policy: DialectPolicy, ctx: AdapterContext): Promise<AdapterOutput> {
  const { steps: all, kind, mapping, undetermined } = await stepLog(policy, ctx);
  const monitor = ctx.metric ? { monitor: { metric: ctx.metric.name, mode: ctx.metric.mode } } : {};
  let sim = simulateOrbaxSteps(policy.options, all, monitor);
  let steps = all;
  // Orbax raised: the loop stops there, as a Lightning run does at its first exception
  const raised = sim.events.find((e) => e.error !== undefined);
  if (raised) {
    steps = all.filter((s) => s.step <= raised.step);
    sim = simulateOrbaxSteps(policy.options, steps, monitor);
  }
  const metric: MetricChoice | null = ctx.metric ?? (sim.best ? { name: sim.best.metric, mode: sim.best.mode } : null);
  const at = new Map(steps.map((s) => [s.step, s]));
  const valueAt = (step: number): number | null => {
    const v = metric ? at.get(step)?.metrics?.[metric.name] : undefined;
    return v === undefined ? null : v;
  };
  const epochAt = (step: number) => at.get(step)?.epoch ?? 0;
  const obs: Observation[] = [];
  for (const s of steps) {
    const v = valueAt(s.step);
    if (v !== null) obs.push({ epoch: s.epoch ?? 0, step: s.step, value: v });
  }
  const saves: DialectSave[] = [];
  const removals: DialectRemoval[] = [];
  const errors: AdapterOutput['result']['errors'][number][] = [];
  let seq = 0;
  let files = 0;
  let peak = 0;
  for (const e of sim.events) {
    if (e.saved) {
      saves.push({ seq: seq++, fit: 0, epoch: epochAt(e.step), step: e.step, path: String(e.step), overwrote: false, why: `the save decision policy saves step ${e.step}${e.fixed?.length ? ` (fixes: ${e.fixed.map((f) => JSON.stringify(f)).join(', ')})` : ''}`, score: valueAt(e.step), metricValue: valueAt(e.step) });
      peak = Math.max(peak, ++files);
    }
    for (const r of e.removed) {
      removals.push({ seq: seq++, fit: 0, epoch: epochAt(e.step), step: e.step, path: String(r), why: `the preservation policy no longer keeps step ${r} after step ${e.step}` });
      files--;
    }
    if (e.error) errors.push({ fit: 0, epoch: epochAt(e.step), step: e.step, errorType: e.error.type, message: e.error.message });
  }
  if (sim.undetermined) undetermined.push({ fit: 0, epoch: null, step: sim.undetermined.fromStep, decision: `every decision from step ${sim.undetermined.fromStep} on`, reason: sim.undetermined.reason });
  const kept: KeptFile[] = sim.kept.map((k) => ({ path: String(k), type: 'file', score: valueAt(k), metricValue: valueAt(k), epoch: epochAt(k), step: k }));
  const size = ctx.ckptSize;
  return {
    result: {
      dialect: 'orbax',
      name: policy.name,
      options: policy.options,
      metric,
      saves,
      removals,
      kept,
      best: sim.best?.kept ? { path: String(sim.best.kept.step), score: sim.best.kept.value } : null,
      lastPath: kept.at(-1)?.path ?? null,
      ...regretFigures(metric, obs, kept),
      checkpointsWritten: saves.length,
      linksWritten: 0,
      peakFiles: peak,
      bytesWritten: size === null ? null : saves.length * size,
      peakBytes: size === null ? null : peak * size,
      undetermined,
      errors,
      warnings: [],
      mapping,
    },
    fit: fitOf(ctx.source.path, kind, steps.length),
    series: metric === null ? null : { metric: metric.name, points: seriesOf(obs) },
  };
}
