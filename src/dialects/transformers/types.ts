/**
 * The dialect's events (past-tense facts from the Trainer loop and from the world answering an
 * effect), effects (what transformers would do next, as data) and state (JSON: `encodeState`).
 */
import * as t from 'io-ts';
import { ResolvedArgsCodec } from './args.ts';
import type { FileEntry } from './files.ts';

// ---- numbers transformers writes as bare NaN / Infinity --------------------------------------

/** A float that may be non-finite; encoded as "NaN" / "Infinity" / "-Infinity" in JSON. */
export const PyFloat = new t.Type<number, number | string, unknown>(
  'PyFloat',
  (u): u is number => typeof u === 'number',
  (u, c) =>
    typeof u === 'number' ? t.success(u) : u === 'NaN' ? t.success(NaN) : u === 'Infinity' ? t.success(Infinity) : u === '-Infinity' ? t.success(-Infinity) : t.failure(u, c),
  (n) => (Number.isFinite(n) ? n : String(n)),
);

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null]);

export const ControlCodec = t.type({ log: t.boolean, evaluate: t.boolean, save: t.boolean, epochStop: t.boolean, trainingStop: t.boolean });
export const PlanCodec = t.type({ maxSteps: t.number, numTrainEpochs: t.number, loggingSteps: t.number, evalSteps: t.number, saveSteps: t.number });
export const EarlyStoppingCodec = t.type({ patience: t.number, threshold: t.number, counter: t.number });

/** The part of trainer_state.json the checkpoint policy reads back on resume. */
export const TrainerStateFileCodec = t.intersection([
  t.type({
    global_step: t.number,
    epoch: Nullable(t.number),
    best_metric: Nullable(PyFloat),
    best_global_step: Nullable(t.number),
    best_model_checkpoint: Nullable(t.string),
    logging_steps: t.number,
    eval_steps: t.number,
    save_steps: t.number,
  }),
  t.partial({
    max_steps: t.number,
    num_train_epochs: t.number,
    /** absent in files written before stateful callbacks existed */
    stateful_callbacks: t.record(t.string, t.unknown),
  }),
]);
export type TrainerStateFile = t.TypeOf<typeof TrainerStateFileCodec>;

export const WaitingCodec = t.keyof({ trainBegin: null, trainerState: null, none: null, evaluation: null, save: null, ended: null, failed: null });
export const HookCodec = t.keyof({ start: null, step: null, epoch: null });
export type Hook = t.TypeOf<typeof HookCodec>;

export const HfStateCodec = t.type({
  args: ResolvedArgsCodec,
  cwd: t.string,
  trainBatches: t.number,
  earlyStopping: Nullable(EarlyStoppingCodec),
  plan: PlanCodec,
  globalStep: t.number,
  epoch: Nullable(t.number),
  bestMetric: Nullable(PyFloat),
  bestGlobalStep: Nullable(t.number),
  bestModelCheckpoint: Nullable(t.string),
  control: ControlCodec,
  lastLogged: t.number,
  /** callback names present in TrainerState.stateful_callbacks (a legacy resumed state has none) */
  statefulCallbacks: t.array(t.string),
  resumePath: Nullable(t.string),
  waiting: WaitingCodec,
  hook: Nullable(HookCodec),
});
export type HfState = t.TypeOf<typeof HfStateCodec>;

export const encodeState = (s: HfState): unknown => HfStateCodec.encode(s);
export function decodeState(u: unknown): HfState {
  const r = HfStateCodec.decode(u);
  if (r._tag === 'Left') throw new Error(`not a transformers dialect state: ${r.left.map((e) => e.context.map((c) => c.key).filter(Boolean).join('.')).join(', ')}`);
  return r.right;
}

// ---- events --------------------------------------------------------------------------------

export type HfEvent =
  /** train() started; `files` lists the working directory, `resumeFromCheckpoint` is train()'s argument */
  | { readonly type: 'trainBegan'; readonly time: number; readonly files: readonly FileEntry[]; readonly resumeFromCheckpoint: boolean | string | null }
  /** the answer to readTrainerState (null: no such file) */
  | { readonly type: 'trainerStateRead'; readonly state: TrainerStateFile | null }
  /** CallbackHandler.on_step_end: global_step and epoch after the optimizer step */
  | { readonly type: 'stepEnded'; readonly globalStep: number; readonly epoch: number; readonly time: number }
  | { readonly type: 'epochEnded'; readonly globalStep: number; readonly epoch: number; readonly time: number }
  /** the answer to evaluate: the dict evaluate() returned (key order matters for error texts) */
  | { readonly type: 'evaluated'; readonly metrics: Readonly<Record<string, number>> }
  /** the answer to save: the folder was written; `files` lists the working directory afterwards */
  | { readonly type: 'checkpointSaved'; readonly path: string; readonly time: number; readonly files: readonly FileEntry[] }
  | { readonly type: 'checkpointSaveFailed'; readonly path: string; readonly error: { readonly type: string; readonly message: string } }
  /** the loop finished ("Training completed"); `files` lists the working directory */
  | { readonly type: 'trainEnded'; readonly time: number; readonly files: readonly FileEntry[] };

// ---- effects -------------------------------------------------------------------------------

export type SaveReason =
  | { readonly rule: 'steps'; readonly step: number; readonly saveSteps: number; readonly lastStep: boolean }
  | { readonly rule: 'epoch'; readonly step: number; readonly epoch: number }
  | { readonly rule: 'best'; readonly step: number; readonly metric: string; readonly value: number };

export type RemoveReason =
  /** rotation: older than the newest `limit` folders (best protected) */
  | { readonly rule: 'saveTotalLimit'; readonly limit: number; readonly configuredLimit: number; readonly order: 'mtime' | 'numeric'; readonly best: string | null }
  /** end of training with save_total_limit=1: not the best folder */
  | { readonly rule: 'limitOneAtEnd'; readonly best: string };

export type HfEffect =
  | { readonly type: 'mkdir'; readonly path: string }
  /** DefaultFlowCallback's flags right after the callbacks ran */
  | { readonly type: 'control'; readonly hook: Hook; readonly flags: readonly string[] }
  | { readonly type: 'evaluate'; readonly hook: Hook }
  | { readonly type: 'bestMetric'; readonly key: string; readonly value: number; readonly previous: number; readonly newBest: boolean }
  /** write the checkpoint folder (model, training args, optimizer state) */
  | { readonly type: 'save'; readonly path: string; readonly files: readonly string[]; readonly reason: SaveReason }
  | { readonly type: 'writeTrainerState'; readonly path: string; readonly state: TrainerStateFile }
  /** a call of _sorted_checkpoints and its result */
  | { readonly type: 'sort'; readonly useMtime: boolean; readonly result: readonly string[] }
  | { readonly type: 'remove'; readonly path: string; readonly reason: RemoveReason }
  | { readonly type: 'load'; readonly path: string; readonly reason: 'resume' | 'bestAtEnd' }
  | { readonly type: 'readTrainerState'; readonly path: string }
  | { readonly type: 'log'; readonly level: 'debug' | 'info' | 'warning'; readonly message: string; readonly category?: string }
  /** transformers raised here: training stops with this exception */
  | { readonly type: 'error'; readonly errorType: string; readonly message: string };
