/** The trainer facts with defaults filled in at setup, and where checkpoints go (`__resolve_ckpt_dir`). */
import type { TrainerFacts } from '../events.ts';
import { isLocalPath, pyJoin, pyNormpath } from '../paths.ts';
import type { PolicyState, ResolvedTrainer } from '../state.ts';

/** Where checkpoints go when dirpath is not given. */
export function resolveCheckpointDir(state: Pick<PolicyState, 'dirpath' | 'cwd'>, trainer: ResolvedTrainer): string {
  if (state.dirpath !== null) return state.dirpath;
  const logger = trainer.loggers[0];
  if (logger !== undefined) {
    const saveDir = logger.saveDir ?? trainer.defaultRootDir;
    const version = typeof logger.version === 'string' ? logger.version : `version_${logger.version}`;
    return pyJoin(saveDir, String(logger.name), version, 'checkpoints');
  }
  return pyJoin(trainer.defaultRootDir, 'checkpoints');
}

export function resolveTrainer(f: TrainerFacts | undefined, cwd: string): ResolvedTrainer {
  const root = f?.defaultRootDir ?? cwd;
  return {
    defaultRootDir: isLocalPath(root) ? pyNormpath(root) : root,
    loggers: f?.loggers ?? [],
    ckptPath: f?.ckptPath ?? null,
    fastDevRun: f?.fastDevRun ?? false,
    stateFn: f?.stateFn ?? 'fit',
    automaticOptimization: f?.automaticOptimization ?? true,
    checkValEveryNEpoch: f?.checkValEveryNEpoch === undefined ? 1 : f.checkValEveryNEpoch,
    valCheckInterval: f?.valCheckInterval === undefined ? 1.0 : f.valCheckInterval,
    valCheckTimeInterval: f?.valCheckTimeInterval ?? null,
    enableValidation: f?.enableValidation ?? true,
  };
}

