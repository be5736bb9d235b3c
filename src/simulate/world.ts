/**
 * One policy's simulated world: the reducer's state, the checkpoint files it has on (simulated)
 * disk with what each holds, and the running figures. Effects are counted and recorded, never
 * performed.
 */
import type { PolicyConfig } from '../core/config.ts';
import { triggers } from '../core/config.ts';
import type { Effect, Reason } from '../core/effects.ts';
import type { LightningStateDict, LoggerFacts, LoopEvent, TrainerFacts } from '../core/events.ts';
import type { FileEntry } from '../core/files.ts';
import { templateKeys } from '../core/format/template.ts';
import type { Note } from '../core/notes.ts';
import { init, reduce } from '../core/reduce.ts';
import { lightningStateDict, type PolicyState } from '../core/state.ts';
import type { UnknownValue } from '../sources/reconstruct.ts';
import { NoteTally } from './noteTally.ts';

/** What a checkpoint file on the simulated disk holds. */
export interface SavedFile {
  readonly path: string;
  readonly kind: 'file' | 'symlink';
  /** a symlink's target (absolute) */
  readonly target?: string;
  readonly rule: Reason['rule'];
  readonly fit: number;
  readonly epoch: number;
  readonly globalStep: number;
  /** written at a train epoch end (a resume from it starts the next epoch) */
  readonly atEpochEnd: boolean;
  readonly batchesDone: number;
  /** the callback's state stored in the file (Lightning's state_dict at the save) */
  readonly stateDict: LightningStateDict;
  /** the monitored score Lightning recorded for it (top-k saves), NaN already replaced */
  readonly score: number | null;
  /** the figures' metric when it was written */
  readonly metricValue: number | null;
}

export interface SaveRecord {
  /** position among this policy's saves and removals */
  readonly seq: number;
  readonly fit: number;
  readonly path: string;
  readonly kind: 'save' | 'link';
  readonly target?: string;
  readonly reason: Reason;
  readonly epoch: number;
  readonly step: number;
  readonly score: number | null;
  readonly metricValue: number | null;
}

export interface RemovalRecord {
  readonly seq: number;
  readonly fit: number;
  readonly path: string;
  readonly reason: Reason;
  readonly epoch: number;
  readonly step: number;
}

/** A decision the log could not determine, with why. */
export interface Undetermined {
  readonly fit: number;
  readonly epoch: number | null;
  readonly step: number | null;
  readonly decision: string;
  readonly reason: string;
}

export interface PolicyError {
  readonly fit: number;
  readonly epoch: number;
  readonly step: number;
  readonly errorType: string;
  readonly message: string;
}

/** An event as the simulator feeds it: the loop event plus what the log could not tell. */
export interface FedEvent {
  readonly event: LoopEvent;
  readonly unknown: readonly UnknownValue[];
  readonly stepRange: readonly [number, number] | null;
  readonly batchesDone: number;
}

export class PolicyWorld {
  state: PolicyState;
  /** checkpoint files the policy has on disk, by absolute path */
  readonly files = new Map<string, SavedFile>();
  readonly saves: SaveRecord[] = [];
  readonly removals: RemovalRecord[] = [];
  readonly undetermined: Undetermined[] = [];
  readonly errors: PolicyError[] = [];
  readonly warnings = new Set<string>();
  /** the reducer's notes, counted (for the report) */
  readonly notes = new NoteTally();
  /** every effect, in order (kept only when asked: property tests compare them) */
  readonly effects: Effect[] | null;
  written = 0;
  links = 0;
  seq = 0;
  peakFiles = 0;
  regularFiles = 0;
  failed = false;
  fit = 0;
  private readonly templateFields: readonly string[];
  private readonly usesStep: boolean;

  constructor(
    readonly name: string,
    readonly config: PolicyConfig,
    readonly cwd: string,
    /** the figures' metric for this policy (its monitor unless --metric) */
    readonly metric: string | null,
    keepEffects = false,
  ) {
    const [s, effects] = init(config, { cwd });
    this.state = s;
    this.effects = keepEffects ? [...effects] : null;
    this.templateFields = templateKeys(config.filename);
    this.usesStep = this.templateFields.includes('step');
  }

  /** A copy to try another resume checkpoint on. */
  clone(): PolicyWorld {
    const w = new PolicyWorld(this.name, this.config, this.cwd, this.metric, this.effects !== null);
    w.state = this.state;
    for (const [k, v] of this.files) w.files.set(k, v);
    w.saves.push(...this.saves);
    w.removals.push(...this.removals);
    w.undetermined.push(...this.undetermined);
    w.undeterminedOverflow = this.undeterminedOverflow;
    w.errors.push(...this.errors);
    for (const x of this.warnings) w.warnings.add(x);
    if (w.effects && this.effects) w.effects.splice(0, w.effects.length, ...this.effects);
    w.written = this.written;
    w.seq = this.seq;
    w.links = this.links;
    w.peakFiles = this.peakFiles;
    w.regularFiles = this.regularFiles;
    w.failed = this.failed;
    w.fit = this.fit;
    return w;
  }

  /** A new fit: a new callback instance sees the files on disk and, when resumed, loads a checkpoint's state. */
  startFit(fit: number, trainer: TrainerFacts, loggers: readonly LoggerFacts[], resumeFrom: SavedFile | null, ckptPath: string | null, view: { epoch: number; globalStep: number }) {
    this.fit = fit;
    if (fit > 0) {
      const [s, effects] = init(this.config, { cwd: this.cwd });
      this.state = s;
      this.record(effects, [], null);
    }
    const files: FileEntry[] = [...this.files.values()].map((f) => (f.kind === 'symlink' ? { path: f.path, kind: 'symlink', target: relTarget(f.path, f.target!) } : { path: f.path, kind: 'file' }));
    this.feed({ event: { type: 'setup', stage: 'fit', trainer: { ...trainer, loggers, defaultRootDir: this.cwd, ckptPath: ckptPath ?? resumeFrom?.path ?? null }, files, view }, unknown: [], stepRange: null, batchesDone: 0 });
    if (resumeFrom) this.feed({ event: { type: 'stateLoaded', stateDict: resumeFrom.stateDict, view }, unknown: [], stepRange: null, batchesDone: 0 });
  }

  /** One event through the reducer; its effects update the simulated disk and the figures. */
  feed(fed: FedEvent) {
    if (this.failed) return;
    const before = this.state;
    const [next, effects, notes] = reduce(before, fed.event);
    this.state = next;
    const at = 'view' in fed.event && fed.event.view ? fed.event.view : { epoch: 0, globalStep: 0 };
    this.notes.add(notes, at.epoch, at.globalStep, fed.event.type === 'trainBatchEnded');
    this.record(effects, notes, fed, before);
  }

  private record(effects: readonly Effect[], notes: readonly Note[], fed: FedEvent | null, before?: PolicyState) {
    if (this.effects) this.effects.push(...effects);
    const view = fed && 'view' in fed.event ? fed.event.view : undefined;
    const epoch = view?.epoch ?? 0;
    const step = view?.globalStep ?? 0;
    const metricValue = this.metric !== null && view?.metrics && this.metric in view.metrics ? view.metrics[this.metric]! : null;
    // a top-k check was made: a save it admitted, or a rejection the reducer noted
    let checked = notes.some((n) => n.kind === 'rejected' || n.kind === 'monitorMissing');
    let saved = false;
    let topkSaved = false;
    for (const e of effects) {
      switch (e.type) {
        case 'save': {
          saved = true;
          if (e.reason.rule === 'topK') checked = topkSaved = true;
          const st = e.reason.rule === 'last' || !before ? this.state : { ...this.state, lastModelPath: before.lastModelPath };
          const prev = this.files.get(e.path);
          if (!prev || prev.kind === 'symlink') this.regularFiles++;
          const score = e.reason.rule === 'topK' ? e.reason.score : null;
          this.files.set(e.path, {
            path: e.path,
            kind: 'file',
            rule: e.reason.rule,
            fit: this.fit,
            epoch,
            globalStep: step,
            atEpochEnd: fed?.event.type === 'trainEpochEnded',
            batchesDone: fed?.batchesDone ?? 0,
            // computed when a resume reads it: best_k_models grows with the files kept, so building it at every save is quadratic
            get stateDict() {
              return lightningStateDict(st);
            },
            score,
            metricValue,
          });
          this.written++;
          this.saves.push({ seq: this.seq++, fit: this.fit, path: e.path, kind: 'save', reason: e.reason, epoch, step, score, metricValue });
          break;
        }
        case 'link': {
          saved = true;
          const prev = this.files.get(e.path);
          if (prev && prev.kind === 'file') this.regularFiles--;
          const target = this.files.get(e.target);
          const linkState = this.state;
          this.files.set(e.path, {
            path: e.path,
            kind: 'symlink',
            target: e.target,
            rule: e.reason.rule,
            fit: this.fit,
            epoch,
            globalStep: target?.globalStep ?? step,
            atEpochEnd: target?.atEpochEnd ?? false,
            batchesDone: target?.batchesDone ?? 0,
            get stateDict() {
              return target ? target.stateDict : lightningStateDict(linkState);
            },
            score: target?.score ?? null,
            metricValue: target?.metricValue ?? metricValue,
          });
          this.links++;
          this.saves.push({ seq: this.seq++, fit: this.fit, path: e.path, kind: 'link', target: e.target, reason: e.reason, epoch, step, score: target?.score ?? null, metricValue: target?.metricValue ?? metricValue });
          break;
        }
        case 'remove': {
          const prev = this.files.get(e.path);
          if (prev) {
            if (prev.kind === 'file') this.regularFiles--;
            this.files.delete(e.path);
          }
          this.removals.push({ seq: this.seq++, fit: this.fit, path: e.path, reason: e.reason, epoch, step });
          break;
        }
        case 'log':
          if (e.level === 'warning') this.warnings.add(e.message);
          break;
        case 'error':
          this.errors.push({ fit: this.fit, epoch, step, errorType: e.errorType, message: e.message });
          this.failed = true;
          break;
      }
      this.peakFiles = Math.max(this.peakFiles, this.regularFiles);
    }
    if (fed) this.judge(fed, checked, topkSaved, saved, epoch, step);
  }

  /** Notes the decisions at this hook that rest on something the log does not hold. */
  private judge(fed: FedEvent, checked: boolean, topkSaved: boolean, saved: boolean, epoch: number, step: number) {
    const monitor = this.config.monitor;
    if (checked && monitor !== null) {
      const u = fed.unknown.find((x) => x.name === monitor);
      if (u) {
        this.note({
          fit: this.fit,
          epoch,
          step,
          decision: `top-k check of ${monitor} (${topkSaved ? 'saved' : 'not saved'})`,
          reason: `${monitor} at global step ${step} is not in the log (its logged value is from step ${u.loggedAt}, and it changes every batch); the check used that older value`,
        });
      }
    }
    if (saved) {
      const unknownField = fed.unknown.find((x) => x.name !== monitor && this.templateFields.includes(x.name));
      if (unknownField) {
        this.note({
          fit: this.fit,
          epoch,
          step,
          decision: `file name of the checkpoint saved at global step ${step}`,
          reason: `the name uses ${unknownField.name}, whose value at this step is not in the log (last logged at step ${unknownField.loggedAt})`,
        });
      }
      if (fed.stepRange && (this.usesStep || triggers(this.config).everyNTrainSteps > 0)) {
        this.note({
          fit: this.fit,
          epoch,
          step,
          decision: `global step of the checkpoint saved at the end of epoch ${epoch}`,
          reason: `the log puts the end of epoch ${epoch} ${Number.isFinite(fed.stepRange[1]) ? `anywhere from global step ${fed.stepRange[0]} to ${fed.stepRange[1]}` : `at global step ${fed.stepRange[0]} or later`} (num_training_batches, max_steps and log_every_n_steps pin it down); the name assumes ${step}`,
        });
      }
    }
  }

  /** Records an undetermined decision; past a cap, similar ones are only counted (constant memory on long logs). */
  note(u: Undetermined) {
    if (this.undetermined.length < UNDETERMINED_CAP) this.undetermined.push(u);
    else this.undeterminedOverflow++;
  }

  undeterminedOverflow = 0;
}

/** Undetermined decisions listed one by one at most; beyond, they are counted. */
export const UNDETERMINED_CAP = 10000;

/** A symlink's text: the target relative to the link's folder. */
function relTarget(link: string, target: string): string {
  const from = link.split('/').slice(0, -1);
  const to = target.split('/');
  let i = 0;
  while (i < from.length && i < to.length - 1 && from[i] === to[i]) i++;
  return [...Array<string>(from.length - i).fill('..'), ...to.slice(i)].join('/') || '.';
}
