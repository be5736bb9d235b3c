/**
 * The Trainer loop and a model of its working directory, for the transformers dialect's properties
 * (transformers-rotation.test.ts, transformers-resume.test.ts): random TrainingArguments and metric
 * streams, the loop transformers runs (steps 1..max_steps, epoch ends, stop flags, train end), every
 * request answered as the world would (evaluations from the stream, saves written with their mtime,
 * trainer_state.json written as transformers writes it, bare NaN/Infinity included, and read back on
 * resume), and a record per hook of what was decided.
 *
 * Not generated, so every statement in the properties holds only without them: folders in output_dir
 * before the run (they take part in rotation), EarlyStoppingCallback, save failures.
 */
import fc from 'fast-check';
import { resolveArgs, trainerInitError, type ResolvedArgs } from '../src/dialects/transformers/args.ts';
import { listingKey, type FileEntry } from '../src/dialects/transformers/files.ts';
import { baseName } from '../src/dialects/transformers/paths.ts';
import { parsePyJson } from '../src/dialects/transformers/pyJson.ts';
import { init } from '../src/dialects/transformers/reduce.ts';
import { settle } from '../src/dialects/transformers/settle.ts';
import { reduceWithFixes, type HfFixes } from '../src/dialects/transformers/fixes.ts';
import { TrainerStateFileCodec, type HfEffect, type HfEvent, type HfState, type TrainerStateFile } from '../src/dialects/transformers/types.ts';

fc.configureGlobal({ ...fc.readConfigureGlobal(), includeErrorInReport: true });

export const runs = (n: number): number => Math.max(1, Math.round(n * Number(process.env.FC_RUNS_SCALE ?? 1)));

// ---- scenarios -------------------------------------------------------------------------------

export interface Scenario {
  /** the TrainingArguments as a user writes them */
  readonly given: Record<string, unknown>;
  readonly args: ResolvedArgs;
  /** batches per epoch */
  readonly trainBatches: number;
  /** seconds per optimizer step (under a second between saves: transformers falls back to numeric order) */
  readonly stepSeconds: number;
  /** the metric values by step (cycled): ties and NaN on purpose */
  readonly values: readonly number[];
}

const VALUES = [0.1, 0.2, 0.3, 0.5, 0.5, NaN] as const;
const interval = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(0.1, 0.25, 0.3, 0.5));

/** Arguments transformers accepts (resolveArgs and Trainer.__init__ raise nothing), with the loop facts. */
export const ScenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    given: fc.record({
      output_dir: fc.constantFrom('out', './out', 'runs/exp'),
      save_strategy: fc.constantFrom('steps', 'steps', 'epoch', 'best', 'no'),
      save_steps: interval,
      save_total_limit: fc.constantFrom(null, 0, 1, 1, 2, 3),
      eval_strategy: fc.constantFrom('steps', 'steps', 'epoch', 'no'),
      eval_steps: fc.option(interval, { nil: null }),
      eval_on_start: fc.constantFrom(false, false, false, true),
      logging_steps: fc.integer({ min: 1, max: 5 }),
      load_best_model_at_end: fc.boolean(),
      metric_for_best_model: fc.constantFrom(null, 'loss', 'loss', 'accuracy', 'eval_f1'),
      greater_is_better: fc.constantFrom(null, null, true, false),
      num_train_epochs: fc.constantFrom(1, 2, 3, 1.5),
      max_steps: fc.constantFrom(-1, -1, 7, 12),
      gradient_accumulation_steps: fc.constantFrom(1, 1, 2),
    }),
    trainBatches: fc.integer({ min: 1, max: 8 }),
    stepSeconds: fc.constantFrom<number>(0.25, 0.5, 2),
    values: fc.array(fc.constantFrom<number>(...VALUES), { minLength: 1, maxLength: 24 }),
  })
  .map((s): Scenario | null => {
    const r = resolveArgs(s.given);
    return r.ok && trainerInitError(r.value.args, { hasEvalDataset: true }) === null ? { ...s, args: r.value.args } : null;
  })
  .filter((s): s is Scenario => s !== null);

/** What evaluate() returns at a step: every metric a scenario may track, in evaluate()'s order. */
export function metricsAt(sc: Scenario, step: number): Record<string, number> {
  const v = sc.values[(step - 1 + sc.values.length) % sc.values.length]!;
  return { eval_loss: v, eval_accuracy: 1 - v, eval_f1: v * 2, epoch: step };
}

// ---- the working directory -------------------------------------------------------------------

/** Paths relative to the working directory; a directory's mtime is its creation time (nothing inside a checkpoint changes later). */
export class World {
  readonly entries = new Map<string, { kind: 'dir' | 'file'; mtime: number }>();
  /** trainer_state.json texts by path, as transformers writes them (json.dumps: bare NaN, Infinity) */
  readonly texts = new Map<string, string>();
  listing(): FileEntry[] {
    return [...this.entries].map(([path, e]) => (e.kind === 'dir' ? { path, kind: e.kind, mtime: e.mtime } : { path, kind: e.kind }));
  }
  mkdirs(p: string, t: number): void {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const q = parts.slice(0, i).join('/');
      if (!this.entries.has(q)) this.entries.set(q, { kind: 'dir', mtime: t });
    }
  }
  rmtree(p: string): void {
    for (const k of [...this.entries.keys()]) if (k === p || k.startsWith(p + '/')) this.entries.delete(k);
    for (const k of [...this.texts.keys()]) if (k.startsWith(p + '/')) this.texts.delete(k);
  }
  /** checkpoint-<n> folders directly in output_dir, by step */
  checkpoints(outputDir: string): number[] {
    const parent = listingKey(outputDir, '');
    return [...this.entries]
      .filter(([p, e]) => e.kind === 'dir' && /^checkpoint-\d+$/.test(baseName(p)) && (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '') === parent)
      .map(([p]) => Number(baseName(p).slice('checkpoint-'.length)))
      .sort((a, b) => a - b);
  }
}

/** json.dumps of the fields the policy reads back, non-finite floats bare as Python writes them. */
export function writeTrainerStateText(f: TrainerStateFile): string {
  return JSON.stringify(f, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? `@@${v}@@` : v)).replace(/"@@(NaN|Infinity|-Infinity)@@"/g, '$1');
}

export function readTrainerStateText(text: string, source: string): TrainerStateFile {
  const r = TrainerStateFileCodec.decode(parsePyJson(text, source).value);
  if (r._tag === 'Left') throw new Error(`${source}: not a trainer_state.json the dialect reads`);
  return r.right;
}

// ---- the loop ----------------------------------------------------------------------------------

export type HookName = 'begin' | 'step' | 'epoch' | 'end';

/** One hook of the loop: every effect of the event and of the answers to it, and what the world did. */
export interface HookRecord {
  readonly step: number;
  readonly hook: HookName;
  readonly effects: readonly HfEffect[];
  /** per save: the checkpoints present when the save completed, best_model_checkpoint after it, and those left after its rotation */
  readonly saves: ReadonlyArray<{ readonly step: number; readonly present: readonly number[]; readonly best: string | null; readonly left: readonly number[] }>;
  /** per evaluation that went through _determine_best_metric: the step and the value of the tracked metric */
  readonly evaluations: ReadonlyArray<{ readonly step: number; readonly metrics: Record<string, number> }>;
}

export interface Run {
  readonly state: HfState;
  readonly hooks: readonly HookRecord[];
  /** the loop's clock when it stopped */
  readonly time: number;
}

/**
 * train(): `resume` is train()'s resume_from_checkpoint; the loop runs to max_steps or a stop flag,
 * then train end, unless `killAfterStep` stops the process after that step's hooks (nothing more is
 * written: a killed job). `fixes`: the dialect's opt-in fixes (none: transformers). The world is changed in place.
 */
export function train(sc: Scenario, world: World, opts: { readonly resume: boolean | string | null; readonly startTime: number; readonly killAfterStep?: number; readonly fixes?: HfFixes }): Run {
  let time = opts.startTime;
  let [state] = init(sc.args, { cwd: '', files: world.listing(), trainBatches: sc.trainBatches, hasEvalDataset: true });
  world.mkdirs(listingKey(sc.args.output_dir, ''), time);
  const hooks: HookRecord[] = [];
  const spe = Math.max(Math.ceil(sc.trainBatches / sc.args.gradient_accumulation_steps), 1);

  const step = (ev: HfEvent, hook: HookName): void => {
    const effects: HfEffect[] = [];
    const saves: Array<HookRecord['saves'][number]> = [];
    const evaluations: Array<HookRecord['evaluations'][number]> = [];
    let save: { step: number; present: number[]; best: string | null } | null = null;
    state = settle(state, ev, (f, now) => {
      state = now;
      effects.push(f);
      // a completed save's first effect: what rotation will see, and best_model_checkpoint as the save left it
      if (f.type === 'writeTrainerState') save = { step: now.globalStep, present: world.checkpoints(sc.args.output_dir), best: now.bestModelCheckpoint };
      if (f.type === 'bestMetric') evaluations.push({ step: now.globalStep, metrics: metricsAt(sc, now.globalStep) });
      return carryOut(f);
    }, (s, e) => reduceWithFixes(s, e, opts.fixes ?? {}));
    // a hook saves at most once
    if (save !== null) saves.push({ ...(save as { step: number; present: number[]; best: string | null }), left: world.checkpoints(sc.args.output_dir) });
    hooks.push({ step: state.globalStep, hook, effects, saves, evaluations });
  };

  const carryOut = (f: HfEffect): HfEvent | null => {
    switch (f.type) {
      case 'evaluate':
        return { type: 'evaluated', metrics: metricsAt(sc, state.globalStep) };
      case 'save': {
        const p = listingKey(f.path, '');
        world.mkdirs(p, time);
        for (const n of f.files) world.entries.set(`${p}/${n}`, { kind: 'file', mtime: time });
        return { type: 'checkpointSaved', path: f.path, time, files: world.listing() };
      }
      case 'writeTrainerState': {
        const p = listingKey(f.path, '');
        world.entries.set(p, { kind: 'file', mtime: time });
        world.texts.set(p, writeTrainerStateText(f.state));
        return null;
      }
      case 'readTrainerState': {
        const p = listingKey(f.path, '');
        const text = world.texts.get(p);
        return { type: 'trainerStateRead', state: text === undefined ? null : readTrainerStateText(text, p) };
      }
      case 'remove':
        world.rmtree(listingKey(f.path, ''));
        return null;
      case 'mkdir':
        world.mkdirs(listingKey(f.path, ''), time);
        return null;
      case 'control':
      case 'bestMetric':
      case 'sort':
      case 'load':
      case 'log':
      case 'error':
        return null;
      default:
        return absurd(f);
    }
  };

  step({ type: 'trainBegan', time, files: world.listing(), resumeFromCheckpoint: opts.resume }, 'begin');
  if (state.waiting === 'failed') return { state, hooks, time };
  for (let s = state.globalStep + 1; s <= state.plan.maxSteps; s++) {
    time += sc.stepSeconds;
    const e = Math.floor((s - 1) / spe);
    const epoch = e + (s - e * spe) / spe;
    step({ type: 'stepEnded', globalStep: s, epoch, time }, 'step');
    const stop = state.control.trainingStop;
    if (s % spe === 0 || stop) step({ type: 'epochEnded', globalStep: s, epoch, time }, 'epoch');
    if (opts.killAfterStep === s) return { state, hooks, time };
    if (stop || state.control.trainingStop) break;
  }
  step({ type: 'trainEnded', time, files: world.listing() }, 'end');
  return { state, hooks, time };
}

function absurd(x: never): never {
  throw new Error(`unhandled effect ${JSON.stringify(x)}`);
}
