/**
 * The record format of Lightning's conformance traces (see the README beside the traces):
 * one scenario per JSON line, phases of hook records with what Lightning did after each.
 */

/** Non-finite numbers are written as strings in the traces. */
export type TNum = number | 'NaN' | 'Infinity' | '-Infinity';

export function num(x: TNum): number;
export function num(x: TNum | null): number | null;
export function num(x: TNum | null): number | null {
  if (x === null) return null;
  if (typeof x === 'number') return x;
  return x === 'NaN' ? NaN : x === 'Infinity' ? Infinity : -Infinity;
}

export interface TFile {
  readonly path: string;
  readonly kind: 'file' | 'symlink' | 'dir';
  readonly target?: string;
}

export interface TState {
  readonly dirpath: string | null;
  readonly best_model_path: string;
  readonly best_model_score: TNum | null;
  readonly kth_best_model_path: string;
  readonly kth_value: TNum;
  readonly best_k_models: ReadonlyArray<readonly [string, TNum]>;
  readonly last_model_path: string;
  readonly current_score: TNum | null;
}

export interface TInternal {
  readonly last_global_step_saved: number;
  readonly last_checkpoint_saved: string;
  readonly defer_save_until_validation: boolean;
  readonly last_time_checked: number | null;
}

export interface TMessage {
  readonly level: 'warning' | 'info' | 'debug';
  readonly message: string;
  readonly category?: string;
}

export type TOp =
  | { readonly op: 'save'; readonly path: string; readonly weights_only: boolean }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'link' | 'copy'; readonly target: string; readonly path: string };

export interface TTrainerView {
  readonly current_epoch: number;
  readonly global_step: number;
  readonly time: number;
  readonly sanity_checking: boolean;
  readonly is_last_batch: boolean;
  readonly val_loop_has_run: boolean;
  readonly num_val_batches: number[];
  readonly callback_metrics: Record<string, TNum>;
}

export interface THook {
  readonly hook: 'setup' | 'load_state_dict' | 'on_train_start' | 'on_train_batch_end' | 'on_validation_end' | 'on_train_epoch_end' | 'on_train_end' | 'on_exception';
  readonly stage?: string;
  readonly batch_idx?: number;
  readonly state_dict?: TState & { readonly monitor?: string | null };
  readonly exception?: { readonly type: string; readonly message: string; readonly origin: string };
  readonly trainer: TTrainerView;
  readonly ops: TOp[];
  readonly messages: TMessage[];
  readonly error?: { readonly type: string; readonly message: string };
  readonly state?: TState;
  readonly internal?: TInternal;
}

export interface TTrainerStatic {
  readonly default_root_dir: string;
  readonly loggers: ReadonlyArray<{ readonly save_dir: string | null; readonly name: string; readonly version: number | string }>;
  readonly ckpt_path: string | null;
  readonly fast_dev_run: boolean | number;
  readonly state_fn: 'fit';
  readonly automatic_optimization: boolean;
  readonly check_val_every_n_epoch: number | null;
  readonly val_check_interval: number | null;
  readonly val_check_time_interval: number | null;
  readonly enable_validation: boolean;
}

export interface TPhase {
  readonly kwargs: Record<string, unknown>;
  readonly init_error: { readonly type: string; readonly message: string } | null;
  readonly init: { readonly messages: TMessage[]; readonly state_key?: string; readonly state?: TState; readonly internal?: TInternal };
  readonly trainer: TTrainerStatic | null;
  readonly hooks: THook[];
  readonly outcome: string;
  readonly files_after: TFile[];
}

export interface TScenario {
  readonly id: string;
  readonly theme: string;
  readonly description?: string;
  readonly preexisting: TFile[];
  readonly phases: TPhase[];
}

/** Parses one JSON-lines file of scenarios; a bad line is reported with its number. */
export function parseScenarios(text: string, file = '<input>'): TScenario[] {
  const out: TScenario[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as TScenario);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not a JSON scenario record: ${(e as Error).message}`);
    }
  });
  return out;
}
