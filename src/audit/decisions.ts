/**
 * Why the policy did NOT act (and the version-counter detail of why a name changed), derived from
 * one reducer step: the state before, the event, the state and effects after. The core's effects
 * already say why something was saved, removed or linked; these notes cover every rule that was
 * evaluated at a hook and produced nothing: a skip, a trigger not due, a deferral, a top-k
 * rejection with the numbers compared, a missing monitor, a last checkpoint not due.
 *
 * The rules are Lightning 2.6's as written in src/reduce.ts (same order, same conditions); this
 * module reads the same config and state fields and never calls the reducer.
 */
import { triggers } from '../core/config.ts';
import type { Effect, Trigger } from '../core/effects.ts';
import type { LoopEvent, LoopView } from '../core/events.ts';
import { formatCheckpointName } from '../core/format/template.ts';
import type { PyValue } from '../core/format/pyformat.ts';
import { pyJoin } from '../core/paths.ts';
import type { PolicyState, ResolvedTrainer } from '../core/state.ts';
import { sum, toInt32 } from '../core/reduce.ts';

/** Why a hook skipped saving (Lightning's `_should_skip_saving_checkpoint`, first cause that holds). */
export type SkipCause = 'fastDevRun' | 'notFitting' | 'sanityCheck' | 'sameGlobalStep';

/** A trigger that was checked and was not due. */
export type NotDue =
  /** `n` = 0: every_n_train_steps is not set (and no train_time_interval): batches never trigger */
  | { readonly trigger: 'everyNTrainSteps'; readonly n: number; readonly step: number }
  /** `elapsed` null: no clock reading yet (or none in the event) */
  | { readonly trigger: 'trainTimeInterval'; readonly interval: number; readonly elapsed: number | null }
  /** `n` = 0: every_n_epochs is 0 (a step or time trigger is used instead) */
  | { readonly trigger: 'everyNEpochs'; readonly n: number; readonly epoch: number };

export type Note =
  /** a hook where the policy decides nothing (it records facts: setup, restored state, clock, listing) */
  | { readonly kind: 'noDecision'; readonly event: 'setup' | 'stateLoaded' | 'trainStarted' | 'filesListed' }
  | { readonly kind: 'skipped'; readonly cause: SkipCause; readonly step: number; readonly lastSavedStep: number; readonly stateFn: string }
  | { readonly kind: 'notDue'; readonly checks: readonly NotDue[] }
  /** this hook is not where the callback acts (save_on_train_epoch_end, given or derived from the loop) */
  | { readonly kind: 'otherHook'; readonly actsAt: 'trainEpochEnd' | 'validationEnd'; readonly setting: 'given' | 'derived' }
  /** a step/time trigger fired but the save waits for the next validation end */
  | { readonly kind: 'deferred'; readonly cause: 'monitorMissing' | 'validationNext'; readonly monitor: string; readonly trigger: Trigger }
  | { readonly kind: 'topKZero'; readonly trigger: Trigger }
  /** the monitored key was not in the logged metrics: nothing was compared or saved (Lightning warns) */
  | { readonly kind: 'monitorMissing'; readonly monitor: string; readonly available: readonly string[]; readonly trigger: Trigger; readonly epoch: number; readonly step: number }
  /** the top-k check failed: `score` did not beat the k-th kept value (ties never displace) */
  | {
      readonly kind: 'rejected';
      readonly trigger: Trigger;
      readonly monitor: string;
      readonly mode: 'min' | 'max';
      readonly score: number;
      readonly k: number;
      readonly kthValue: number;
      readonly kthPath: string;
      readonly epoch: number;
      readonly step: number;
    }
  /** save_last is set but last was not written here */
  | { readonly kind: 'lastNotDue'; readonly cause: 'nothingSavedAtThisStep' | 'alreadySavedThisFit' }
  /** save_last='link' would link last to itself */
  | { readonly kind: 'lastUnchanged'; readonly path: string }
  | { readonly kind: 'noExceptionSave'; readonly cause: 'disabled' | 'fastDevRun' | 'sanityCheck' | 'sameGlobalStep' }
  /** trainEnded without save_last */
  | { readonly kind: 'noLastConfigured' }
  /** the name was taken, so the version counter gave this save a -vN suffix */
  | { readonly kind: 'versionBump'; readonly path: string; readonly taken: string }
  /** Lightning raised: the hook stopped there */
  | { readonly kind: 'raised'; readonly errorType: string; readonly message: string };

export type NoteKind = Note['kind'];

/** The notes of one step. `before` is the state the event was reduced from. */
export function classify(before: PolicyState, event: LoopEvent, after: PolicyState, effects: readonly Effect[]): Note[] {
  const notes: Note[] = [];
  const error = effects.find((e): e is Extract<Effect, { type: 'error' }> => e.type === 'error');
  if (error) {
    // Lightning's raise ended the hook; whatever it did before is in the effects
    notes.push({ kind: 'raised', errorType: error.errorType, message: error.message });
    return notes;
  }
  const c = new Context(before, after, event, effects);
  switch (event.type) {
    case 'setup':
    case 'stateLoaded':
    case 'trainStarted':
    case 'filesListed':
      notes.push({ kind: 'noDecision', event: event.type });
      break;
    case 'trainBatchEnded':
      c.trainBatchEnded(notes);
      break;
    case 'trainEpochEnded':
      c.epochOrValidationEnd(notes, 'trainEpochEnd');
      break;
    case 'validationEnded':
      c.epochOrValidationEnd(notes, 'validationEnd');
      break;
    case 'exceptionRaised':
      c.exceptionRaised(notes);
      break;
    case 'trainEnded':
      c.trainEnded(notes);
      break;
    default:
      return assertNever(event);
  }
  c.versionBumps(notes);
  return notes;
}

const NO_VIEW: LoopView = { epoch: 0, globalStep: 0 };

/** One step's facts and Lightning's predicates over them. */
class Context {
  readonly view: LoopView;
  readonly trainer: ResolvedTrainer;

  constructor(
    readonly before: PolicyState,
    readonly after: PolicyState,
    readonly event: LoopEvent,
    readonly effects: readonly Effect[],
  ) {
    this.view = 'view' in event && event.view ? event.view : NO_VIEW;
    // loop hooks only run after setup (the reducer raises otherwise, handled above)
    this.trainer = before.trainer!;
  }

  get config() {
    return this.before.config;
  }

  /** `_should_skip_saving_checkpoint`, naming the first cause that holds. */
  skipCause(): SkipCause | null {
    if (this.trainer.fastDevRun) return 'fastDevRun';
    if (this.trainer.stateFn !== 'fit') return 'notFitting';
    if (this.view.sanityChecking) return 'sanityCheck';
    if (this.before.lastGlobalStepSaved === this.view.globalStep) return 'sameGlobalStep';
    return null;
  }

  skipped(cause: SkipCause): Note {
    return { kind: 'skipped', cause, step: this.view.globalStep, lastSavedStep: this.before.lastGlobalStepSaved, stateFn: this.trainer.stateFn };
  }

  /** `_should_save_on_train_epoch_end`, and whether it was given or derived. */
  onTrainEpochEnd(): { value: boolean; setting: 'given' | 'derived' } {
    if (this.config.saveOnTrainEpochEnd !== null) return { value: this.config.saveOnTrainEpochEnd, setting: 'given' };
    const t = this.trainer;
    const derived = t.valCheckTimeInterval !== null ? false : t.checkValEveryNEpoch !== 1 ? false : sum(this.view.numValBatches) === 0 ? true : t.valCheckInterval === 1;
    return { value: derived, setting: 'derived' };
  }

  /** `_monitor_candidates` lookup of one key: float32 metrics, epoch/step as ints. */
  candidate(name: string): number | undefined {
    const metrics = this.view.metrics ?? {};
    const v = metrics[name];
    if (name === 'epoch') return v === undefined ? this.view.epoch : toInt32(Math.fround(v));
    if (name === 'step') return v === undefined ? this.view.globalStep : toInt32(Math.fround(v));
    return v === undefined ? undefined : Math.fround(v);
  }

  candidateNames(): string[] {
    const names = Object.keys(this.view.metrics ?? {});
    for (const n of ['epoch', 'step']) if (!names.includes(n)) names.push(n);
    return names;
  }

  candidateMap(): Map<string, PyValue> {
    const m = new Map<string, PyValue>();
    for (const n of this.candidateNames()) {
      const v = this.candidate(n)!;
      m.set(n, n === 'epoch' || n === 'step' ? { type: 'int', value: v } : { type: 'float', value: v });
    }
    return m;
  }

  topkSaved(): boolean {
    return this.effects.some((e) => e.type === 'save' && (e.reason.rule === 'topK' || e.reason.rule === 'noMonitor'));
  }

  /** What `_save_topk_checkpoint` decided when it ran and did not save. */
  topk(notes: Note[], trigger: Trigger) {
    if (this.config.saveTopK === 0) return notes.push({ kind: 'topKZero', trigger });
    const monitor = this.config.monitor;
    if (monitor === null || this.topkSaved()) return; // no monitor: always saves
    const score = this.candidate(monitor);
    const epoch = this.candidate('epoch')!;
    const step = this.candidate('step')!;
    if (score === undefined) return notes.push({ kind: 'monitorMissing', monitor, available: this.candidateNames(), trigger, epoch, step });
    const s = this.before;
    const kthValue = s.bestKModels.get(s.kthBestModelPath) ?? s.kthValue;
    notes.push({ kind: 'rejected', trigger, monitor, mode: this.config.mode, score, k: this.config.saveTopK, kthValue, kthPath: s.kthBestModelPath, epoch, step });
  }

  /** What `_save_last_checkpoint` did when it ran and wrote nothing. */
  last(notes: Note[]) {
    if (!this.config.saveLast) return;
    const wroteLast = this.effects.some((e) => (e.type === 'save' || e.type === 'link') && e.reason.rule === 'last');
    if (wroteLast) return;
    // only the no-self-link case leaves save_last without an effect
    notes.push({ kind: 'lastUnchanged', path: this.after.lastModelPath });
  }

  trainBatchEnded(notes: Note[]) {
    const cfg = this.config;
    const tr = triggers(cfg);
    const manual = !this.trainer.automaticOptimization;
    const n = tr.everyNTrainSteps;
    const step = this.view.globalStep;
    const skipBatch = n < 1 || step % n !== 0;
    let skipTime = true;
    let elapsed: number | null = null;
    if (!manual && tr.trainTimeInterval !== null) {
      const prev = this.before.lastTimeChecked;
      const now = this.view.time;
      elapsed = prev === null || now === undefined ? null : now - prev;
      skipTime = elapsed === null || elapsed < tr.trainTimeInterval;
    }
    const cause = this.skipCause();
    if (manual) {
      if (skipBatch) return notes.push({ kind: 'notDue', checks: [{ trigger: 'everyNTrainSteps', n, step }] });
      if (cause !== null) return notes.push(this.skipped(cause));
    } else if (skipBatch && skipTime) {
      const checks: NotDue[] = [];
      if (n >= 1 || tr.trainTimeInterval === null) checks.push({ trigger: 'everyNTrainSteps', n, step });
      if (tr.trainTimeInterval !== null) checks.push({ trigger: 'trainTimeInterval', interval: tr.trainTimeInterval, elapsed });
      return notes.push({ kind: 'notDue', checks });
    }
    const trigger: Trigger = manual || !skipBatch ? 'everyNTrainSteps' : 'trainTimeInterval';
    const monitor = cfg.monitor;
    if (monitor !== null && this.candidate(monitor) === undefined) return notes.push({ kind: 'deferred', cause: 'monitorMissing', monitor, trigger });
    if (!manual && monitor !== null && !this.onTrainEpochEnd().value && this.view.isLastBatch) {
      const t = this.trainer;
      const cve = t.checkValEveryNEpoch;
      if (t.enableValidation && sum(this.view.numValBatches) > 0 && (cve === null || (this.view.epoch + 1) % cve === 0)) {
        return notes.push({ kind: 'deferred', cause: 'validationNext', monitor, trigger });
      }
    }
    if (cause !== null) return notes.push(this.skipped(cause));
    this.topk(notes, trigger);
    this.last(notes);
  }

  epochOrValidationEnd(notes: Note[], hook: 'trainEpochEnd' | 'validationEnd') {
    const cause = this.skipCause();
    if (cause !== null) return notes.push(this.skipped(cause));
    const ote = this.onTrainEpochEnd();
    if (ote.value !== (hook === 'trainEpochEnd')) return notes.push({ kind: 'otherHook', actsAt: ote.value ? 'trainEpochEnd' : 'validationEnd', setting: ote.setting });
    if (hook === 'validationEnd' && this.before.deferSaveUntilValidation) {
      this.topk(notes, 'deferredToValidationEnd');
      this.last(notes);
      return;
    }
    const n = triggers(this.config).everyNEpochs;
    if (n >= 1 && (this.view.epoch + 1) % n === 0) this.topk(notes, hook);
    else notes.push({ kind: 'notDue', checks: [{ trigger: 'everyNEpochs', n, epoch: this.view.epoch }] });
    // `save last` runs when this step was saved (or 'link' has a checkpoint to point at)
    const topkPath = this.effects.find((e) => e.type === 'save' && e.reason.rule !== 'last');
    const lastSaved = topkPath?.type === 'save' ? topkPath.path : this.before.lastCheckpointSaved;
    const due = topkPath !== undefined || (this.config.saveLast === 'link' && lastSaved !== '');
    if (!this.config.saveLast) return;
    if (due) this.last(notes);
    else notes.push({ kind: 'lastNotDue', cause: 'nothingSavedAtThisStep' });
  }

  exceptionRaised(notes: Note[]) {
    if (!this.config.saveOnException) return notes.push({ kind: 'noExceptionSave', cause: 'disabled' });
    if (this.trainer.fastDevRun) return notes.push({ kind: 'noExceptionSave', cause: 'fastDevRun' });
    if (this.view.sanityChecking) return notes.push({ kind: 'noExceptionSave', cause: 'sanityCheck' });
    if (this.before.lastGlobalStepSaved === this.view.globalStep) return notes.push({ kind: 'noExceptionSave', cause: 'sameGlobalStep' });
    this.last(notes);
  }

  trainEnded(notes: Note[]) {
    if (!this.config.saveLast) return notes.push({ kind: 'noLastConfigured' });
    if (this.before.lastCheckpointSaved) return notes.push({ kind: 'lastNotDue', cause: 'alreadySavedThisFit' });
    this.last(notes);
  }

  /** Saves whose name carries a version suffix because the plain name was taken. */
  versionBumps(notes: Note[]) {
    const cfg = this.config;
    if (!cfg.enableVersionCounter) return;
    for (const e of this.effects) {
      if (e.type !== 'save' && e.type !== 'link') continue;
      const r = e.reason.rule;
      if (r !== 'topK' && r !== 'noMonitor' && r !== 'last') continue;
      const taken = this.plainName(r === 'last' ? cfg.checkpointNameLast : null);
      if (taken !== null && taken !== e.path) notes.push({ kind: 'versionBump', path: e.path, taken });
    }
  }

  /** The name before the version counter (`format_checkpoint_name` without `ver`). */
  plainName(template: string | null): string | null {
    const cfg = this.config;
    try {
      const name = formatCheckpointName(template || cfg.filename, this.candidateMap(), {
        joinChar: cfg.checkpointJoinChar,
        equalsChar: cfg.checkpointEqualsChar,
        autoInsertMetricName: cfg.autoInsertMetricName,
        extension: cfg.fileExtension,
      });
      const dirpath = this.before.dirpath;
      return dirpath ? pyJoin(dirpath, name) : name;
    } catch {
      return null;
    }
  }
}

function assertNever(x: never): never {
  throw new Error(`unknown event ${JSON.stringify(x)}`);
}
