/**
 * The loop facts a metric log does not carry, under Lightning's Trainer names: how many batches an
 * epoch has, when validation runs, when training stops. Read from a JSON/YAML file (`--trainer`)
 * or flags; every fact left out keeps Lightning's default, and the log may fill in what it shows
 * (see reconstruct.ts). Per-fit entries (`fits:`) describe resumed runs: which checkpoint a fit
 * resumed from and where a fit raised.
 */
import { E } from '../core/deps.cts';
import { didYouMean, parseStructured, type Position, type StructuredText, type TextIssue } from './structuredText.ts';

/** `val_check_interval`: a fraction of an epoch (float) or a number of batches (int). */
export type ValCheckInterval = { readonly kind: 'fraction'; readonly value: number } | { readonly kind: 'batches'; readonly value: number };

/** `limit_val_batches`: a fraction of the validation set (float) or a number of batches (int). */
export type LimitBatches = { readonly kind: 'fraction'; readonly value: number } | { readonly kind: 'batches'; readonly value: number };

export interface LoopFacts {
  /** Trainer(max_epochs); null: Lightning's default (1000 unless max_steps is set) */
  readonly maxEpochs: number | null;
  /** Trainer(max_steps); -1: no limit */
  readonly maxSteps: number;
  readonly valCheckInterval: ValCheckInterval;
  /** null: validation counted across epochs (val_check_interval in batches) */
  readonly checkValEveryNEpoch: number | null;
  readonly limitValBatches: LimitBatches;
  readonly logEveryNSteps: number;
  /** trainer.num_training_batches: batches per epoch (null: unknown, inferred from the log when it can be) */
  readonly numTrainingBatches: number | null;
  /** batches per validation run (null: unknown) */
  readonly numValBatches: number | null;
}

/** One `trainer.fit` call of a run. */
export interface FitFacts extends LoopFacts {
  /** `fit(ckpt_path=...)`: a path (relative to the working directory), 'last' or 'best'; null for a fresh fit */
  readonly ckptPath: string | null;
  /** the fit raised in a training step at this global step (its checkpoint on exception, if any, is written there) */
  readonly exceptionAtStep: number | null;
}

export interface RunFacts {
  /** facts of each fit in order; a run with more fits than entries reuses the last entry's loop facts */
  readonly fits: readonly FitFacts[];
  /** which loop facts were given rather than defaulted (the log may fill in defaulted ones) */
  readonly given: ReadonlySet<keyof LoopFacts>;
  /** keys read but not modelled, and other remarks for the report */
  readonly notes: readonly string[];
}

export const LOOP_DEFAULTS: LoopFacts = {
  maxEpochs: null,
  maxSteps: -1,
  valCheckInterval: { kind: 'fraction', value: 1.0 },
  checkValEveryNEpoch: 1,
  limitValBatches: { kind: 'fraction', value: 1.0 },
  logEveryNSteps: 50,
  numTrainingBatches: null,
  numValBatches: null,
};

export const DEFAULT_RUN: RunFacts = { fits: [{ ...LOOP_DEFAULTS, ckptPath: null, exceptionAtStep: null }], given: new Set(), notes: [] };

/** The names read here, Lightning's spelling -> our field. */
const LOOP_KEYS: Record<string, keyof LoopFacts> = {
  max_epochs: 'maxEpochs',
  max_steps: 'maxSteps',
  val_check_interval: 'valCheckInterval',
  check_val_every_n_epoch: 'checkValEveryNEpoch',
  limit_val_batches: 'limitValBatches',
  log_every_n_steps: 'logEveryNSteps',
  num_training_batches: 'numTrainingBatches',
  num_val_batches: 'numValBatches',
};

const FIT_KEYS = ['ckpt_path', 'exception_at_step'] as const;

/** Lightning 2.6's other Trainer arguments: accepted and ignored, with a note. */
const OTHER_TRAINER_KEYS = [
  'accelerator', 'strategy', 'devices', 'num_nodes', 'precision', 'logger', 'callbacks', 'fast_dev_run', 'min_epochs', 'min_steps', 'max_time',
  'limit_train_batches', 'limit_test_batches', 'limit_predict_batches', 'overfit_batches', 'num_sanity_val_steps', 'enable_checkpointing',
  'enable_progress_bar', 'enable_model_summary', 'accumulate_grad_batches', 'gradient_clip_val', 'gradient_clip_algorithm', 'deterministic',
  'benchmark', 'inference_mode', 'use_distributed_sampler', 'profiler', 'detect_anomaly', 'barebones', 'plugins', 'sync_batchnorm',
  'reload_dataloaders_every_n_epochs', 'default_root_dir', 'model_registry',
];

/** Ignored keys that change the loop: their note says the simulation may differ. */
const LOOP_CHANGING: Record<string, string> = {
  accumulate_grad_batches: 'global steps then count optimizer steps, not batches',
  fast_dev_run: 'Lightning saves no checkpoint in a fast_dev_run',
  max_time: 'a time limit can end training at any step',
  limit_train_batches: 'give num_training_batches (the batches per epoch after the limit) instead',
  overfit_batches: 'give num_training_batches instead',
  min_epochs: 'only matters with early stopping',
  min_steps: 'only matters with early stopping',
};

export interface FactIssue {
  readonly field: string;
  readonly position: Position | null;
  readonly message: string;
}

type Parsed = { facts: Partial<LoopFacts>; ckptPath?: string | null; exceptionAtStep?: number | null };

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** Reads one fact from a plain value; `text` is how it was written, to tell 1.0 from 1. */
export function decodeFact(key: string, value: unknown, text: string | null): E.Either<string, Partial<LoopFacts>> {
  const field = LOOP_KEYS[key];
  const isFloatText = (t: string | null, v: number) => (t !== null ? /[.eE]/.test(t) && !/^[-+]?(inf|nan)/i.test(t) : !Number.isInteger(v));
  switch (field) {
    case 'maxEpochs':
      if (value === null || value === -1) return E.right({ maxEpochs: null });
      return isCount(value) ? E.right({ maxEpochs: value }) : E.left(`expected a non-negative integer, -1 or null, got ${JSON.stringify(value)}`);
    case 'maxSteps':
      return value === -1 || isCount(value) ? E.right({ maxSteps: value as number }) : E.left(`expected a non-negative integer or -1, got ${JSON.stringify(value)}`);
    case 'valCheckInterval':
    case 'limitValBatches': {
      let v = value;
      let t = text;
      if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) {
        t = v.trim();
        v = Number(v);
      }
      if (field === 'valCheckInterval' && v === null) return E.left('time-based or missing validation is not modelled: give a fraction (1.0) or a number of batches');
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return E.left(`expected a fraction (like 0.25 or 1.0) or a number of batches (like 7), got ${JSON.stringify(value)}`);
      if (isFloatText(t, v)) {
        if (v > 1) return E.left(`a fraction must be at most 1.0, got ${t ?? v} (write an integer for a number of batches)`);
        if (field === 'valCheckInterval' && v === 0) return E.left('val_check_interval=0.0 is not allowed by Lightning');
        return E.right({ [field]: { kind: 'fraction', value: v } } as Partial<LoopFacts>);
      }
      if (field === 'valCheckInterval' && v === 0) return E.left('val_check_interval must be at least 1 batch');
      return E.right({ [field]: { kind: 'batches', value: v } } as Partial<LoopFacts>);
    }
    case 'checkValEveryNEpoch':
      if (value === null) return E.right({ checkValEveryNEpoch: null });
      return isCount(value) && value >= 1 ? E.right({ checkValEveryNEpoch: value }) : E.left(`expected a positive integer or null, got ${JSON.stringify(value)}`);
    case 'logEveryNSteps':
      return isCount(value) && value >= 1 ? E.right({ logEveryNSteps: value }) : E.left(`expected a positive integer, got ${JSON.stringify(value)}`);
    case 'numTrainingBatches':
      return isCount(value) && value >= 1 ? E.right({ numTrainingBatches: value }) : E.left(`expected a positive integer, got ${JSON.stringify(value)}`);
    case 'numValBatches':
      if (Array.isArray(value) && value.every(isCount)) return E.right({ numValBatches: value.reduce((a: number, b: number) => a + b, 0) });
      return isCount(value) ? E.right({ numValBatches: value }) : E.left(`expected a non-negative integer (or a list of them, one per dataloader), got ${JSON.stringify(value)}`);
    default:
      return E.left(`'${key}' is not a loop fact`);
  }
}

function readObject(o: Record<string, unknown>, path: (string | number)[], doc: StructuredText | null, issues: FactIssue[], notes: string[], allowFits: boolean): Parsed & { fits?: Parsed[] } {
  const out: Parsed & { fits?: Parsed[] } = { facts: {} };
  const at = (k: string) => doc?.positionOf([...path, k]) ?? null;
  for (const [key, value] of Object.entries(o)) {
    const field = [...path, key].join('.');
    if (key in LOOP_KEYS) {
      const r = decodeFact(key, value, doc?.sourceOf([...path, key]) ?? null);
      if (E.isLeft(r)) issues.push({ field, position: at(key), message: r.left });
      else Object.assign(out.facts, r.right);
    } else if (key === 'ckpt_path') {
      if (value === null || typeof value === 'string') out.ckptPath = value;
      else issues.push({ field, position: at(key), message: `expected a checkpoint path, 'last', 'best' or null, got ${JSON.stringify(value)}` });
    } else if (key === 'exception_at_step') {
      if (value === null || isCount(value)) out.exceptionAtStep = value;
      else issues.push({ field, position: at(key), message: `expected a global step (a non-negative integer) or null, got ${JSON.stringify(value)}` });
    } else if (key === 'fits' && allowFits) {
      if (!Array.isArray(value)) {
        issues.push({ field, position: at(key), message: 'expected a list with one entry per fit' });
        continue;
      }
      out.fits = value.map((item, i) => {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) {
          issues.push({ field: `${field}[${i}]`, position: doc?.positionOf([...path, key, i]) ?? null, message: 'expected an object of loop facts for this fit' });
          return { facts: {} };
        }
        return readObject(item as Record<string, unknown>, [...path, key, i], doc, issues, notes, false);
      });
    } else if (OTHER_TRAINER_KEYS.includes(key)) {
      const why = LOOP_CHANGING[key];
      notes.push(`trainer key '${key}' is not modelled and was ignored${why ? ` (${why}; the simulation may differ)` : ''}`);
    } else {
      const known = [...Object.keys(LOOP_KEYS), ...FIT_KEYS, ...(allowFits ? ['fits'] : []), ...OTHER_TRAINER_KEYS];
      issues.push({ field, position: at(key), message: `unknown key '${key}'${didYouMean(key, known)}; expected Lightning Trainer arguments (${Object.keys(LOOP_KEYS).join(', ')}), ${FIT_KEYS.join(', ')} or fits` });
    }
  }
  return out;
}

/** Builds RunFacts from a decoded trainer description (plain object) plus flag overrides. */
export function runFactsFrom(
  input: unknown,
  doc: StructuredText | null,
  flags: Partial<LoopFacts> = {},
): E.Either<FactIssue[], RunFacts> {
  const issues: FactIssue[] = [];
  const notes: string[] = [];
  let top: Parsed & { fits?: Parsed[] } = { facts: {} };
  if (input !== undefined && input !== null) {
    if (typeof input !== 'object' || Array.isArray(input)) {
      return E.left([{ field: '(trainer)', position: null, message: 'expected an object of Trainer arguments (max_epochs, val_check_interval, ...)' }]);
    }
    top = readObject(input as Record<string, unknown>, [], doc, issues, notes, true);
  }
  if (issues.length > 0) return E.left(issues);
  const given = new Set<keyof LoopFacts>([...(Object.keys(top.facts) as (keyof LoopFacts)[]), ...(Object.keys(flags) as (keyof LoopFacts)[])]);
  const base: LoopFacts = { ...LOOP_DEFAULTS, ...top.facts, ...flags };
  const fitEntries = top.fits && top.fits.length > 0 ? top.fits : [{ facts: {} } as Parsed];
  const fits: FitFacts[] = fitEntries.map((p, i) => {
    for (const k of Object.keys(p.facts) as (keyof LoopFacts)[]) given.add(k);
    return {
      ...base,
      ...p.facts,
      ...flags,
      ckptPath: p.ckptPath ?? (i === 0 ? (top.ckptPath ?? null) : null),
      exceptionAtStep: p.exceptionAtStep ?? (i === 0 ? (top.exceptionAtStep ?? null) : null),
    };
  });
  return E.right({ fits, given, notes });
}

/** Reads a `--trainer` file's text (JSON or YAML). */
export function parseTrainerText(text: string, source: string, flags: Partial<LoopFacts> = {}): E.Either<TextIssue[], RunFacts> {
  const parsed = parseStructured(text, source);
  if (!parsed.ok) return E.left(parsed.issues);
  const r = runFactsFrom(parsed.doc.value, parsed.doc, flags);
  if (E.isLeft(r)) return E.left(r.left.map((i) => ({ source, position: i.position, field: i.field, message: i.message })));
  return r;
}

/** The facts of fit `i` (runs with more fits than entries reuse the last entry's loop facts, fresh). */
export function fitFacts(run: RunFacts, i: number): FitFacts {
  const f = run.fits[Math.min(i, run.fits.length - 1)]!;
  return i < run.fits.length ? f : { ...f, ckptPath: null, exceptionAtStep: null };
}

/** Lightning's `val_check_batch`: validation after every this many batches (Infinity: only at epoch end). */
export function valCheckBatch(f: LoopFacts, numTrainingBatches: number): number {
  const v = f.valCheckInterval;
  if (v.kind === 'batches') return v.value;
  return Math.max(1, Math.floor(numTrainingBatches * v.value));
}

/** Whether validation is enabled and how many batches it runs (Lightning's num_val_batches, summed). */
export function effectiveValBatches(f: LoopFacts): number | null {
  const lim = f.limitValBatches;
  if (lim.value === 0) return 0;
  if (f.numValBatches === null) return lim.kind === 'batches' ? lim.value : null;
  if (lim.kind === 'batches') return Math.min(lim.value, f.numValBatches);
  return Math.floor(f.numValBatches * lim.value);
}
