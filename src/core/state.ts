/**
 * The policy state: Lightning's state_dict fields, the private attributes its rules read, and what
 * the policy knows about the loop and the storage. Each rule owns a slice of it, declared in its
 * module as a Pick of these fields (top-k: TopKSlice, last: LastSlice, the writer: WriteSlice,
 * train_time_interval: TimeSlice, deferral: DeferSlice, the keep_* members: `keep`); the fields
 * stay flat here so Lightning's attribute names read the same everywhere, and the encoded form
 * (state format 2, stateCodec.ts) nests them by rule. Collections are persistent (src/vmap.ts), so a
 * step costs the same whether the policy keeps 3 checkpoints or a million, and every old state
 * stays valid. `encodeState`/`StateCodec` turn it into plain JSON for resume and back.
 */
import type { PolicyConfig } from './config.ts';
import type { t } from './deps.cts';
import type { TrainerCodec } from './events.ts';
import type { FileTree } from './files.ts';
import type { VMap } from './vmap.ts';
import type { KeepSlices } from './rules/keep/members.ts';

/** The trainer facts the rules read, with defaults filled in at setup. */
export type ResolvedTrainer = t.TypeOf<typeof TrainerCodec>;

export interface PolicyState {
  readonly config: PolicyConfig;
  /** working directory that relative paths are resolved against (Lightning's os.getcwd()) */
  readonly cwd: string;

  // Lightning's public attributes (state_dict)
  readonly dirpath: string | null;
  readonly bestModelPath: string;
  readonly bestModelScore: number | null;
  readonly currentScore: number | null;
  /** path -> score in insertion order: the order decides ties */
  readonly bestKModels: VMap<number>;
  readonly kthBestModelPath: string;
  readonly kthValue: number;
  readonly lastModelPath: string;

  // Lightning's private attributes
  readonly lastGlobalStepSaved: number;
  readonly lastCheckpointSaved: string;
  readonly deferSaveUntilValidation: boolean;
  readonly lastTimeChecked: number | null;

  // what the policy knows of the world
  readonly trainer: ResolvedTrainer | null;
  readonly files: FileTree;
  /** texts of once-only warnings already shown (Lightning's process-wide WarningCache) */
  readonly warned: readonly string[];
  /** bestModelPath and kthBestModelPath are the first min / first max of bestKModels (lets save_top_k=-1 update them in O(1)) */
  readonly extremaTracked: boolean;

  // ckpt-policy's composable retention (keep_* options): one slice per member, empty when unused
  readonly keep: KeepSlices;
}

/** Lightning's state_dict() of this state, as stored inside a checkpoint. */
export function lightningStateDict(s: PolicyState) {
  return {
    monitor: s.config.monitor,
    best_model_score: s.bestModelScore,
    best_model_path: s.bestModelPath,
    current_score: s.currentScore,
    dirpath: s.dirpath,
    best_k_models: s.bestKModels.entries(),
    kth_best_model_path: s.kthBestModelPath,
    kth_value: s.kthValue,
    last_model_path: s.lastModelPath,
  };
}
