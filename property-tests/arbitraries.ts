/**
 * fast-check arbitraries for the core's property tests: valid ModelCheckpoint configurations (as
 * Lightning's snake_case keyword arguments and decoded) and event streams in Lightning's hook
 * order, plus a small runner that records every step (state before, state after, effects).
 *
 * Three kinds of scenario:
 * - 'fit':    a random FitPlan through `fitEvents` (random metric sequences, pre-existing files,
 *             maybe an exception that ends the run);
 * - 'resume': a first run is reduced, a checkpoint it saved is picked, and a fresh policy resumes
 *             from it (setup with the first run's files + ckpt_path, then stateLoaded with the
 *             state_dict as it was when that checkpoint was written), then trains on;
 * - 'random': loop-like but irregular streams (gradient accumulation, several validations per
 *             epoch, external file listings, odd trainer facts, stray events before setup).
 *
 * Everything is built with `.map` (no `.chain`), so fast-check shrinks every part.
 */
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import {
  decodeConfig,
  fitEvents,
  init,
  reduce,
  lightningStateDict,
  resolveCheckpointDir,
  resolveTrainer,
  type Effect,
  type FileEntry,
  type InitEnv,
  type LightningStateDict,
  type LoopEvent,
  type LoopView,
  type Metrics,
  type PolicyConfig,
  type PolicyState,
  type TrainerFacts,
} from '../src/core/index.ts';
import { fileKey } from '../src/core/files.ts';
import { pyJoin } from '../src/core/paths.ts';

// Show the failing assertion itself next to fast-check's seed, path and counterexample.
fc.configureGlobal({ ...fc.readConfigureGlobal(), includeErrorInReport: true });

// ---- constants -----------------------------------------------------------------------------

export const CWD = '/home/u/proj';
export const ENV: InitEnv = { cwd: CWD };

export const MONITORS = ['val_loss', 'val/acc', 'train_loss'] as const;

/** Realistic filename templates; several collide on purpose ('{val_loss:.3f}', '{epoch}', 'last', 'model'). */
export const TEMPLATES = [
  '{epoch}-{step}',
  '{epoch:02d}-{val_loss:.2f}',
  '{val_loss:.3f}',
  '{epoch}',
  'last',
  '{val/acc:.2f}',
  '{epoch}-{train_loss:.4f}',
  'ckpt-{step:05d}',
  'sub/{epoch}-{step}',
  'model',
] as const;

export const DIRPATHS = ['/ckpts', 'ckpts', '/runs/exp1/checkpoints/', './out/../ckpts'] as const;
export const REMOTE_DIRPATH = 's3://bucket/ckpts';

export type RawOptions = Record<string, unknown>;

/** `numRuns` for a test, scaled by FC_RUNS_SCALE (default 1) for longer local explorations. */
export function runs(n: number): number {
  return Math.max(1, Math.round(n * Number(process.env.FC_RUNS_SCALE ?? 1)));
}

// ---- options -------------------------------------------------------------------------------

const OMIT = Symbol('omit');
type Maybe<T> = T | typeof OMIT;

/** `arb` one time in `1 + noneWeight`, null otherwise. */
function sometimes<T>(arb: fc.Arbitrary<T>, noneWeight: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: noneWeight, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
}

/** A key that is left out `omitWeight` times in (omitWeight + 1)... roughly: fast-check's weighted oneof. */
function maybe<T>(arb: fc.Arbitrary<T>, omitWeight = 1, keepWeight = 2): fc.Arbitrary<Maybe<T>> {
  return fc.oneof({ weight: omitWeight, arbitrary: fc.constant(OMIT) }, { weight: keepWeight, arbitrary: arb });
}

const triggerArb: fc.Arbitrary<RawOptions> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.constant({ every_n_train_steps: null, every_n_epochs: null, train_time_interval: null }) },
  { weight: 2, arbitrary: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }) }).map((n) => ({ every_n_train_steps: n })) },
  { weight: 2, arbitrary: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: 3 }) }).map((n) => ({ every_n_epochs: n })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(1.5, 2.25, 0.75), fc.integer({ min: 1, max: 6 }).map((s) => ({ seconds: s })), fc.constant({ milliseconds: 2500 }))
      .map((v) => ({ train_time_interval: v })),
  },
);

/**
 * Valid ModelCheckpoint keyword arguments (Lightning's names; omitted keys take Lightning's
 * defaults). save_top_k is -1..4 with a monitor, -1/0/1 without (Lightning's rule).
 */
export const optionsArb: fc.Arbitrary<RawOptions> = fc
  .record({
    dirpath: maybe(fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 6, arbitrary: fc.constantFrom(...DIRPATHS) }, { weight: 1, arbitrary: fc.constant(REMOTE_DIRPATH) }), 1, 4),
    filename: maybe(fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 6, arbitrary: fc.constantFrom(...TEMPLATES) })),
    monitor: maybe(fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 4, arbitrary: fc.constantFrom(...MONITORS) }), 1, 4),
    mode: maybe(fc.constantFrom('min', 'max')),
    kWithMonitor: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 8, arbitrary: fc.constantFrom(-1, 1, 2, 3, 4) }),
    kWithoutMonitor: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.constantFrom(-1, 1) }),
    omitK: fc.boolean(),
    save_last: maybe(fc.constantFrom(true, false, 'link', null)),
    trigger: triggerArb,
    enable_version_counter: maybe(fc.boolean()),
    verbose: maybe(fc.boolean()),
    save_on_exception: maybe(fc.boolean()),
    save_weights_only: maybe(fc.boolean(), 3, 1),
    save_on_train_epoch_end: maybe(fc.constantFrom(null, true, false)),
    auto_insert_metric_name: maybe(fc.boolean(), 4, 1),
    CHECKPOINT_NAME_LAST: maybe(fc.constantFrom('last-{step}', 'latest'), 6, 1),
    STARTING_VERSION: maybe(fc.constantFrom(0, 2), 6, 1),
    FILE_EXTENSION: maybe(fc.constant('.pt'), 8, 1),
  })
  .map((r) => {
    const o: RawOptions = {};
    const put = (k: string, v: unknown) => {
      if (v !== OMIT) o[k] = v;
    };
    put('dirpath', r.dirpath);
    put('filename', r.filename);
    put('monitor', r.monitor);
    put('mode', r.mode);
    const monitor = r.monitor === OMIT ? null : r.monitor;
    const k = monitor === null ? r.kWithoutMonitor : r.kWithMonitor;
    // omitting save_top_k means 1, which is fine with or without a monitor
    if (!(r.omitK && (k === 1 || monitor !== null))) o.save_top_k = k;
    put('save_last', r.save_last);
    Object.assign(o, r.trigger);
    put('enable_version_counter', r.enable_version_counter);
    put('verbose', r.verbose);
    put('save_on_exception', r.save_on_exception);
    put('save_weights_only', r.save_weights_only);
    put('save_on_train_epoch_end', r.save_on_train_epoch_end);
    put('auto_insert_metric_name', r.auto_insert_metric_name);
    put('CHECKPOINT_NAME_LAST', r.CHECKPOINT_NAME_LAST);
    put('STARTING_VERSION', r.STARTING_VERSION);
    put('FILE_EXTENSION', r.FILE_EXTENSION);
    return o;
  });

/** decodeConfig of options the arbitraries consider valid; a Left here is a decoder bug, reported loudly. */
export function mustDecode(options: RawOptions): PolicyConfig {
  const r = decodeConfig(options);
  if (E.isLeft(r)) throw new Error(`decodeConfig refused valid options ${JSON.stringify(options)}: ${r.left.map((i) => i.message).join('; ')}`);
  return r.right;
}

export const configArb: fc.Arbitrary<{ options: RawOptions; config: PolicyConfig }> = optionsArb.map((options) => ({ options, config: mustDecode(options) }));

// ---- metrics -------------------------------------------------------------------------------

/** Metric values: ties from a small pool, ordinary values, float32 specials, and doubles the core must round. */
export const metricValueArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(0.5, 0.25, 0.75, 1, 0.125, 2) },
  { weight: 5, arbitrary: fc.float({ min: 0, max: 4, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0, 0) },
  { weight: 1, arbitrary: fc.float() },
  { weight: 1, arbitrary: fc.double({ min: -10, max: 10, noNaN: true }) },
);

/** A metrics record: each key present 9 times in 10; rarely a logged 'step'/'epoch' (Lightning then uses it in names). */
function metricsArb(keys: readonly string[]): fc.Arbitrary<Metrics> {
  return fc
    .tuple(
      fc.tuple(...keys.map((k) => fc.option(metricValueArb, { freq: 10 }).map((v) => [k, v] as const))),
      sometimes(fc.constantFrom<[string, number]>(['step', 7], ['step', 3.5], ['epoch', 2], ['epoch', NaN]), 30),
    )
    .map(([pairs, extra]) => {
      const m: Record<string, number> = {};
      for (const [k, v] of pairs) if (v !== null) m[k] = v;
      if (extra !== null) m[extra[0]] = extra[1];
      return m;
    });
}

export const trainMetricsArb = metricsArb(['train_loss']);
export const valMetricsArb = metricsArb(['val_loss', 'val/acc']);

// ---- trainer facts and files ---------------------------------------------------------------

export const trainerArb: fc.Arbitrary<TrainerFacts> = fc
  .record({
    defaultRootDir: maybe(fc.constantFrom(CWD, 'runs', '/data/root')),
    loggers: maybe(
      fc.oneof(
        fc.constant([]),
        fc.record({ saveDir: fc.constantFrom('/logs', null, 'logs'), name: fc.constantFrom('lightning_logs', 'exp'), version: fc.constantFrom<number | string>(0, 3, 'v_a') }).map((l) => [l]),
      ),
    ),
    fastDevRun: maybe(fc.constantFrom<boolean | number>(true, 1), 25, 1),
    stateFn: maybe(fc.constantFrom('validate' as const), 25, 1),
    automaticOptimization: maybe(fc.constant(false), 12, 1),
    checkValEveryNEpoch: maybe(fc.constantFrom(1, 2, null), 3, 1),
  })
  .map((r) => {
    const t: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (v !== OMIT) t[k] = v;
    return t as TrainerFacts;
  });

/** A file the listing may hold, named relative to the checkpoint directory (or outside it). */
interface FileSpec {
  readonly name: string;
  readonly kind: 'file' | 'dir' | 'symlink';
  readonly target?: string;
  readonly outside?: boolean;
}

const FILE_SPECS: readonly FileSpec[] = [
  { name: 'epoch=0-step=1.ckpt', kind: 'file' },
  { name: 'epoch=0-step=2.ckpt', kind: 'file' },
  { name: 'epoch=1-step=4.ckpt', kind: 'file' },
  { name: 'epoch=0.ckpt', kind: 'file' },
  { name: 'epoch=1.ckpt', kind: 'file' },
  { name: 'last.ckpt', kind: 'file' },
  { name: 'last-v1.ckpt', kind: 'file' },
  { name: 'last.ckpt', kind: 'symlink', target: 'epoch=0-step=1.ckpt' },
  { name: 'last.ckpt', kind: 'symlink', target: 'gone.ckpt' },
  { name: 'epoch=00-val_loss=0.50.ckpt', kind: 'file' },
  { name: 'val_loss=0.500.ckpt', kind: 'file' },
  { name: 'val/acc=0.50.ckpt', kind: 'file' },
  { name: 'model.ckpt', kind: 'file' },
  { name: 'ckpt-step=00002.ckpt', kind: 'file' },
  { name: 'sub', kind: 'dir' },
  { name: 'notes.txt', kind: 'file' },
  { name: '/home/u/proj/stray.ckpt', kind: 'file', outside: true },
  { name: '/elsewhere/epoch=0-step=1.ckpt', kind: 'file', outside: true },
];

export const fileSpecsArb: fc.Arbitrary<readonly FileSpec[]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant([]) },
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...FILE_SPECS), { maxLength: 5 }) },
);

function filesUnder(dir: string, specs: readonly FileSpec[]): FileEntry[] {
  const out = new Map<string, FileEntry>();
  for (const s of specs) {
    const path = s.outside ? s.name : pyJoin(dir, s.name);
    out.set(path, s.kind === 'symlink' ? { path, kind: 'symlink', target: s.target ?? '' } : { path, kind: s.kind });
  }
  return [...out.values()];
}

/** The checkpoint directory Lightning would resolve at setup for these options and trainer facts. */
export function checkpointDir(config: PolicyConfig, trainer: TrainerFacts | undefined): string {
  const [s] = init(config, ENV);
  return resolveCheckpointDir(s, resolveTrainer(trainer, CWD));
}

/** What the file model holds, as a setup listing (what `ls -R` would show a resuming process). */
export function listingOf(state: PolicyState): FileEntry[] {
  const out: FileEntry[] = [];
  for (const [path, node] of state.files) out.push(node.kind === 'symlink' ? { path, kind: 'symlink', target: node.target } : { path, kind: node.kind });
  return out;
}

// ---- scenarios -----------------------------------------------------------------------------

export interface Scenario {
  readonly kind: 'fit' | 'resume' | 'random';
  readonly options: RawOptions;
  readonly config: PolicyConfig;
  readonly events: readonly LoopEvent[];
}

const exceptionArb = fc.record({
  type: fc.constantFrom('RuntimeError', 'KeyboardInterrupt', 'torch.OutOfMemoryError'),
  message: fc.constantFrom('boom', 'CUDA out of memory', ''),
});

interface PlanParts {
  readonly epochs: number;
  readonly batchesPerEpoch: number;
  readonly valEvery: number;
  readonly numValBatches: number;
  readonly sanityCheck: boolean;
  readonly batchSeconds: number;
  readonly trainVals: readonly Metrics[];
  readonly valVals: readonly Metrics[];
  readonly trainer: TrainerFacts;
  readonly files: readonly FileSpec[];
  /** cut the run here with an exception (index into the events after trainStarted), or run to the end */
  readonly crashAt: number | null;
  readonly exception: { type: string; message: string };
}

const planPartsArb: fc.Arbitrary<PlanParts> = fc.record({
  epochs: fc.integer({ min: 1, max: 6 }),
  batchesPerEpoch: fc.integer({ min: 1, max: 6 }),
  valEvery: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 5, arbitrary: fc.integer({ min: 1, max: 5 }) }),
  numValBatches: fc.constantFrom(1, 2),
  sanityCheck: fc.boolean(),
  batchSeconds: fc.constantFrom(0.5, 1, 1.5, 2.5),
  trainVals: fc.array(trainMetricsArb, { minLength: 1, maxLength: 8 }),
  valVals: fc.array(valMetricsArb, { minLength: 1, maxLength: 8 }),
  trainer: trainerArb,
  files: fileSpecsArb,
  crashAt: sometimes(fc.nat({ max: 1000 }), 5),
  exception: exceptionArb,
});

/** The events of a plan through Lightning's fit loop (`fitEvents`), maybe cut by an exception. */
function planEvents(p: PlanParts, dir: string, extra: { files?: readonly FileEntry[]; ckptPath?: string; offset?: { epoch: number; step: number; time: number } } = {}): LoopEvent[] {
  const batches = p.batchesPerEpoch;
  const trainer: TrainerFacts = extra.ckptPath !== undefined ? { ...p.trainer, ckptPath: extra.ckptPath } : p.trainer;
  const events = [
    ...fitEvents({
      epochs: p.epochs,
      batchesPerEpoch: batches,
      valEveryNBatches: p.valEvery === 0 ? 0 : Math.min(p.valEvery, batches),
      numValBatches: p.numValBatches,
      sanityCheck: p.sanityCheck,
      batchSeconds: p.batchSeconds,
      trainMetrics: (_e, step) => p.trainVals[step % p.trainVals.length]!,
      valMetrics: (_e, step) => p.valVals[step % p.valVals.length]!,
      trainer,
      files: extra.files ?? filesUnder(dir, p.files),
    }),
  ];
  const shifted = extra.offset ? events.map((e) => shiftEvent(e, extra.offset!)) : events;
  if (p.crashAt === null) return shifted;
  const start = shifted.findIndex((e) => e.type === 'trainStarted') + 1;
  const cut = start + (p.crashAt % Math.max(1, shifted.length - start)); // before trainEnded
  const prev = shifted[cut - 1]!;
  const view = 'view' in prev && prev.view ? prev.view : { epoch: 0, globalStep: 0 };
  return [...shifted.slice(0, cut), { type: 'exceptionRaised', exception: p.exception, view }];
}

function shiftEvent(e: LoopEvent, o: { epoch: number; step: number; time: number }): LoopEvent {
  if (e.type === 'setup' || e.type === 'stateLoaded' || e.type === 'filesListed') return e;
  const v = e.view;
  return { ...e, view: { ...v, epoch: v.epoch + o.epoch, globalStep: v.globalStep + o.step, time: (v.time ?? 0) + o.time } } as LoopEvent;
}

export const fitScenarioArb: fc.Arbitrary<Scenario> = fc.record({ c: configArb, p: planPartsArb }).map(({ c, p }) => ({
  kind: 'fit',
  options: c.options,
  config: c.config,
  events: planEvents(p, checkpointDir(c.config, p.trainer)),
}));

/**
 * Resume: run a first fit, pick one of the checkpoints it saved, and start a fresh policy from it:
 * setup (the files the first run left, ckpt_path = that checkpoint), stateLoaded (the callback's
 * state_dict as it was right after that checkpoint was written), then a second fit that continues
 * from the checkpoint's epoch and step. Usually with the same options, sometimes changed ones
 * (Lightning allows that: a different dirpath only reloads best_model_path).
 */
export const resumeScenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    c1: configArb,
    c2: configArb,
    sameConfig: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    p1: planPartsArb,
    p2: planPartsArb,
    pick: fc.nat({ max: 1000 }),
    nextEpoch: fc.boolean(),
  })
  .map(({ c1, c2, sameConfig, p1, p2, pick, nextEpoch }) => {
    const first = sameConfig ? c1 : c2;
    const second = c1;
    // the first run
    const ev1 = planEvents(p1, checkpointDir(first.config, p1.trainer));
    let [s] = init(first.config, ENV);
    const saves: Array<{ path: string; sd: LightningStateDict; view: LoopView }> = [];
    for (const e of ev1) {
      const [next, effects] = reduce(s, e);
      s = next;
      if (effects.some((f) => f.type === 'error')) break; // Lightning's fit stops at a raise
      const written = effects.filter((f): f is Extract<Effect, { type: 'save' | 'link' }> => f.type === 'save' || f.type === 'link');
      const view = 'view' in e && e.view ? e.view : { epoch: 0, globalStep: 0 };
      for (const w of written) saves.push({ path: w.path, sd: structuredClone(lightningStateDict(s)), view });
    }
    const dir2 = checkpointDir(second.config, p2.trainer);
    if (saves.length === 0) {
      // nothing to resume from: a second fit over what the first one left behind
      return { kind: 'resume' as const, options: second.options, config: second.config, events: planEvents(p2, dir2, { files: listingOf(s) }) };
    }
    const ck = saves[pick % saves.length]!;
    const offset = { epoch: ck.view.epoch + (nextEpoch ? 1 : 0), step: ck.view.globalStep, time: 0 };
    const ev2 = planEvents(p2, dir2, { files: listingOf(s), ckptPath: ck.path, offset });
    const events: LoopEvent[] = [ev2[0]!, { type: 'stateLoaded', stateDict: ck.sd }, ...ev2.slice(1)];
    return { kind: 'resume' as const, options: second.options, config: second.config, events };
  });

// ---- irregular streams ---------------------------------------------------------------------

type Cmd =
  | { readonly t: 'batch'; readonly stepInc: number; readonly dt: number; readonly m: Metrics }
  | { readonly t: 'val'; readonly m: Metrics }
  | { readonly t: 'epochEnd' }
  | { readonly t: 'files'; readonly files: readonly FileSpec[] }
  | { readonly t: 'exception'; readonly exception: { type: string; message: string } };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 60, arbitrary: fc.record({ t: fc.constant('batch' as const), stepInc: fc.constantFrom(1, 1, 1, 0, 2), dt: fc.constantFrom(0.5, 1, 2, 4), m: trainMetricsArb }) },
  { weight: 20, arbitrary: fc.record({ t: fc.constant('val' as const), m: valMetricsArb }) },
  { weight: 15, arbitrary: fc.constant({ t: 'epochEnd' as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('files' as const), files: fileSpecsArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('exception' as const), exception: exceptionArb }) },
);

const sdScoreArb = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0.5, 0.25, 1, 2) }, { weight: 1, arbitrary: metricValueArb });

/** A stand-alone state_dict, as a checkpoint from some earlier run might carry. */
const randomStateDictArb = fc.record({
  names: fc.uniqueArray(fc.constantFrom('epoch=0-step=1.ckpt', 'epoch=0-step=2.ckpt', 'epoch=1-step=4.ckpt', 'epoch=0.ckpt', 'model.ckpt'), { maxLength: 4 }),
  scores: fc.array(sdScoreArb, { minLength: 4, maxLength: 4 }),
  sameDir: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  withLast: fc.boolean(),
  bestIdx: fc.nat({ max: 3 }),
});

export const randomScenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    c: configArb,
    trainer: trainerArb,
    validation: fc.record({
      enableValidation: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      valCheckInterval: fc.constantFrom<number | null>(1.0, 0.5, 2, null),
      valCheckTimeInterval: sometimes(fc.constantFrom(3, 10), 6),
      numValBatches: fc.constantFrom<readonly number[]>([1], [0], [], [2, 1]),
    }),
    files: fileSpecsArb,
    stray: sometimes(fc.constantFrom<'trainBatchEnded' | 'validationEnded' | 'trainStarted'>('trainBatchEnded', 'validationEnded', 'trainStarted'), 20),
    sd: sometimes(randomStateDictArb, 3),
    sanity: sometimes(valMetricsArb, 1),
    cmds: fc.array(cmdArb, { maxLength: 60, size: 'medium' }),
    ended: fc.boolean(),
  })
  .map(({ c, trainer, validation, files, stray, sd, sanity, cmds, ended }) => {
    const facts: TrainerFacts = { ...trainer, enableValidation: validation.enableValidation, valCheckInterval: validation.valCheckInterval, valCheckTimeInterval: validation.valCheckTimeInterval };
    const dir = checkpointDir(c.config, facts);
    const nvb = validation.numValBatches;
    const events: LoopEvent[] = [];
    let epoch = 0;
    let step = 0;
    let time = 0;
    let metrics: Record<string, number> = {};
    let valHasRun = false;
    const view = (extra: Partial<LoopView> = {}): LoopView => ({ epoch, globalStep: step, time, numValBatches: nvb, metrics, ...extra });
    if (stray !== null) events.push({ type: stray, view: view() } as LoopEvent);
    events.push({ type: 'setup', stage: 'fit', trainer: facts, files: filesUnder(dir, files), view: { epoch: 0, globalStep: 0, time: 0 } });
    if (sd !== null) {
      const paths = sd.names.map((n) => pyJoin(sd.sameDir ? dir : '/old/ckpts', n));
      const bkm = paths.map((p, i) => [p, Math.fround(sd.scores[i]!)] as [string, number]);
      const best = paths.length ? paths[sd.bestIdx % paths.length]! : '';
      const stateDict: LightningStateDict = {
        monitor: c.config.monitor,
        best_model_score: best ? bkm.find(([p]) => p === best)![1] : null,
        best_model_path: best,
        current_score: bkm.length ? bkm[bkm.length - 1]![1] : null,
        dirpath: sd.sameDir ? dir : '/old/ckpts',
        best_k_models: bkm,
        kth_best_model_path: paths.length ? paths[paths.length - 1]! : '',
        kth_value: bkm.length ? bkm[bkm.length - 1]![1] : c.config.mode === 'max' ? -Infinity : Infinity,
        last_model_path: sd.withLast ? pyJoin(sd.sameDir ? dir : '/old/ckpts', 'last.ckpt') : '',
      };
      events.push({ type: 'stateLoaded', stateDict });
    }
    if (sanity !== null) events.push({ type: 'validationEnded', view: view({ sanityChecking: true, metrics: sanity }) });
    events.push({ type: 'trainStarted', view: view() });
    let crashed = false;
    for (let i = 0; i < cmds.length && !crashed; i++) {
      const cmd = cmds[i]!;
      switch (cmd.t) {
        case 'batch': {
          step += cmd.stepInc;
          time += cmd.dt;
          metrics = { ...metrics, ...cmd.m };
          const next = cmds.slice(i + 1).find((x) => x.t === 'batch' || x.t === 'epochEnd');
          events.push({ type: 'trainBatchEnded', view: view({ isLastBatch: next === undefined || next.t === 'epochEnd', valLoopHasRun: valHasRun }) });
          break;
        }
        case 'val':
          metrics = { ...metrics, ...cmd.m };
          valHasRun = true;
          events.push({ type: 'validationEnded', view: view({ valLoopHasRun: true }) });
          break;
        case 'epochEnd':
          events.push({ type: 'trainEpochEnded', view: view({ isLastBatch: true, valLoopHasRun: valHasRun }) });
          epoch += 1;
          valHasRun = false;
          break;
        case 'files':
          events.push({ type: 'filesListed', files: filesUnder(dir, cmd.files) });
          break;
        case 'exception':
          events.push({ type: 'exceptionRaised', exception: cmd.exception, view: view() });
          crashed = true;
          break;
      }
    }
    if (!crashed && ended) events.push({ type: 'trainEnded', view: view() });
    return { kind: 'random' as const, options: c.options, config: c.config, events };
  });

// ---- churn: many files, colliding names, one save per step ---------------------------------

/**
 * Many pre-existing files, a template whose names collide ('{train_loss:.3f}' on a few tied
 * values, '{epoch}' with several saves per epoch), a save on every step: the file model grows,
 * shrinks (an overwrite plus a displacement is a net removal) and grows again.
 */
export const churnScenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    k: fc.integer({ min: 1, max: 3 }),
    mode: fc.constantFrom('min', 'max'),
    filename: fc.constantFrom('{train_loss:.3f}', '{epoch}', '{train_loss:.1f}'),
    enable_version_counter: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    save_last: fc.constantFrom(null, null, true, 'link'),
    junk: fc.integer({ min: 4, max: 8 }),
    epochs: fc.integer({ min: 1, max: 3 }),
    batches: fc.integer({ min: 2, max: 8 }),
    vals: fc.array(fc.constantFrom(0.5, 0.25, 0.125, 1), { minLength: 1, maxLength: 12 }),
  })
  .map((r) => {
    const options: RawOptions = {
      dirpath: '/ckpts',
      monitor: 'train_loss',
      mode: r.mode,
      save_top_k: r.k,
      filename: r.filename,
      enable_version_counter: r.enable_version_counter,
      save_last: r.save_last,
      every_n_train_steps: 1,
    };
    const config = mustDecode(options);
    const files = Array.from({ length: r.junk }, (_, i): FileEntry => ({ path: `/ckpts/old-${i}.txt`, kind: 'file' }));
    const events = [
      ...fitEvents({
        epochs: r.epochs,
        batchesPerEpoch: r.batches,
        valEveryNBatches: 0,
        files,
        trainMetrics: (_e, step) => ({ train_loss: r.vals[step % r.vals.length]! }),
      }),
    ];
    return { kind: 'fit' as const, options, config, events };
  });

/** All kinds. */
export const scenarioArb: fc.Arbitrary<Scenario> = fc.oneof(
  { weight: 3, arbitrary: fitScenarioArb },
  { weight: 2, arbitrary: resumeScenarioArb },
  { weight: 2, arbitrary: randomScenarioArb },
  { weight: 1, arbitrary: churnScenarioArb },
);

// ---- running -------------------------------------------------------------------------------

export interface StepRecord {
  readonly event: LoopEvent;
  readonly before: PolicyState;
  readonly after: PolicyState;
  readonly effects: readonly Effect[];
}

export interface Run {
  readonly initial: PolicyState;
  readonly initEffects: readonly Effect[];
  readonly steps: readonly StepRecord[];
}

/**
 * Reduces a scenario's events from `init`. With `stopAtError`, an `error` effect ends the run the
 * way Lightning's does: the exception reaches the callbacks' on_exception (an exceptionRaised event
 * with that error's type) and nothing after it is sent.
 */
export function runScenario(sc: Pick<Scenario, 'config' | 'events'>, opts: { stopAtError?: boolean } = {}): Run {
  const [initial, initEffects] = init(sc.config, ENV);
  const steps: StepRecord[] = [];
  let s = initial;
  for (const event of sc.events) {
    const [after, effects] = reduce(s, event);
    steps.push({ event, before: s, after, effects });
    s = after;
    const err = effects.find((e): e is Extract<Effect, { type: 'error' }> => e.type === 'error');
    if (opts.stopAtError && err) {
      if (event.type !== 'exceptionRaised') {
        const view = 'view' in event && event.view ? event.view : { epoch: 0, globalStep: 0 };
        const ex: LoopEvent = { type: 'exceptionRaised', exception: { type: err.errorType, message: err.message }, view };
        const [after2, effects2] = reduce(s, ex);
        steps.push({ event: ex, before: s, after: after2, effects: effects2 });
      }
      break;
    }
  }
  return { initial, initEffects, steps };
}

/** Normalized key of a path, as the file model uses it. */
export const keyOf = (path: string): string => fileKey(path, CWD);

/** Recursively freezes plain data (events); returns its argument. */
export function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x as object)) deepFreeze(v);
  }
  return x;
}

// ---- counterexamples found so far, replayed first by every property (fast-check `examples`) ----

function regression(options: RawOptions, events: readonly LoopEvent[]): Scenario {
  return { kind: 'random', options, config: mustDecode(options), events };
}

export const REGRESSIONS: readonly Scenario[] = [
  // -0 as a score: JSON writes it as 0, so a resumed policy logs "(best 0.00000)" where Lightning logs "(best -0.00000)"
  regression({ dirpath: '/ckpts', monitor: 'val_loss', save_top_k: 2, verbose: true, every_n_train_steps: 1 }, [
    { type: 'setup', trainer: {} },
    { type: 'trainBatchEnded', view: { epoch: 0, globalStep: 1, metrics: { val_loss: -0 } } },
    { type: 'trainBatchEnded', view: { epoch: 0, globalStep: 2, metrics: { val_loss: 1 } } },
  ]),
  // the files vanish; save_last='link' then finds the last name equal to the checkpoint it would link to,
  // skips the link, and still removes the previous last link "superseded by" a file it did not write
  regression({ dirpath: '/ckpts', monitor: 'val_loss', filename: 'last', save_last: 'link' }, [
    { type: 'setup', trainer: { enableValidation: false } },
    { type: 'trainEpochEnded', view: { epoch: 0, globalStep: 1, metrics: { val_loss: 0 } } },
    { type: 'filesListed', files: [] },
    { type: 'trainEpochEnded', view: { epoch: 1, globalStep: 2, metrics: { val_loss: 0 } } },
  ]),
  // a state_dict from another (remote) directory: its best_model_path is reloaded, then removed as
  // "superseded" although it is outside the checkpoint directory (Lightning's remote rule: always removable)
  regression({ dirpath: '/ckpts' }, [
    { type: 'setup', trainer: { enableValidation: false }, files: [] },
    { type: 'stateLoaded', stateDict: { dirpath: 's3://bucket/ckpts', best_model_path: 's3://bucket/ckpts/epoch=0-step=1.ckpt', best_model_score: null } },
    { type: 'trainEpochEnded', view: { epoch: 1, globalStep: 2 } },
  ]),
  // resuming with filename='last' from a run whose last checkpoint was last.ckpt: the new best is saved
  // as last.ckpt and removed in the same hook as the "superseded" previous last checkpoint
  regression({ dirpath: '/ckpts', monitor: 'val_loss', filename: 'last', CHECKPOINT_NAME_LAST: 'last-{step}', save_last: true }, [
    { type: 'setup', trainer: { enableValidation: false }, files: [] },
    { type: 'stateLoaded', stateDict: { dirpath: '/ckpts', best_model_path: '', best_model_score: null, last_model_path: '/ckpts/last.ckpt' } },
    { type: 'trainEpochEnded', view: { epoch: 0, globalStep: 1, metrics: { val_loss: 0.5 } } },
  ]),
];
