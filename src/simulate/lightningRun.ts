/**
 * A recorded Lightning run folder (test/fixtures/lightning-runs/runs/NNN-name): its policy, its
 * loop facts and its logs, as simulation options. The runs' `run.json` is what a user would know
 * about their own run; `kept.json` and `callback.json` are what Lightning actually did.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig, type PolicyConfig } from '../core/config.ts';
import { runFactsFrom, type RunFacts } from '../sources/loopFacts.ts';
import { openLog, type FitLog } from '../sources/open.ts';

export interface RunJson {
  readonly run: string;
  readonly model: { readonly train_batches_per_epoch: number; readonly val_batches: number };
  readonly model_checkpoint: { readonly kwargs: Record<string, unknown>; readonly instance_attributes: Record<string, unknown> };
  readonly fits: readonly {
    readonly trainer_kwargs: Record<string, unknown>;
    readonly resolved_ckpt_path: string | null;
    readonly crash_at_step: number | null;
    readonly csv_log_dir: string;
    readonly tb_log_dir: string;
    /** the callback's state when the fit ended, as Lightning reported it */
    readonly callback_state_at_end: { readonly best_k_models: Record<string, number>; readonly best_model_path: string; readonly last_model_path: string };
  }[];
  readonly files: { readonly metrics_csv: readonly string[]; readonly tfevents: readonly string[] };
}

export interface KeptEntry {
  readonly path: string;
  readonly type: 'file' | 'symlink';
  readonly target?: string;
  readonly target_path?: string;
}

export interface LightningRun {
  readonly dir: string;
  readonly json: RunJson;
  readonly config: PolicyConfig;
  readonly kept: readonly KeptEntry[];
  readonly callback: { readonly best_model_path: string; readonly best_model_score: number | string | null; readonly last_model_path: string };
  /** the CSV logs Lightning left, one per fit that kept its metrics.csv */
  readonly csvLogs: readonly FitLog[];
  /** the event files, one per fit */
  readonly tbLogs: readonly FitLog[];
  /** the first logger's version folder (the checkpoint folder's parent when dirpath is None) */
  readonly loggerDir: string;
}

export function loadLightningRun(dir: string): LightningRun {
  const abs = resolve(dir);
  const json = JSON.parse(readFileSync(join(abs, 'run.json'), 'utf8')) as RunJson;
  const mc = json.model_checkpoint;
  const decoded = decodeConfig({ ...mc.kwargs, ...mc.instance_attributes });
  if (E.isLeft(decoded)) throw new Error(`${dir}/run.json: ${decoded.left.map((i) => i.message).join('; ')}`);
  const kept = JSON.parse(readFileSync(join(abs, 'kept.json'), 'utf8')) as KeptEntry[];
  const callback = JSON.parse(readFileSync(join(abs, 'callback.json'), 'utf8')) as LightningRun['callback'];
  const csvLogs = json.files.metrics_csv.flatMap((p) => openLog(join(abs, p)));
  // event files are given as globs (their names hold wall times): `.../events.out.tfevents.*.N`
  const tbLogs = json.files.tfevents.flatMap((glob) => {
    const d = join(abs, dirname(glob));
    const suffix = glob.slice(glob.lastIndexOf('*') + 1);
    return readdirSync(d)
      .filter((n) => n.startsWith('events.out.tfevents.') && n.endsWith(suffix))
      .flatMap((n) => openLog(join(d, n)));
  });
  return { dir: abs, json, config: decoded.right, kept, callback, csvLogs, tbLogs, loggerDir: join(abs, json.fits[0]!.csv_log_dir) };
}

/**
 * The run's loop facts under Lightning's names, as a user would write them in `--trainer`: the
 * Trainer arguments of each fit, the batches per epoch and validation batches of the data, and
 * (when `withFits`) how later fits resumed and where a fit raised.
 */
export function trainerDescription(run: LightningRun, withFits: boolean): Record<string, unknown> {
  const loop = (kw: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const k of ['max_epochs', 'max_steps', 'val_check_interval', 'check_val_every_n_epoch', 'limit_val_batches', 'log_every_n_steps']) if (k in kw) out[k] = kw[k];
    return out;
  };
  const base = { ...loop(run.json.fits[0]!.trainer_kwargs), num_training_batches: run.json.model.train_batches_per_epoch, num_val_batches: run.json.model.val_batches };
  if (!withFits || run.json.fits.length === 1) return base;
  return {
    ...base,
    fits: run.json.fits.map((f, i) => ({
      ...loop(f.trainer_kwargs),
      ...(i > 0 && f.resolved_ckpt_path ? { ckpt_path: f.resolved_ckpt_path } : {}),
      ...(f.crash_at_step !== null ? { exception_at_step: f.crash_at_step } : {}),
    })),
  };
}

export function runFactsOf(run: LightningRun, withFits: boolean): RunFacts {
  const r = runFactsFrom(trainerDescription(run, withFits), null);
  if (E.isLeft(r)) throw new Error(`${run.dir}: ${r.left.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  return r.right;
}
