/**
 * Events: past-tense facts about the training loop. Each one carries everything Lightning's
 * callback reads from the trainer at that hook, so the reducer never asks the world anything.
 */
import type { FileEntry } from './files.ts';

/** Metric values as the loop logged them (Lightning keeps them as float32; the core rounds to float32). */
export type Metrics = Readonly<Record<string, number>>;

/** What the trainer looks like when a hook runs (Lightning's `trainer.*` reads). */
export interface LoopView {
  /** trainer.current_epoch */
  readonly epoch: number;
  /** trainer.global_step: optimizer steps taken so far */
  readonly globalStep: number;
  /** time.monotonic() in seconds; needed by train_time_interval */
  readonly time?: number;
  readonly sanityChecking?: boolean;
  /** the batch just finished was the epoch's last */
  readonly isLastBatch?: boolean;
  /** a non-sanity validation batch has completed since the validation loop last started */
  readonly valLoopHasRun?: boolean;
  /** trainer.num_val_batches: per validation dataloader; empty until validation data is set up */
  readonly numValBatches?: readonly number[];
  /** trainer.callback_metrics, in logging order */
  readonly metrics?: Metrics;
}

export interface LoggerFacts {
  readonly saveDir: string | null;
  readonly name: string;
  readonly version: number | string;
}

/** Static facts of one `fit`, read by the rules (Trainer arguments and derived loop settings). */
export interface TrainerFacts {
  /** Trainer.default_root_dir (defaults to the working directory) */
  readonly defaultRootDir?: string;
  readonly loggers?: readonly LoggerFacts[];
  /** the checkpoint this run resumed from; never removed by rotation */
  readonly ckptPath?: string | null;
  readonly fastDevRun?: boolean | number;
  /** trainer.state.fn: only 'fit' saves */
  readonly stateFn?: 'fit' | 'validate' | 'test' | 'predict';
  readonly automaticOptimization?: boolean;
  /** Trainer(check_val_every_n_epoch); null = validation counted across epochs */
  readonly checkValEveryNEpoch?: number | null;
  /** Trainer(val_check_interval) as a fraction or a batch count; null when validation is time based */
  readonly valCheckInterval?: number | null;
  /** seconds between validations when validation is time based */
  readonly valCheckTimeInterval?: number | null;
  /** false when validation is disabled (limit_val_batches=0, no validation step) */
  readonly enableValidation?: boolean;
}

export type Exception = { readonly type: string; readonly message: string };

export type LoopEvent =
  /** fit starts: the directory is resolved and its listing becomes known */
  | { readonly type: 'setup'; readonly stage?: 'fit' | 'validate' | 'test' | 'predict'; readonly trainer?: TrainerFacts; readonly files?: readonly FileEntry[]; readonly view?: LoopView }
  /** a checkpoint's callback state was restored (Lightning's load_state_dict) */
  | { readonly type: 'stateLoaded'; readonly stateDict: LightningStateDict; readonly view?: LoopView }
  | { readonly type: 'trainStarted'; readonly view: LoopView }
  | { readonly type: 'trainBatchEnded'; readonly batchIdx?: number; readonly view: LoopView }
  | { readonly type: 'validationEnded'; readonly view: LoopView }
  | { readonly type: 'trainEpochEnded'; readonly view: LoopView }
  | { readonly type: 'trainEnded'; readonly view: LoopView }
  | { readonly type: 'exceptionRaised'; readonly exception: Exception; readonly view: LoopView }
  /** files appeared or vanished outside the policy's own effects (another process, a user) */
  | { readonly type: 'filesListed'; readonly files: readonly FileEntry[] };

export type LoopEventType = LoopEvent['type'];

/** Lightning's ModelCheckpoint.state_dict(), as stored inside every checkpoint. */
export interface LightningStateDict {
  readonly monitor?: string | null;
  readonly best_model_score: number | null;
  readonly best_model_path: string;
  readonly current_score?: number | null;
  readonly dirpath?: string | null;
  readonly best_k_models?: ReadonlyArray<readonly [string, number]>;
  readonly kth_best_model_path?: string;
  readonly kth_value?: number;
  readonly last_model_path?: string;
}
