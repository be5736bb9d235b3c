/**
 * Replays a recorded Lightning scenario through the reducer and reports the first difference:
 * every save/remove/link in order, every message and error text, the state after every hook, the
 * files left at the end. The storage is the same persistent file model the core uses, playing the
 * scenario root at a virtual absolute path.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeOptions, stateKey, validateConfig, triggers, type PolicyConfig } from '../core/config.ts';
import type { Effect } from '../core/effects.ts';
import type { LoopEvent, LoopView, TrainerFacts } from '../core/events.ts';
import { fileKey, listing, removePath, treeFromListing, writeFile, writeSymlink, type FileTree } from '../core/files.ts';
import { isLocalPath, pyJoin, pyNormpath, pyRelpath } from '../core/paths.ts';
import { init, reduce } from '../core/reduce.ts';
import type { PolicyState } from '../core/state.ts';
import { num, type THook, type TInternal, type TMessage, type TOp, type TPhase, type TScenario, type TState, type TTrainerStatic } from './trace.ts';

/** Where the scenario root lives in the virtual filesystem. */
export const ROOT = '/ckpt-conformance-root';

export interface Difference {
  readonly phase: number;
  /** index of the hook record, or -1 for the constructor, or 'end' */
  readonly hook: number | 'init' | 'end';
  readonly hookName?: string;
  readonly field: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

export type ScenarioResult = { readonly id: string; readonly ok: true } | { readonly id: string; readonly ok: false; readonly diff: Difference };

// ---- path mapping between trace (root-relative) and reducer (absolute) ------------------------

/** A trace path (relative to the scenario root) as the reducer sees it. */
export function toAbs(p: string): string;
export function toAbs(p: string | null): string | null;
export function toAbs(p: string | null): string | null {
  if (p === null || p === '' || !isLocalPath(p)) return p;
  if (p.startsWith('/')) return p;
  return pyNormpath(pyJoin(ROOT, p));
}

function toRel(p: string): string;
function toRel(p: string | null): string | null;
function toRel(p: string | null): string | null {
  if (p === null || p === '' || !isLocalPath(p) || !p.startsWith('/')) return p;
  if (p === ROOT) return '.';
  if (p.startsWith(ROOT + '/')) return p.slice(ROOT.length + 1);
  return pyRelpath(p, ROOT, ROOT);
}

const rootToken = (s: string) => s.split(ROOT).join('<root>');

// ---- trace -> events ---------------------------------------------------------------------------

function trainerFacts(t: TTrainerStatic): TrainerFacts {
  return {
    defaultRootDir: toAbs(t.default_root_dir),
    loggers: t.loggers.map((l) => ({ saveDir: toAbs(l.save_dir), name: l.name, version: l.version })),
    ckptPath: toAbs(t.ckpt_path),
    fastDevRun: t.fast_dev_run,
    stateFn: t.state_fn,
    automaticOptimization: t.automatic_optimization,
    checkValEveryNEpoch: t.check_val_every_n_epoch,
    valCheckInterval: t.val_check_interval,
    valCheckTimeInterval: t.val_check_time_interval,
    enableValidation: t.enable_validation,
  };
}

function view(h: THook): LoopView {
  const t = h.trainer;
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(t.callback_metrics)) metrics[k] = num(v);
  return {
    epoch: t.current_epoch,
    globalStep: t.global_step,
    time: t.time,
    sanityChecking: t.sanity_checking,
    isLastBatch: t.is_last_batch,
    valLoopHasRun: t.val_loop_has_run,
    numValBatches: t.num_val_batches,
    metrics,
  };
}

/** The event a hook record stands for, given the phase's trainer and the files present. */
export function traceEvent(h: THook, trainer: TTrainerStatic, tree: FileTree): LoopEvent {
  const v = view(h);
  switch (h.hook) {
    case 'setup':
      return { type: 'setup', stage: 'fit', trainer: trainerFacts(trainer), files: listing(tree, '/'), view: v };
    case 'load_state_dict': {
      const sd = h.state_dict!;
      return {
        type: 'stateLoaded',
        view: v,
        stateDict: {
          ...('monitor' in sd ? { monitor: sd.monitor ?? null } : {}),
          best_model_score: num(sd.best_model_score),
          best_model_path: toAbs(sd.best_model_path),
          current_score: num(sd.current_score),
          ...('dirpath' in sd ? { dirpath: toAbs(sd.dirpath) } : {}),
          best_k_models: sd.best_k_models.map(([p, s]) => [toAbs(p), num(s)] as const),
          kth_best_model_path: toAbs(sd.kth_best_model_path),
          kth_value: num(sd.kth_value),
          last_model_path: toAbs(sd.last_model_path),
        },
      };
    }
    case 'on_train_start':
      return { type: 'trainStarted', view: v };
    case 'on_train_batch_end':
      return { type: 'trainBatchEnded', batchIdx: h.batch_idx ?? 0, view: v };
    case 'on_validation_end':
      return { type: 'validationEnded', view: v };
    case 'on_train_epoch_end':
      return { type: 'trainEpochEnded', view: v };
    case 'on_train_end':
      return { type: 'trainEnded', view: v };
    case 'on_exception':
      return { type: 'exceptionRaised', exception: { type: h.exception!.type, message: h.exception!.message }, view: v };
  }
}

// ---- reducer -> trace form ---------------------------------------------------------------------

function opsOf(effects: readonly Effect[]): TOp[] {
  const ops: TOp[] = [];
  for (const e of effects) {
    if (e.type === 'save') ops.push({ op: 'save', path: toRel(e.path), weights_only: e.weightsOnly });
    else if (e.type === 'remove') ops.push({ op: 'remove', path: toRel(e.path) });
    else if (e.type === 'link') ops.push({ op: 'link', target: toRel(e.target), path: toRel(e.path) });
  }
  return ops;
}

function messagesOf(effects: readonly Effect[]): TMessage[] {
  return effects.flatMap((e): TMessage[] =>
    e.type === 'log' ? [{ level: e.level, message: rootToken(e.message), ...(e.category ? { category: e.category } : {}) }] : [],
  );
}

function errorOf(effects: readonly Effect[]) {
  const e = effects.find((x) => x.type === 'error');
  return e && e.type === 'error' ? { type: e.errorType, message: rootToken(e.message) } : undefined;
}

type Snapshot = {
  dirpath: string | null;
  best_model_path: string;
  best_model_score: number | null;
  kth_best_model_path: string;
  kth_value: number;
  best_k_models: Array<[string, number]>;
  last_model_path: string;
  current_score: number | null;
};

function snapshot(s: PolicyState): Snapshot {
  return {
    dirpath: toRel(s.dirpath),
    best_model_path: toRel(s.bestModelPath),
    best_model_score: s.bestModelScore,
    kth_best_model_path: toRel(s.kthBestModelPath),
    kth_value: s.kthValue,
    best_k_models: s.bestKModels.entries().map(([p, v]) => [toRel(p), v] as [string, number]),
    last_model_path: toRel(s.lastModelPath),
    current_score: s.currentScore,
  };
}

function expectedSnapshot(t: TState): Snapshot {
  return {
    dirpath: t.dirpath,
    best_model_path: t.best_model_path,
    best_model_score: num(t.best_model_score),
    kth_best_model_path: t.kth_best_model_path,
    kth_value: num(t.kth_value),
    best_k_models: t.best_k_models.map(([p, v]) => [p, num(v)] as [string, number]),
    last_model_path: t.last_model_path,
    current_score: num(t.current_score),
  };
}

function internalOf(s: PolicyState): TInternal {
  return {
    last_global_step_saved: s.lastGlobalStepSaved,
    last_checkpoint_saved: toRel(s.lastCheckpointSaved),
    defer_save_until_validation: s.deferSaveUntilValidation,
    last_time_checked: s.lastTimeChecked,
  };
}

/** Deep equality where NaN equals NaN and -0 equals 0 (JSON cannot tell them apart). */
export function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

class Mismatch extends Error {
  constructor(readonly diff: Difference) {
    super(`${diff.field} differs`);
  }
}

function check(phase: number, hook: Difference['hook'], hookName: string | undefined, field: string, expected: unknown, actual: unknown) {
  if (!same(expected, actual)) throw new Mismatch({ phase, hook, ...(hookName ? { hookName } : {}), field, expected, actual });
}

/** The files after a hook's effects, with the traces' semantics. */
export function applyEffects(tree: FileTree, effects: readonly Effect[]): FileTree {
  let t = tree;
  for (const e of effects) {
    if (e.type === 'save') t = writeFile(t, fileKey(e.path, ROOT));
    else if (e.type === 'remove') t = removePath(t, fileKey(e.path, ROOT));
    else if (e.type === 'link') t = writeSymlink(t, fileKey(e.path, ROOT), e.relTarget);
  }
  return t;
}

/** What Lightning's constructor logs before the first check that fails (the mode check comes before the triggers). */
function initMessagesBeforeRaise(c: PolicyConfig, firstField: string): TMessage[] {
  if (firstField === 'mode' || !triggers(c).defaulted) return [];
  return [{ level: 'debug', message: 'Both every_n_train_steps and every_n_epochs are not set. Setting every_n_epochs=1' }];
}

function replayPhase(p: TPhase, i: number, tree: FileTree): FileTree {
  const decoded = decodeOptions(p.kwargs);
  if (E.isLeft(decoded)) {
    throw new Mismatch({ phase: i, hook: 'init', field: 'kwargs', expected: p.kwargs, actual: decoded.left.map((x) => x.message) });
  }
  const config = decoded.right;
  const issues = validateConfig(config);
  const raised = issues[0]?.lightning;
  if (p.init_error !== null || issues.length > 0) {
    check(i, 'init', undefined, 'init_error', p.init_error, raised ? { type: raised.type, message: raised.message } : issues[0] ? { ours: issues[0].message } : null);
    check(i, 'init', undefined, 'init.messages', p.init.messages, initMessagesBeforeRaise(config, issues[0]!.field));
    return tree;
  }
  let [state, effects] = init(config, { cwd: ROOT });
  check(i, 'init', undefined, 'init.messages', p.init.messages, messagesOf(effects));
  check(i, 'init', undefined, 'state_key', p.init.state_key, stateKey(config));
  let expected = expectedSnapshot(p.init.state!);
  let expectedInternal = p.init.internal!;
  check(i, 'init', undefined, 'state', expected, snapshot(state));

  let t = tree;
  p.hooks.forEach((h, j) => {
    [state, effects] = reduce(state, traceEvent(h, p.trainer!, t));
    t = applyEffects(t, effects);
    check(i, j, h.hook, 'ops', h.ops, opsOf(effects));
    check(i, j, h.hook, 'messages', h.messages, messagesOf(effects));
    check(i, j, h.hook, 'error', h.error, errorOf(effects));
    if (h.state) expected = expectedSnapshot(h.state);
    check(i, j, h.hook, 'state', expected, snapshot(state));
    if (h.internal) expectedInternal = h.internal;
    check(i, j, h.hook, 'internal', expectedInternal, internalOf(state));
  });
  return t;
}

/** Replays one scenario; the first difference found is reported. */
/** The files of a scenario before its first phase. */
export function preexistingTree(s: TScenario): FileTree {
  return treeFromListing(
    s.preexisting.map((f) => ({ path: toAbs(f.path), kind: f.kind, ...(f.target !== undefined ? { target: f.target } : {}) })),
    ROOT,
  );
}

export function replayScenario(s: TScenario): ScenarioResult {
  let tree = preexistingTree(s);
  try {
    s.phases.forEach((p, i) => {
      tree = replayPhase(p, i, tree);
      const after = listing(tree, ROOT).map((f) => ({ path: toRel(f.path), kind: f.kind, ...(f.target !== undefined ? { target: f.target } : {}) }));
      check(i, 'end', undefined, 'files_after', p.files_after, after);
    });
  } catch (e) {
    if (e instanceof Mismatch) return { id: s.id, ok: false, diff: e.diff };
    throw e;
  }
  return { id: s.id, ok: true };
}

export function describeDifference(d: Difference): string {
  const where = d.hook === 'init' ? 'constructor' : d.hook === 'end' ? 'end of phase' : `hook #${d.hook} (${d.hookName})`;
  return `phase ${d.phase}, ${where}: ${d.field}\n  expected: ${JSON.stringify(d.expected)}\n  actual:   ${JSON.stringify(d.actual)}`;
}
