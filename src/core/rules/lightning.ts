/**
 * Lightning 2.6's ModelCheckpoint as one composition of the rules, hook by hook:
 *
 *   skip rules -> save decision (triggers, which hook, deferral) -> candidate (name, version
 *   counter) -> preservation (top-k, or the monitor-less series; the keep_* members; last) -> effects
 *
 * The rules' outputs flow forward as values (whether this hook saved, what was written last);
 * a rule that decides not to act leaves a note. With keep_* options (`isComposed`), preservation is
 * the union of top-k, the keep_* members and last: a file one of them lets go of is removed only
 * when no other keeps it. Without them, top-k and last each remove their own previous files as
 * Lightning does (quirks included, docs/rules.md).
 */
import { isComposed, type PolicyConfig } from '../config.ts';
import type { Reason, Trigger } from '../effects.ts';
import type { LightningStateDict, LoopEvent } from '../events.ts';
import { isNonEmptyDir, treeFromListing, fileKey } from '../files.ts';
import { formatValue, pyStrListRepr, pyStrRepr, type PyValue } from '../format/pyformat.ts';
import type { KeepMember } from '../notes.ts';
import { isLocalPath } from '../paths.ts';
import { VMap } from '../vmap.ts';
import { candidate, candidates, epochStep, log, Raised, trainerOf, warn, type Hook } from './hook.ts';
import { configured, EXTRA_MEMBERS, forget, keeps, take, wants, type At, type ExtraMember } from './keep/members.ts';
import { keepsLast, lastDueAfterTopK, linksTo } from './keep/last.ts';
import { admits, effectiveK, enter, keepsTopK, storedScore, takeKth } from './keep/topK.ts';
import { keepers, type Verdict } from './keep/union.ts';
import { deferCause } from './save/deferral.ts';
import { epochNotDue } from './save/everyNEpochs.ts';
import { stepDue } from './save/everyNTrainSteps.ts';
import { trainEndSkip } from './save/onTrainEnd.ts';
import { saveHook } from './save/saveHook.ts';
import { exceptionSkip, skipCause } from './save/skip.ts';
import { timeCheck } from './save/trainTimeInterval.ts';
import { existing, formatName, link, noteBump, remove, removeExisting, save, shouldRemove, versionedName } from './write.ts';
import { resolveCheckpointDir, resolveTrainer } from './trainer.ts';

// ---- preservation ------------------------------------------------------------------------------

/**
 * `build`, computed once per config: the run's config is asked for on every event, so one
 * remembered pair sits before the WeakMap.
 */
function perConfig<T>(build: (c: PolicyConfig) => T): (c: PolicyConfig) => T {
  const cache = new WeakMap<PolicyConfig, T>();
  let lastConfig: PolicyConfig | null = null;
  let lastValue: T | undefined;
  return (c) => {
    if (c === lastConfig) return lastValue!;
    let value = cache.get(c);
    if (value === undefined) cache.set(c, (value = build(c)));
    lastConfig = c;
    lastValue = value;
    return value;
  };
}

/** Every preservation member of this config, as verdicts over a hook's current slices. */
const verdicts = perConfig((c): readonly Verdict<Hook>[] => {
  const list: Verdict<Hook>[] = [];
  if (c.saveTopK !== 0) list.push(c.monitor !== null ? TOPK : NO_MONITOR_SERIES);
  for (const m of EXTRA_MEMBERS) if (configured(c, m)) list.push(EXTRA_VERDICTS[m]);
  if (c.saveLast) list.push(LAST);
  return list;
});

const TOPK: Verdict<Hook> = { member: 'topK', keeps: (h, p) => keepsTopK(h.s, p) };
/** top-k without a monitor: save_top_k=-1 keeps every file of the series, otherwise only the newest */
const NO_MONITOR_SERIES: Verdict<Hook> = { member: 'topK', keeps: (h, p) => h.c.saveTopK === -1 || h.s.bestModelPath === p };
const LAST: Verdict<Hook> = { member: 'last', keeps: (h, p) => keepsLast(h.s, p) };
const EXTRA_VERDICTS = Object.fromEntries(EXTRA_MEMBERS.map((m) => [m, { member: m, keeps: (h: Hook, p: string) => keeps(h.s.keep, m, p) }])) as Record<ExtraMember, Verdict<Hook>>;

/**
 * `released` lets go of `previous` (the new file being `current`): removed as Lightning would,
 * unless, in a composed policy, another member still keeps it (a keptBy note).
 */
function release(h: Hook, released: KeepMember, previous: string, current: string, reason: Reason) {
  if (!isComposed(h.c)) {
    if (shouldRemove(h, previous, current)) remove(h, previous, reason);
    return;
  }
  // a name written again is the new file, not a release
  if (previous === current) return;
  // two members can let go of the same file in one hook (latest-n moving on as top-k is displaced): remove it once
  const node = existing(h, previous);
  if (node === undefined) return;
  // a file another member keeps stays, whatever Lightning's removal guard would say (asked only to remove)
  const still = keepers(verdicts(h.c), h, previous, released);
  // `still` is a frozen array shared by every note with the same members (notes are read, never written)
  if (still.length > 0) return void h.notes.push({ kind: 'keptBy', path: previous, released, members: still as KeepMember[] });
  // no keep_* member keeps `previous` now (the releasing one let go of it): their slices have nothing to forget
  if (shouldRemove(h, previous, current)) removeExisting(h, previous, node, reason);
}

const NONE_WANTED: readonly ExtraMember[] = [];

/** The keep_* members that want a checkpoint at this moment. */
function wantedBy(h: Hook): readonly ExtraMember[] {
  if (!isComposed(h.c)) return NONE_WANTED;
  const at = atOf(h);
  // one array per combination of members (at most 16), not one per event
  let mask = 0;
  for (const i of configuredOf(h.c)) if (wants(h.c, h.s.keep, EXTRA_MEMBERS[i]!, at)) mask |= 1 << i;
  return WANTED[mask]!;
}

const WANTED: readonly (readonly ExtraMember[])[] = Array.from({ length: 1 << EXTRA_MEMBERS.length }, (_, mask) => EXTRA_MEMBERS.filter((_, i) => mask & (1 << i)));

/** The positions in EXTRA_MEMBERS of the members a config sets (only they are asked). */
const configuredOf = perConfig((c): readonly number[] => EXTRA_MEMBERS.flatMap((m, i) => (configured(c, m) ? [i] : [])));

/** The moment of the hook's event: its view, which has the two fields the members read. */
function atOf(h: Hook): At {
  return h.view;
}

/** The members in `wanted` take `path`; what they let go of is released through the union. */
function keepWith(h: Hook, wanted: readonly ExtraMember[], path: string) {
  if (!isComposed(h.c)) return;
  // a name reused by a save no member wanted no longer holds what they kept
  if (wanted.length === 0) {
    h.s.keep = forget(h.s.keep, path);
    return;
  }
  const at = atOf(h);
  for (const m of wanted) {
    const r = take(h.c, h.s.keep, m, path, at);
    h.s.keep = r.slices;
    for (const p of r.released) release(h, m, p, path, { rule: 'released', member: m, by: path });
  }
}

// ---- saving --------------------------------------------------------------------------------

/** `_save_topk_checkpoint` (plus the keep_* members in a composed policy). Returns whether a checkpoint was written. */
function topkStep(h: Hook, trigger: Trigger): boolean {
  const wanted = wantedBy(h);
  if (h.c.saveTopK === 0) {
    h.notes.push({ kind: 'topKZero', trigger });
    return keptOnly(h, wanted, trigger);
  }
  const monitor = h.c.monitor;
  if (monitor === null) return noMonitorSave(h, trigger, wanted);
  const current = candidate(h, monitor);
  if (current === undefined) {
    const m =
      `\`ModelCheckpoint(monitor=${pyStrRepr(monitor)})\` could not find the monitored key in the returned` +
      ` metrics: ${pyStrListRepr([...candidates(h).keys()])}.` +
      ` HINT: Did you call \`log(${pyStrRepr(monitor)}, value)\` in the \`LightningModule\`?`;
    if (h.view.valLoopHasRun) throw new Raised('MisconfigurationException', m);
    if (!h.s.warned.includes(m)) {
      h.s.warned = [...h.s.warned, m];
      warn(h, m);
    }
  }
  if (current !== undefined && admits(h.c, h.s, current.value)) {
    topkSave(h, monitor, current, trigger, wanted);
    return true;
  }
  const { epoch, step } = epochStep(h);
  if (h.c.verbose) log(h, 'info', `Epoch ${epoch}, global step ${step}: ${pyStrRepr(monitor)} was not in top ${h.c.saveTopK}`);
  if (current === undefined) h.notes.push({ kind: 'monitorMissing', monitor, available: [...candidates(h).keys()], trigger, epoch, step });
  else {
    const s = h.s;
    h.notes.push({ kind: 'rejected', trigger, monitor, mode: h.c.mode, score: current.value, k: h.c.saveTopK, kthValue: s.bestKModels.get(s.kthBestModelPath) ?? s.kthValue, kthPath: s.kthBestModelPath, epoch, step });
  }
  return keptOnly(h, wanted, trigger);
}

/** A checkpoint top-k did not take, written because keep_* members want it. */
function keptOnly(h: Hook, wanted: readonly ExtraMember[], trigger: Trigger): boolean {
  if (wanted.length === 0) return false;
  const name = versionedName(h, null, null);
  save(h, name.path, { rule: 'kept', trigger, members: [...wanted], ...epochStep(h) }, name.absent);
  noteBump(h, name);
  keepWith(h, wanted, name.path);
  return true;
}

/** `_update_best_and_save`: admitted into the top k. */
function topkSave(h: Hook, monitor: string, currentValue: PyValue, trigger: Trigger, wanted: readonly ExtraMember[]) {
  const s = h.s;
  const k = effectiveK(h.c, s);
  const kthBefore = s.bestKModels.size >= k && k > 0 ? s.kthValue : null;
  const displaced = takeKth(s, k);
  const score = storedScore(h.c, currentValue.value);
  const name = versionedName(h, null, displaced);
  enter(h.c, s, name.path, score, k);
  const { epoch, step } = epochStep(h);
  if (h.c.verbose) {
    const cur = formatValue(Number.isNaN(currentValue.value) ? { type: 'float', value: score } : currentValue, '0.5f');
    const best = formatValue({ type: 'float', value: s.bestModelScore! }, '0.5f');
    log(h, 'info', `Epoch ${epoch}, global step ${step}: ${pyStrRepr(monitor)} reached ${cur} (best ${best}), saving model to ${pyStrRepr(name.path)} as top ${k}`);
  }
  save(h, name.path, { rule: 'topK', trigger, monitor, score, k, keepAll: h.c.saveTopK === -1, kthValue: kthBefore, epoch, step }, name.absent);
  noteBump(h, name);
  keepWith(h, wanted, name.path);
  if (displaced) release(h, 'topK', displaced, name.path, { rule: 'displaced', by: name.path, score });
}

/** `_save_none_monitor_checkpoint`: every trigger saves; save_top_k=1 keeps only the newest. */
function noMonitorSave(h: Hook, trigger: Trigger, wanted: readonly ExtraMember[]): boolean {
  const previous = h.s.bestModelPath;
  const name = versionedName(h, null, previous);
  h.s.bestModelPath = name.path;
  save(h, name.path, { rule: 'noMonitor', trigger, ...epochStep(h) }, name.absent);
  noteBump(h, name);
  keepWith(h, wanted, name.path);
  if (h.c.saveTopK === 1 && previous) release(h, 'topK', previous, name.path, { rule: 'superseded', by: name.path, series: 'noMonitor' });
  return true;
}

/** `_save_last_checkpoint`. */
function lastStep(h: Hook, trigger: Trigger) {
  if (!h.c.saveLast) return;
  const name = versionedName(h, h.c.checkpointNameLast, h.s.lastModelPath);
  const previous = h.s.lastModelPath;
  h.s.lastModelPath = name.path;
  const reason: Reason = { rule: 'last', trigger, ...epochStep(h) };
  if (linksTo(h.c, h.s.lastCheckpointSaved)) {
    if (link(h, h.s.lastCheckpointSaved, name.path, reason)) noteBump(h, name);
    else h.notes.push({ kind: 'lastUnchanged', path: name.path });
  } else {
    save(h, name.path, reason, name.absent);
    noteBump(h, name);
  }
  if (!previous) return;
  if (isComposed(h.c)) release(h, 'last', previous, name.path, { rule: 'superseded', by: name.path, series: 'last' });
  else if (shouldRemove(h, previous, name.path)) remove(h, previous, { rule: 'superseded', by: name.path, series: 'last' });
}

// ---- hooks -------------------------------------------------------------------------------------

export function setup(h: Hook, event: Extract<LoopEvent, { type: 'setup' }>) {
  h.notes.push({ kind: 'noDecision', event: 'setup' });
  const trainer = resolveTrainer(event.trainer, h.s.cwd);
  h.s.trainer = trainer;
  const dirpath = resolveCheckpointDir(h.s, trainer);
  h.s.dirpath = dirpath;
  h.s.files = treeFromListing(event.files ?? [], h.s.cwd);
  if ((event.stage ?? 'fit') === 'fit' && h.c.saveTopK !== 0 && isNonEmptyDir(h.s.files, fileKey(dirpath || '.', h.s.cwd))) {
    warn(h, `Checkpoint directory ${dirpath} exists and is not empty.`);
  }
  if (h.c.saveLast === 'link' && !isLocalPath(dirpath)) {
    throw new Raised('ValueError', `\`ModelCheckpoint(save_last='link')\` is only supported for local file paths, got \`dirpath=${dirpath}\`.`);
  }
}

/** `load_state_dict`: same dirpath restores the fields; a changed dirpath restores only best_model_path. */
export function stateLoaded(h: Hook, sd: LightningStateDict) {
  h.notes.push({ kind: 'noDecision', event: 'stateLoaded' });
  const s = h.s;
  const fromCkpt = 'dirpath' in sd ? (sd.dirpath ?? null) : s.dirpath;
  if (s.dirpath === fromCkpt) {
    s.bestModelScore = sd.best_model_score;
    if (sd.kth_best_model_path !== undefined) s.kthBestModelPath = sd.kth_best_model_path;
    if (sd.kth_value !== undefined) s.kthValue = sd.kth_value;
    if (sd.best_k_models !== undefined) s.bestKModels = VMap.from(sd.best_k_models);
    if (sd.last_model_path !== undefined) s.lastModelPath = sd.last_model_path;
  } else {
    const repr = (p: string | null) => (p === null ? 'None' : pyStrRepr(p));
    warn(
      h,
      `The dirpath has changed from ${repr(fromCkpt)} to ${repr(s.dirpath)},` +
        ' therefore `best_model_score`, `kth_best_model_path`, `kth_value`, `last_model_path` and' +
        ' `best_k_models` won\'t be reloaded. Only `best_model_path` will be reloaded.',
    );
  }
  s.bestModelPath = sd.best_model_path;
  s.extremaTracked = false;
}

export function trainStarted(h: Hook) {
  h.notes.push({ kind: 'noDecision', event: 'trainStarted' });
  h.s.lastTimeChecked = h.view.time ?? null;
}

export function filesListed(h: Hook, files: Extract<LoopEvent, { type: 'filesListed' }>['files']) {
  h.notes.push({ kind: 'noDecision', event: 'filesListed' });
  h.s.files = treeFromListing(files, h.s.cwd);
}

export function trainBatchEnded(h: Hook) {
  const t = trainerOf(h);
  const manual = !t.automaticOptimization;
  const n = h.tr.everyNTrainSteps;
  const byStep = stepDue(n, h.view.globalStep);
  const interval = manual ? null : h.tr.trainTimeInterval;
  const time = interval === null ? null : timeCheck(interval, h.s, h.view.time);
  if (!byStep && !time?.due) {
    const checks: Array<import('../notes.ts').NotDue> = [];
    if (n >= 1 || interval === null) checks.push({ trigger: 'everyNTrainSteps', n, step: h.view.globalStep });
    if (interval !== null) checks.push({ trigger: 'trainTimeInterval', interval, elapsed: time!.elapsed });
    h.notes.push({ kind: 'notDue', checks });
    return;
  }
  const skip = skipCause(t, h.view, h.s.lastGlobalStepSaved);
  // manual optimization checks the skip rules before the deferral; automatic after (Lightning's order)
  if (manual && skip !== null) return void h.notes.push(skipped(h, skip));
  if (!manual && time?.due) h.s.lastTimeChecked = h.view.time!;
  const trigger: Trigger = byStep ? 'everyNTrainSteps' : 'trainTimeInterval';
  const monitor = h.c.monitor;
  if (monitor !== null) {
    const cause = deferCause(candidate(h, monitor) !== undefined, manual ? true : saveHook(h.c, t, h.view).atTrainEpochEnd, t, h.view, manual);
    if (cause !== null) {
      h.s.deferSaveUntilValidation = true;
      h.notes.push({ kind: 'deferred', cause, monitor, trigger });
      return;
    }
  }
  if (skip !== null) return void h.notes.push(skipped(h, skip));
  topkStep(h, trigger);
  lastStep(h, trigger);
  if (manual && h.view.time !== undefined) h.s.lastTimeChecked = h.view.time;
}

function skipped(h: Hook, cause: import('../notes.ts').SkipCause) {
  return { kind: 'skipped', cause, step: h.view.globalStep, lastSavedStep: h.s.lastGlobalStepSaved, stateFn: trainerOf(h).stateFn } as const;
}

/** on_train_epoch_end and on_validation_end: the epoch trigger (or the deferred save), then last. */
export function epochOrValidationEnded(h: Hook, hook: 'trainEpochEnd' | 'validationEnd') {
  const t = trainerOf(h);
  const skip = skipCause(t, h.view, h.s.lastGlobalStepSaved);
  if (skip !== null) return void h.notes.push(skipped(h, skip));
  const at = saveHook(h.c, t, h.view);
  if (at.atTrainEpochEnd !== (hook === 'trainEpochEnd')) {
    h.notes.push({ kind: 'otherHook', actsAt: at.atTrainEpochEnd ? 'trainEpochEnd' : 'validationEnd', setting: at.setting });
    return;
  }
  if (hook === 'validationEnd' && h.s.deferSaveUntilValidation) {
    topkStep(h, 'deferredToValidationEnd');
    lastStep(h, 'deferredToValidationEnd');
    h.s.deferSaveUntilValidation = false;
    return;
  }
  const notDue = epochNotDue(h.tr.everyNEpochs, h.view.epoch);
  let saved = false;
  if (notDue === null) saved = topkStep(h, hook);
  else h.notes.push({ kind: 'notDue', checks: [notDue] });
  if (!h.c.saveLast) return;
  if (lastDueAfterTopK(h.c, saved, h.s.lastCheckpointSaved)) lastStep(h, hook);
  else h.notes.push({ kind: 'lastNotDue', cause: 'nothingSavedAtThisStep' });
}

export function exceptionRaised(h: Hook, exception: { type: string; message: string }) {
  const cause = exceptionSkip(h.c, trainerOf(h), h.view, h.s.lastGlobalStepSaved);
  if (cause !== null) return void h.notes.push({ kind: 'noExceptionSave', cause });
  const path = formatName(h, null);
  save(h, path, { rule: 'exception', exceptionType: exception.type, ...epochStep(h) });
  lastStep(h, 'exception');
  log(h, 'info', `An ${exception.type} was raised with message:             ${exception.message}, saved checkpoint to ${path}`);
}

export function trainEnded(h: Hook) {
  const cause = trainEndSkip(h.c, h.s.lastCheckpointSaved);
  if (cause === 'noLastConfigured') return void h.notes.push({ kind: 'noLastConfigured' });
  if (cause === 'alreadySavedThisFit') return void h.notes.push({ kind: 'lastNotDue', cause });
  lastStep(h, 'trainEnd');
}
