/**
 * The reducer: `reduce(state, event) => [state, effects]`, Lightning 2.6's ModelCheckpoint hook by
 * hook. Pure: no I/O, no clock, no randomness, inputs never mutated.
 *
 * Each call works on a private draft of the state, written in the same imperative order as
 * Lightning's methods. That order is observable: when Lightning raises halfway through a hook
 * (a missing monitor, a template that cannot be formatted), the attributes it had already changed
 * stay changed. Here a raise is an internal exception caught at the end of `reduce`, returned as
 * an `error` effect with the draft as it was at that point.
 */
import { triggers, type PolicyConfig, type Triggers } from './config.ts';
import type { Effect, Reason, Trigger } from './effects.ts';
import type { LightningStateDict, LoopEvent, LoopView, TrainerFacts } from './events.ts';
import { emptyTree, exists, fileKey, isNonEmptyDir, removePath, treeFromListing, writeFile, writeSymlink } from './files.ts';
import { formatValue, PyFormatError, pyStrListRepr, pyStrRepr, type PyValue } from './format/pyformat.ts';
import { formatCheckpointName } from './format/template.ts';
import { isLocalPath, isStrictParent, pathlibAbsoluteParts, pyAbspath, pyDirname, pyJoin, pyNormpath, pyRelpath } from './paths.ts';
import type { PolicyState, ResolvedTrainer } from './state.ts';
import { VMap } from './vmap.ts';

export type Step = readonly [PolicyState, readonly Effect[]];

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
  };
  return [state, effects];
}

/** `os.path.realpath(os.path.expanduser(dirpath))` for local paths, done lexically. */
function resolveInitDirpath(dirpath: string | null, cwd: string, home: string | undefined): string | null {
  if (!dirpath || !isLocalPath(dirpath)) return dirpath;
  let p = dirpath;
  if (home !== undefined && (p === '~' || p.startsWith('~/'))) p = home + p.slice(1);
  return pyAbspath(p, cwd);
}

/** Where checkpoints go when dirpath is not given (`__resolve_ckpt_dir`). */
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

const TRIGGERS = new WeakMap<PolicyConfig, Triggers>();
/** The derived triggers of a config, computed once per config object (the reducer runs per event). */
function triggersOf(config: PolicyConfig): Triggers {
  let tr = TRIGGERS.get(config);
  if (tr === undefined) TRIGGERS.set(config, (tr = triggers(config)));
  return tr;
}

/** A Python exception raised by the callback: ends the hook. */
class Raised {
  constructor(readonly errorType: string, readonly message: string) {}
}

type Draft = { -readonly [K in keyof PolicyState]: PolicyState[K] };
type Candidates = Map<string, PyValue>;

const NO_VIEW: LoopView = { epoch: 0, globalStep: 0 };

/** Everything one hook call does, in Lightning's method structure. */
class Hook {
  readonly s: Draft;
  readonly effects: Effect[] = [];
  readonly tr: Triggers;
  private candidatesMemo: Candidates | null = null;

  constructor(state: PolicyState, readonly view: LoopView) {
    this.s = { ...state };
    this.tr = triggersOf(state.config);
  }

  get c(): PolicyConfig {
    return this.s.config;
  }

  get trainer(): ResolvedTrainer {
    if (this.s.trainer === null) throw new Raised('RuntimeError', 'ckpt-policy: a loop event arrived before setup; send a setup event first');
    return this.s.trainer;
  }

  // ---- small helpers -----------------------------------------------------------------------

  log(level: 'debug' | 'info', message: string) {
    this.effects.push({ type: 'log', level, message });
  }

  warn(message: string) {
    this.effects.push({ type: 'log', level: 'warning', message, category: 'UserWarning' });
  }

  key(path: string): string {
    return fileKey(path, this.s.cwd);
  }

  fileExists(path: string): boolean {
    return exists(this.s.files, this.key(path));
  }

  /** `_monitor_candidates`: callback_metrics (float32) with epoch/step as ints, appended unless logged. */
  candidates(): Candidates {
    if (this.candidatesMemo) return this.candidatesMemo;
    const m: Candidates = new Map();
    const metrics = this.view.metrics ?? {};
    for (const name in metrics) m.set(name, { type: 'float', value: Math.fround(metrics[name]!) });
    const epoch = m.get('epoch');
    m.set('epoch', { type: 'int', value: epoch ? toInt32(epoch.value) : this.view.epoch });
    const step = m.get('step');
    m.set('step', { type: 'int', value: step ? toInt32(step.value) : this.view.globalStep });
    this.candidatesMemo = m;
    return m;
  }

  epochStep(): { epoch: number; step: number } {
    const c = this.candidates();
    return { epoch: c.get('epoch')!.value, step: c.get('step')!.value };
  }

  /** `format_checkpoint_name`: template -> path under dirpath. Python's format errors are raised as they are. */
  formatName(template: string | null, ver?: number): string {
    let name: string;
    try {
      name = formatCheckpointName(
        template || this.c.filename,
        this.candidates(),
        { joinChar: this.c.checkpointJoinChar, equalsChar: this.c.checkpointEqualsChar, autoInsertMetricName: this.c.autoInsertMetricName, extension: this.c.fileExtension },
        ver,
      );
    } catch (e) {
      if (e instanceof PyFormatError) throw new Raised(e.pyType, e.message);
      throw e;
    }
    const dirpath = this.s.dirpath;
    const path = dirpath ? pyJoin(dirpath, name) : name;
    this.guardInside(path);
    return path;
  }

  /** Deliberate difference from Lightning: a name never leaves the checkpoint directory. */
  guardInside(path: string) {
    const dirpath = this.s.dirpath ?? '';
    if (!isLocalPath(dirpath)) {
      if (!path.startsWith(dirpath) || path.slice(dirpath.length).split('/').includes('..')) {
        throw new Raised('ValueError', `ckpt-policy: checkpoint name ${pyStrRepr(path)} leaves the checkpoint directory ${pyStrRepr(dirpath)}`);
      }
      return;
    }
    const dir = pyAbspath(dirpath || '.', this.s.cwd);
    const prefix = dir === '/' ? '/' : dir + '/';
    // the common case needs no normalization: directly under dirpath, no '.'/'..' segment
    if (path.startsWith(prefix) && !path.includes('/.', prefix.length - 1)) return;
    const abs = pyAbspath(path, this.s.cwd);
    if (!abs.startsWith(prefix)) {
      throw new Raised('ValueError', `ckpt-policy: checkpoint name ${pyStrRepr(path)} leaves the checkpoint directory ${pyStrRepr(dirpath)}`);
    }
  }

  // ---- Lightning's skip rules ----------------------------------------------------------------

  shouldSkipSaving(): boolean {
    const t = this.trainer;
    return Boolean(t.fastDevRun) || t.stateFn !== 'fit' || Boolean(this.view.sanityChecking) || this.s.lastGlobalStepSaved === this.view.globalStep;
  }

  shouldSaveOnException(): boolean {
    const t = this.trainer;
    return this.c.saveOnException && !t.fastDevRun && !this.view.sanityChecking && this.s.lastGlobalStepSaved !== this.view.globalStep;
  }

  /** `_should_save_on_train_epoch_end`: derived from the loop when not set. */
  shouldSaveOnTrainEpochEnd(): boolean {
    if (this.c.saveOnTrainEpochEnd !== null) return this.c.saveOnTrainEpochEnd;
    const t = this.trainer;
    if (t.valCheckTimeInterval !== null) return false;
    if (t.checkValEveryNEpoch !== 1) return false;
    if (sum(this.view.numValBatches) === 0) return true;
    return t.valCheckInterval === 1;
  }

  // ---- saving --------------------------------------------------------------------------------

  saveCheckpoint(path: string, reason: Reason) {
    this.effects.push({ type: 'save', path, weightsOnly: this.c.saveWeightsOnly, reason });
    this.s.files = writeFile(this.s.files, this.key(path));
    this.s.lastGlobalStepSaved = this.view.globalStep;
    this.s.lastCheckpointSaved = path;
  }

  removeCheckpoint(path: string, reason: Reason) {
    this.effects.push({ type: 'remove', path, reason });
    this.s.files = removePath(this.s.files, this.key(path));
  }

  linkCheckpoint(target: string, linkpath: string, reason: Reason) {
    const cwd = this.s.cwd;
    if (pyAbspath(target, cwd) === pyAbspath(linkpath, cwd)) return;
    const relTarget = pyRelpath(target, pyDirname(linkpath), cwd);
    this.effects.push({ type: 'link', target, path: linkpath, relTarget, fallback: 'copy', reason });
    this.s.files = writeSymlink(this.s.files, this.key(linkpath), relTarget);
  }

  /**
   * `_should_remove_checkpoint`. Lightning removes any non-local path unconditionally; we keep its
   * local rules and, on purpose, never remove a remote path outside dirpath or the resumed-from one.
   */
  shouldRemove(previous: string, current: string): boolean {
    if (previous === current) return false;
    // the common case, without splitting paths: a normalized name under a normalized dirpath
    const dir = this.s.dirpath;
    const resume = this.trainer.ckptPath;
    if (dir && previous.startsWith(dir + '/') && isPlainAbsolute(dir) && isPlainAbsolute(previous) && (resume === null || (resume !== previous && isPlainAbsolute(resume)))) return true;
    if (!isLocalPath(previous)) {
      const base = dir ?? '';
      return previous !== resume && base !== '' && previous.startsWith(base.endsWith('/') ? base : base + '/') && !previous.slice(base.length).split('/').includes('..');
    }
    const cwd = this.s.cwd;
    const prev = pathlibAbsoluteParts(previous, cwd);
    if (resume !== null && samePath(prev, pathlibAbsoluteParts(resume, cwd))) return false;
    return isStrictParent(pathlibAbsoluteParts(dir ?? '', cwd), prev);
  }

  /** `_get_metric_interpolated_filepath_name`: the version counter. */
  interpolatedName(exempt: string | null): string {
    let path = this.formatName(null);
    if (this.c.enableVersionCounter) {
      let v = this.c.startingVersion;
      while (this.fileExists(path) && path !== exempt) path = this.formatName(null, v++);
    }
    return path;
  }

  saveTopk(trigger: Trigger) {
    if (this.c.saveTopK === 0) return;
    const monitor = this.c.monitor;
    if (monitor === null) return this.saveNoneMonitor(trigger);
    const cands = this.candidates();
    if (!cands.has(monitor)) {
      const m =
        `\`ModelCheckpoint(monitor=${pyStrRepr(monitor)})\` could not find the monitored key in the returned` +
        ` metrics: ${pyStrListRepr([...cands.keys()])}.` +
        ` HINT: Did you call \`log(${pyStrRepr(monitor)}, value)\` in the \`LightningModule\`?`;
      if (this.view.valLoopHasRun) throw new Raised('MisconfigurationException', m);
      if (!this.s.warned.includes(m)) {
        this.s.warned = [...this.s.warned, m];
        this.warn(m);
      }
    }
    this.saveMonitor(monitor, trigger);
  }

  /** `check_monitor_top_k` + `_save_monitor_checkpoint` */
  saveMonitor(monitor: string, trigger: Trigger) {
    const current = this.candidates().get(monitor);
    if (current !== undefined && this.checkTopK(current.value)) return this.updateBestAndSave(monitor, current, trigger);
    if (this.c.verbose) {
      const { epoch, step } = this.epochStep();
      this.log('info', `Epoch ${epoch}, global step ${step}: ${pyStrRepr(monitor)} was not in top ${this.c.saveTopK}`);
    }
  }

  checkTopK(current: number): boolean {
    const k = this.c.saveTopK;
    if (k === -1) return true;
    if (this.s.bestKModels.size < k) return true;
    const kth = this.s.bestKModels.get(this.s.kthBestModelPath);
    if (kth === undefined) throw new Raised('KeyError', pyStrRepr(this.s.kthBestModelPath));
    return this.c.mode === 'min' ? current < kth : current > kth;
  }

  updateBestAndSave(monitor: string, currentValue: PyValue, trigger: Trigger) {
    const s = this.s;
    const k = this.c.saveTopK === -1 ? s.bestKModels.size + 1 : this.c.saveTopK;
    const kthBefore = s.bestKModels.size >= k && k > 0 ? s.kthValue : null;
    let delPath: string | null = null;
    if (s.bestKModels.size === k && k > 0) {
      delPath = s.kthBestModelPath;
      if (!s.bestKModels.has(delPath)) throw new Raised('KeyError', pyStrRepr(delPath));
      s.bestKModels = s.bestKModels.delete(delPath);
    }
    let current = currentValue.value;
    let currentPy = currentValue;
    if (Number.isNaN(current)) {
      current = this.c.mode === 'min' ? Infinity : -Infinity;
      currentPy = { type: 'float', value: current };
    }
    const path = this.interpolatedName(delPath);

    s.currentScore = current;
    const existed = s.bestKModels.has(path);
    const prevBest = s.bestModelPath;
    const prevKth = s.kthBestModelPath;
    s.bestKModels = s.bestKModels.set(path, current);
    const min = this.c.mode === 'min';
    const incremental = this.c.saveTopK === -1 && s.extremaTracked && !existed;
    if (incremental) {
      // save_top_k=-1 appends: the new entry is the first min / max only if strictly better than
      // the tracked ones (whose scores are kthValue / bestModelScore), as Python's min()/max() pick
      if (prevKth === '' || (min ? current > s.kthValue : current < s.kthValue)) [s.kthBestModelPath, s.kthValue] = [path, current];
      if (prevBest === '' || s.bestModelScore === null || (min ? current < s.bestModelScore : current > s.bestModelScore)) [s.bestModelPath, s.bestModelScore] = [path, current];
    } else {
      if (s.bestKModels.size === k) {
        s.kthBestModelPath = firstExtreme(s.bestKModels, !min);
        s.kthValue = s.bestKModels.get(s.kthBestModelPath)!;
      }
      s.bestModelPath = firstExtreme(s.bestKModels, min);
      s.bestModelScore = s.bestKModels.get(s.bestModelPath)!;
      // the tracked pair is exact only when both were just recomputed from the whole map
      s.extremaTracked = this.c.saveTopK === -1 && s.bestKModels.size === k;
    }

    const { epoch, step } = this.epochStep();
    if (this.c.verbose) {
      const cur = formatValue(currentPy, '0.5f');
      const best = formatValue({ type: 'float', value: s.bestModelScore }, '0.5f');
      this.log('info', `Epoch ${epoch}, global step ${step}: ${pyStrRepr(monitor)} reached ${cur} (best ${best}), saving model to ${pyStrRepr(path)} as top ${k}`);
    }
    this.saveCheckpoint(path, { rule: 'topK', trigger, monitor, score: current, k, keepAll: this.c.saveTopK === -1, kthValue: kthBefore, epoch, step });
    if (delPath && this.shouldRemove(delPath, path)) this.removeCheckpoint(delPath, { rule: 'displaced', by: path, score: current });
  }

  saveNoneMonitor(trigger: Trigger) {
    const path = this.interpolatedName(this.s.bestModelPath);
    const previous = this.s.bestModelPath;
    this.s.bestModelPath = path;
    this.saveCheckpoint(path, { rule: 'noMonitor', trigger, ...this.epochStep() });
    if (this.c.saveTopK === 1 && previous && this.shouldRemove(previous, path)) {
      this.removeCheckpoint(previous, { rule: 'superseded', by: path, series: 'noMonitor' });
    }
  }

  saveLast(trigger: Trigger) {
    if (!this.c.saveLast) return;
    const lastName = this.c.checkpointNameLast;
    let path = this.formatName(lastName);
    if (this.c.enableVersionCounter) {
      let v = this.c.startingVersion;
      while (this.fileExists(path) && path !== this.s.lastModelPath) path = this.formatName(lastName, v++);
    }
    const previous = this.s.lastModelPath;
    this.s.lastModelPath = path;
    const reason: Reason = { rule: 'last', trigger, ...this.epochStep() };
    if (this.c.saveLast === 'link' && this.s.lastCheckpointSaved && this.c.saveTopK !== 0) {
      this.linkCheckpoint(this.s.lastCheckpointSaved, path, reason);
    } else {
      this.saveCheckpoint(path, reason);
    }
    if (previous && this.shouldRemove(previous, path)) this.removeCheckpoint(previous, { rule: 'superseded', by: path, series: 'last' });
  }

  /** "save last" after a top-k attempt at an epoch or validation end */
  lastAfterTopkDue(): boolean {
    return this.s.lastGlobalStepSaved === this.view.globalStep || (this.c.saveLast === 'link' && this.s.lastCheckpointSaved !== '');
  }

  everyNEpochsDue(): boolean {
    const n = this.tr.everyNEpochs;
    return n >= 1 && (this.view.epoch + 1) % n === 0;
  }

  // ---- hooks ---------------------------------------------------------------------------------

  setup(event: Extract<LoopEvent, { type: 'setup' }>) {
    const trainer = resolveTrainer(event.trainer, this.s.cwd);
    this.s.trainer = trainer;
    const dirpath = resolveCheckpointDir(this.s, trainer);
    this.s.dirpath = dirpath;
    this.s.files = treeFromListing(event.files ?? [], this.s.cwd);
    if ((event.stage ?? 'fit') === 'fit' && this.c.saveTopK !== 0 && isNonEmptyDir(this.s.files, this.key(dirpath || '.'))) {
      this.warn(`Checkpoint directory ${dirpath} exists and is not empty.`);
    }
    if (this.c.saveLast === 'link' && !isLocalPath(dirpath)) {
      throw new Raised('ValueError', `\`ModelCheckpoint(save_last='link')\` is only supported for local file paths, got \`dirpath=${dirpath}\`.`);
    }
  }

  loadStateDict(sd: LightningStateDict) {
    const s = this.s;
    const fromCkpt = 'dirpath' in sd ? (sd.dirpath ?? null) : s.dirpath;
    if (s.dirpath === fromCkpt) {
      s.bestModelScore = sd.best_model_score;
      if (sd.kth_best_model_path !== undefined) s.kthBestModelPath = sd.kth_best_model_path;
      if (sd.kth_value !== undefined) s.kthValue = sd.kth_value;
      if (sd.best_k_models !== undefined) s.bestKModels = VMap.from(sd.best_k_models);
      if (sd.last_model_path !== undefined) s.lastModelPath = sd.last_model_path;
    } else {
      const repr = (p: string | null) => (p === null ? 'None' : pyStrRepr(p));
      this.warn(
        `The dirpath has changed from ${repr(fromCkpt)} to ${repr(s.dirpath)},` +
          ' therefore `best_model_score`, `kth_best_model_path`, `kth_value`, `last_model_path` and' +
          ' `best_k_models` won\'t be reloaded. Only `best_model_path` will be reloaded.',
      );
    }
    s.bestModelPath = sd.best_model_path;
    s.extremaTracked = false;
  }

  trainBatchEnded() {
    if (!this.trainer.automaticOptimization) return this.manualBatchEnded();
    const skipDueToState = this.shouldSkipSaving();
    const n = this.tr.everyNTrainSteps;
    const skipBatch = n < 1 || this.view.globalStep % n !== 0;
    let skipTime = true;
    const now = this.view.time;
    const interval = this.tr.trainTimeInterval;
    if (interval !== null) {
      const prev = this.s.lastTimeChecked;
      skipTime = prev === null || now === undefined || now - prev < interval;
    }
    if (skipBatch && skipTime) return;
    if (!skipTime) this.s.lastTimeChecked = now!;
    const trigger: Trigger = skipBatch ? 'trainTimeInterval' : 'everyNTrainSteps';

    const monitor = this.c.monitor;
    if (monitor !== null && !this.candidates().has(monitor)) {
      this.s.deferSaveUntilValidation = true;
      return;
    }
    // a stale monitored value: validation right after this batch will refresh it
    if (monitor !== null && !this.shouldSaveOnTrainEpochEnd() && this.view.isLastBatch) {
      const t = this.trainer;
      const cve = t.checkValEveryNEpoch;
      const willRunVal = t.enableValidation && sum(this.view.numValBatches) > 0 && (cve === null || (this.view.epoch + 1) % cve === 0);
      if (willRunVal) {
        this.s.deferSaveUntilValidation = true;
        return;
      }
    }
    if (skipDueToState) return;
    this.saveTopk(trigger);
    this.saveLast(trigger);
  }

  /** Lightning's separate branch for manual optimization (its pre-optimizer-step model swap is the loop's business). */
  manualBatchEnded() {
    const n = this.tr.everyNTrainSteps;
    if (n < 1 || this.view.globalStep % n !== 0) return;
    if (this.shouldSkipSaving()) return;
    const monitor = this.c.monitor;
    if (monitor !== null && !this.candidates().has(monitor)) {
      this.s.deferSaveUntilValidation = true;
      return;
    }
    this.saveTopk('everyNTrainSteps');
    this.saveLast('everyNTrainSteps');
    if (this.view.time !== undefined) this.s.lastTimeChecked = this.view.time;
  }

  trainEpochEnded() {
    if (this.shouldSkipSaving() || !this.shouldSaveOnTrainEpochEnd()) return;
    if (this.everyNEpochsDue()) this.saveTopk('trainEpochEnd');
    if (this.lastAfterTopkDue()) this.saveLast('trainEpochEnd');
  }

  validationEnded() {
    if (this.shouldSkipSaving() || this.shouldSaveOnTrainEpochEnd()) return;
    if (this.s.deferSaveUntilValidation) {
      this.saveTopk('deferredToValidationEnd');
      this.saveLast('deferredToValidationEnd');
      this.s.deferSaveUntilValidation = false;
      return;
    }
    if (this.everyNEpochsDue()) this.saveTopk('validationEnd');
    if (this.lastAfterTopkDue()) this.saveLast('validationEnd');
  }

  exceptionRaised(exception: { type: string; message: string }) {
    if (!this.shouldSaveOnException()) return;
    const path = this.formatName(null);
    this.saveCheckpoint(path, { rule: 'exception', exceptionType: exception.type, ...this.epochStep() });
    this.saveLast('exception');
    this.log('info', `An ${exception.type} was raised with message:             ${exception.message}, saved checkpoint to ${path}`);
  }

  trainEnded() {
    if (this.c.saveLast && !this.s.lastCheckpointSaved) this.saveLast('trainEnd');
  }
}

export function sum(xs: readonly number[] | undefined): number {
  let total = 0;
  for (const x of xs ?? []) total += x;
  return total;
}

/** torch's float -> int32 conversion (`.int()`): truncation; NaN and overflow give INT32_MIN on x86. */
export function toInt32(x: number): number {
  const v = Math.trunc(x);
  return Number.isFinite(v) && v >= -2147483648 && v <= 2147483647 ? v : -2147483648;
}

/**
 * Python's min()/max() over a dict by value: the FIRST extreme in insertion order. Scanned
 * unordered with ties broken by insertion rank (the same answer for a total order); a NaN, for
 * which Python's answer depends on the order of the scan, falls back to the ordered walk.
 */
function firstExtreme(m: VMap<number>, wantMin: boolean): string {
  let best: string | undefined;
  let bestV = 0;
  let bestRank = 0;
  let sawNaN = false;
  m.forEachRanked((v, k, rank) => {
    if (Number.isNaN(v)) sawNaN = true;
    if (best === undefined || (wantMin ? v < bestV : v > bestV) || (v === bestV && rank < bestRank)) [best, bestV, bestRank] = [k, v, rank];
  });
  if (!sawNaN) return best ?? '';
  best = undefined;
  for (const [k, v] of m) {
    if (best === undefined || (wantMin ? v < bestV : v > bestV)) [best, bestV] = [k, v];
  }
  return best ?? '';
}

/** An absolute path with nothing pathlib would drop or keep differently: no '.', '..' or empty segment. */
function isPlainAbsolute(p: string): boolean {
  return p.startsWith('/') && !p.includes('//') && !p.includes('/.') && !p.endsWith('/');
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** One event through the policy. Never throws for Lightning's errors: they come back as an `error` effect. */
export function reduce(state: PolicyState, event: LoopEvent): Step {
  const hook = new Hook(state, 'view' in event && event.view ? event.view : NO_VIEW);
  try {
    switch (event.type) {
      case 'setup':
        hook.setup(event);
        break;
      case 'stateLoaded':
        hook.loadStateDict(event.stateDict);
        break;
      case 'trainStarted':
        hook.s.lastTimeChecked = event.view.time ?? null;
        break;
      case 'trainBatchEnded':
        hook.trainBatchEnded();
        break;
      case 'validationEnded':
        hook.validationEnded();
        break;
      case 'trainEpochEnded':
        hook.trainEpochEnded();
        break;
      case 'trainEnded':
        hook.trainEnded();
        break;
      case 'exceptionRaised':
        hook.exceptionRaised(event.exception);
        break;
      case 'filesListed':
        hook.s.files = treeFromListing(event.files, hook.s.cwd);
        break;
      default:
        return assertNever(event);
    }
  } catch (e) {
    if (!(e instanceof Raised)) throw e;
    hook.effects.push({ type: 'error', errorType: e.errorType, message: e.message });
  }
  return [hook.s, hook.effects];
}

function assertNever(x: never): never {
  throw new Error(`unknown event ${JSON.stringify(x)}`);
}
