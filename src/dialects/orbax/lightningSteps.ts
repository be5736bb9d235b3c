/**
 * The same log of steps through the core's Lightning ModelCheckpoint, for comparing an Orbax policy
 * with a Lightning one: one `setup` in an empty directory, then `trainBatchEnded` at each step with the
 * step as `global_step` and the step's metrics as `callback_metrics` (a loop validating before every
 * step-triggered save, as `every_n_train_steps` with per-step metrics assumes).
 */
import { parseConfig } from '../../core/config.ts';
import { init, reduce } from '../../core/reduce.ts';
import type { OrbaxStep, StepValue } from './simulate.ts';

export interface LightningStepsResult {
  /** steps a checkpoint file was written at (save effects), in order; `last.ckpt` is reported apart */
  readonly saved: number[];
  readonly deleted: number[];
  /** steps whose files remain, ascending */
  readonly kept: number[];
  readonly best: { readonly metric: string; readonly mode: 'min' | 'max'; readonly kept: StepValue | null; readonly observed: StepValue | null } | null;
  readonly errors: string[];
}

/**
 * `options` are ModelCheckpoint's arguments (`parseConfig`). The step of a file is read from its name,
 * so `filename` must contain `{step}` (the default `{epoch}-{step}` does).
 */
export function simulateLightningSteps(options: Record<string, unknown>, steps: Iterable<OrbaxStep>): LightningStepsResult {
  const config = parseConfig({ dirpath: '/ckpt', ...options });
  let [state] = init(config, { cwd: '/' });
  [state] = reduce(state, { type: 'setup', files: [] });
  const stepOfPath = (p: string): number | null => {
    const m = /step=(\d+)/.exec(p);
    return m === null ? null : Number(m[1]);
  };
  const files = new Map<string, number>();
  const saved: number[] = [];
  const errors: string[] = [];
  const monitor = typeof options['monitor'] === 'string' ? options['monitor'] : null;
  const mode = options['mode'] === 'max' ? 'max' : 'min';
  const values = new Map<number, number>();
  let observed: StepValue | null = null;
  const better = (a: number, b: number) => (mode === 'min' ? a < b : a > b);
  for (const s of steps) {
    const [next, effects] = reduce(state, { type: 'trainBatchEnded', view: { epoch: 0, globalStep: s.step, ...(s.time !== undefined ? { time: s.time } : {}), metrics: s.metrics ?? {} } });
    state = next;
    const v = monitor !== null ? s.metrics?.[monitor] : undefined;
    if (v !== undefined && !Number.isNaN(v)) {
      values.set(s.step, v);
      if (observed === null || better(v, observed.value)) observed = { step: s.step, value: v };
    }
    for (const e of effects) {
      if (e.type === 'error') errors.push(`${e.errorType}: ${e.message}`);
      if (e.type !== 'save' && e.type !== 'remove') continue;
      const st = stepOfPath(e.path);
      if (st === null || e.path.endsWith('/last.ckpt')) continue;
      if (e.type === 'save') {
        files.set(e.path, st);
        saved.push(st);
      } else files.delete(e.path);
    }
  }
  const kept = [...new Set(files.values())].sort((a, b) => a - b);
  const keptSet = new Set(kept);
  let bestKept: StepValue | null = null;
  for (const k of kept) {
    const v = values.get(k);
    if (v !== undefined && (bestKept === null || better(v, bestKept.value))) bestKept = { step: k, value: v };
  }
  return { saved, deleted: saved.filter((x) => !keptSet.has(x)), kept, best: monitor === null ? null : { metric: monitor, mode, kept: bestKept, observed }, errors };
}
