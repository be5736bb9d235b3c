/**
 * The reducer: `reduce(state, event) => [state, effects, notes]`, Lightning 2.6's ModelCheckpoint
 * as one composition of rules (src/core/rules/lightning.ts). Pure: no I/O, no clock, no
 * randomness, inputs never mutated.
 *
 * `notes` (third element; callers that destructure two elements are unaffected) say what the
 * policy decided not to do and the comparisons it made: one or more per hook, in the order the
 * rules ran, version-counter notes last. When Lightning raises, the hook's notes are just the
 * `raised` note and the effects end with the `error` effect.
 */
import { triggers, type PolicyConfig } from './config.ts';
import type { Effect } from './effects.ts';
import type { LoopEvent } from './events.ts';
import { emptyTree } from './files.ts';
import type { Note } from './notes.ts';
import { isLocalPath, pyAbspath } from './paths.ts';
import { EMPTY_KEEP } from './rules/keep/members.ts';
import { NO_VIEW, openHook, Raised } from './rules/hook.ts';
import * as Lightning from './rules/lightning.ts';
import type { PolicyState } from './state.ts';
import { VMap } from './vmap.ts';

export { resolveCheckpointDir, resolveTrainer } from './rules/trainer.ts';
export { sum, toInt32 } from './rules/hook.ts';

export type Step = readonly [state: PolicyState, effects: readonly Effect[], notes: readonly Note[]];

/** The options Lightning's constructor takes plus where it runs. */
export interface InitEnv {
  /** absolute working directory; relative dirpaths resolve against it (default '/') */
  readonly cwd?: string;
  /** home directory for '~' in dirpath */
  readonly home?: string;
}

/** Lightning's constructor: the initial state and its log lines. The config must be valid (see decodeConfig). */
export function init(config: PolicyConfig, env: InitEnv = {}): Step {
  const cwd = env.cwd ?? '/';
  const effects: Effect[] = [];
  const tr = triggers(config);
  if (tr.defaulted) {
    effects.push({ type: 'log', level: 'debug', message: 'Both every_n_train_steps and every_n_epochs are not set. Setting every_n_epochs=1' });
  }
  const state: PolicyState = {
    config,
    cwd,
    dirpath: resolveInitDirpath(config.dirpath, cwd, env.home),
    bestModelPath: '',
    bestModelScore: null,
    currentScore: null,
    bestKModels: VMap.empty<number>(),
    kthBestModelPath: '',
    kthValue: config.mode === 'max' ? -Infinity : Infinity,
    lastModelPath: '',
    lastGlobalStepSaved: 0,
    lastCheckpointSaved: '',
    deferSaveUntilValidation: false,
    lastTimeChecked: null,
    trainer: null,
    files: emptyTree,
    warned: [],
    extremaTracked: true,
    keep: EMPTY_KEEP,
  };
  return [state, effects, []];
}

/** `os.path.realpath(os.path.expanduser(dirpath))` for local paths, done lexically. */
function resolveInitDirpath(dirpath: string | null, cwd: string, home: string | undefined): string | null {
  if (!dirpath || !isLocalPath(dirpath)) return dirpath;
  let p = dirpath;
  if (home !== undefined && (p === '~' || p.startsWith('~/'))) p = home + p.slice(1);
  return pyAbspath(p, cwd);
}

/** One event through the policy. Never throws for Lightning's errors: they come back as an `error` effect. */
export function reduce(state: PolicyState, event: LoopEvent): Step {
  const h = openHook(state, 'view' in event && event.view ? event.view : NO_VIEW);
  try {
    switch (event.type) {
      case 'setup':
        Lightning.setup(h, event);
        break;
      case 'stateLoaded':
        Lightning.stateLoaded(h, event.stateDict);
        break;
      case 'trainStarted':
        Lightning.trainStarted(h);
        break;
      case 'trainBatchEnded':
        Lightning.trainBatchEnded(h);
        break;
      case 'validationEnded':
        Lightning.epochOrValidationEnded(h, 'validationEnd');
        break;
      case 'trainEpochEnded':
        Lightning.epochOrValidationEnded(h, 'trainEpochEnd');
        break;
      case 'trainEnded':
        Lightning.trainEnded(h);
        break;
      case 'exceptionRaised':
        Lightning.exceptionRaised(h, event.exception);
        break;
      case 'filesListed':
        Lightning.filesListed(h, event.files);
        break;
      default:
        return assertNever(event);
    }
  } catch (e) {
    if (!(e instanceof Raised)) throw e;
    h.effects.push({ type: 'error', errorType: e.errorType, message: e.message });
    return [h.s, h.effects, [{ kind: 'raised', errorType: e.errorType, message: e.message }]];
  }
  return [h.s, h.effects, h.bumps.length ? [...h.notes, ...h.bumps] : h.notes];
}

function assertNever(x: never): never {
  throw new Error(`unknown event ${JSON.stringify(x)}`);
}
