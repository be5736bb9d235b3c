/**
 * From logged records back to the loop: the hooks at which ModelCheckpoint acts (train batch ends,
 * validation ends, train epoch ends, the end of training), in Lightning's order, each carrying the
 * callback metrics as they were at that moment.
 *
 * How logs map to hooks (Lightning 2.6, see the lightning-runs README):
 * - a record's step is the optimizer steps done *before* its batch: a row at step s belongs to the
 *   hook at global step s + 1 (s + 0 for the rest of a fit resumed from a checkpoint written on an
 *   exception, Lightning's logging counter then runs one ahead);
 * - at one step the module's rows come in the order: training step row, validation row, `*_epoch`
 *   aggregates (written after validation, seen by the callback at train epoch end);
 * - callback metrics keep their last value: a validation metric stays until the next validation;
 *   a per-step training metric changes every batch, so its value at a hook is in the log only if
 *   that batch was a logging step. Where the log does not hold the value a hook used, the event
 *   carries the last logged value and names the metric as unknown.
 *
 * The epochs' lengths come from `num_training_batches` when given; otherwise the log's epoch
 * boundaries bound each epoch's last step, exact when a validation (once per epoch) or an epoch
 * aggregate row sits at it, or when consecutive steps straddle it. The first few epochs are held
 * back to infer what the log shows (batches per epoch, validations per epoch, validation every n
 * epochs) before the first hook is emitted; after that the reader streams in constant memory.
 *
 * This module holds the fold itself (the schedule of hooks and the callback metrics along it); the
 * types it takes and gives are in timeline.ts, what each record is to the loop in recordKinds.ts,
 * the inference from the first records in inferLoop.ts, and where a fit starts in fitStart.ts.
 */
import type { LoopEvent, LoopView, TrainerFacts } from '../core/events.ts';
import { findStart } from './fitStart.ts';
import { inferLoop } from './inferLoop.ts';
import { effectiveValBatches, valCheckBatch } from './loopFacts.ts';
import { kindsOf, moduleEpochOf, type Group } from './recordKinds.ts';
import { namesOf, originText, SourceError, valuesOf, type LogRecord, type Origin } from './records.ts';
import { isLoggerOnly } from './roles.ts';
import type { FitStart, RecordKind, ReconstructOptions, ResolvedFacts, TimelineItem, UnknownValue } from './timeline.ts';

export type { FitStart, RecordKind, ReconstructOptions, ResolvedFacts, ResumeCandidate, TimelineItem, UnknownValue } from './timeline.ts';

/** A callback metric's last value, and the global step it was logged at. */
interface Slot {
  readonly name: string;
  value: number;
  at: number;
  /** logged by a training row: it changes every batch */
  perStep: boolean;
}

/** A logged name, as the reconstruction sees it. */
interface NameInfo {
  readonly name: string;
  /** `x` for `x_step` / `x_epoch` */
  readonly bare: string | null;
  /** a logger's own name or a test metric: never a callback metric */
  readonly skip: boolean;
  /** placed on the timeline as an observation (the figures' names) */
  readonly observed: boolean;
  /** logged under its own column by the module (so not an alias of name_step / name_epoch) */
  ownColumn: boolean;
  slot: Slot | null;
}

/** A bound on the global step a hook happened at. */
type Bound = { lo: number; hi: number; exact: boolean };

/** Hook points at one global step, in Lightning's order. */
const BATCH = 0;
const VAL = 1;
const EPOCH = 2;
/** A point is `globalStep * 3 + phase`: one number orders every hook of a fit. */
const point = (x: number, phase: number) => x * 3 + phase;

/**
 * The most hooks the loop may run between two rows of the log (or after the last): the work and
 * memory of a replay are then bounded by the log's length, not by the values in it (one corrupt
 * step or epoch of 10^11 would otherwise be walked hook by hook). A real log logs far more often.
 */
export const MAX_HOOKS_PER_ROW = 200_000;

export class LoopReconstructor {
  private readonly out: TimelineItem[] = [];
  private readonly held: Group[] = [];
  private heldRecords = 0;
  private current: Group | null = null;
  private begun = false;
  private facts!: ResolvedFacts;
  private start!: FitStart;
  private N: number | null = null;
  private vcb = Infinity;
  private valEnabled = true;
  private numVal: number[] = [];

  // loop position
  private epoch = 0;
  /** global step before the current epoch's first batch (a resumed epoch counts its earlier batches) */
  private epochStartG = 0;
  /** the last hook point handled */
  private pos = 0;
  /** the current epoch's last global step, when known */
  private epochEnd: Bound | null = null;
  /** length of the last epoch whose both ends were exact (an estimate for epochs with no rows) */
  private lastEpochLength: number | null = null;
  private epochStartExact = true;
  private lastModuleG = -1;
  private valHasRun = false;
  private crashed = false;
  private stopAt = Infinity;

  // metrics
  /** the callback metrics in the order first set (the view's key order) */
  private readonly slots: Slot[] = [];
  private metricsObj: Record<string, number> | null = null;
  /** what is known of each name: one lookup per logged value instead of one per question asked of it */
  private readonly names = new Map<string, NameInfo>();
  private readonly notes: string[] = [];
  private readonly mismatches = new Map<string, { count: number; example: string }>();

  private readonly observe: ReadonlySet<string> | null;

  private infoOf(name: string): NameInfo {
    let i = this.names.get(name);
    if (i === undefined) {
      const m = /^(.+)_(step|epoch)$/.exec(name);
      const skip = isLoggerOnly(name) || this.opts.role(name) === 'test';
      i = { name, bare: m ? m[1]! : null, skip, observed: this.observe === null || this.observe.has(name), ownColumn: false, slot: null };
      this.names.set(name, i);
    }
    return i;
  }

  /** the last names array infosOf was asked about, and its infos (a CSV's rows share their names arrays) */
  private lastNames: readonly string[] | null = null;
  private lastInfos: readonly NameInfo[] = [];

  /** The infos of a record's names, by index. */
  private infosOf(names: readonly string[]): readonly NameInfo[] {
    if (names !== this.lastNames) {
      this.lastNames = names;
      this.lastInfos = names.map((n) => this.infoOf(n));
    }
    return this.lastInfos;
  }

  private holdsObserved(r: LogRecord): boolean {
    for (const info of this.infosOf(namesOf(r))) if (info.observed) return true;
    return false;
  }

  constructor(private readonly opts: ReconstructOptions) {
    this.observe = opts.observe ? new Set(opts.observe) : null;
  }

  /** Remarks about assumptions, inferences and disagreements between the log and the facts. */
  get remarks(): readonly string[] {
    const out = [...this.notes];
    for (const { count, example } of this.mismatches.values()) out.push(`${example}${count > 1 ? ` (and ${count - 1} more like it)` : ''}`);
    return out;
  }

  /** Feeds records in log order; returns the timeline items they complete. */
  push(records: readonly LogRecord[]): TimelineItem[] {
    // indexed loops on the per-row path: a log's first rows run before V8 optimises it, and the
    // interpreter's for-of steps an iterator
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (this.current !== null && r.step === this.current.step) {
        this.current.records.push(r);
        continue;
      }
      if (this.current !== null) this.enqueue(this.current);
      this.current = { step: r.step, records: [r] };
    }
    return this.drain();
  }

  /** Ends the log: the last epoch, then the end of training (or the exception). */
  end(): TimelineItem[] {
    if (this.current !== null) this.enqueue(this.current);
    this.current = null;
    if (!this.begun) this.begin();
    this.processHeld(true);
    this.finish();
    return this.drain();
  }

  private drain(): TimelineItem[] {
    return this.out.splice(0, this.out.length);
  }

  private enqueue(g: Group) {
    if (this.begun && this.held.length === 1) {
      // streaming: the one group held is handled now that the next is known (processHeld, without the queue's shift)
      const prev = this.held[0]!;
      this.held[0] = g;
      this.heldRecords += g.records.length - prev.records.length;
      this.processGroup(prev, g);
      return;
    }
    this.held.push(g);
    this.heldRecords += g.records.length;
    if (!this.begun) {
      for (const r of g.records) if (r.epoch !== null) this.epochsHeld.add(r.epoch);
      if (this.heldRecords < (this.opts.inferenceBuffer ?? 20000) && this.epochsHeld.size < 4) return;
      this.begin();
    }
    this.processHeld(false);
  }

  /** epochs seen while the first records are held back for inference */
  private readonly epochsHeld = new Set<number>();

  // ---- the fit's start ---------------------------------------------------------------------------

  /** Settles the loop facts (inferred from the records held back) and where the fit starts. */
  private begin() {
    this.begun = true;
    const { facts, stepOffset, firstEpoch, firstG } = inferLoop(this.held, this.opts);
    this.facts = facts;
    const N = facts.numTrainingBatches;
    const vci = facts.valCheckInterval;
    this.N = N;
    const nv = effectiveValBatches(this.facts);
    this.valEnabled = nv === null || nv > 0;
    this.numVal = this.valEnabled ? [nv ?? 1] : [];
    this.vcb = N !== null ? valCheckBatch(this.facts, N) : vci.kind === 'batches' ? vci.value : Infinity;
    this.start = findStart({ opts: this.opts, facts: this.facts, N, valEnabled: this.valEnabled, held: this.held, notes: this.notes }, firstEpoch, firstG, stepOffset);
    this.stopAt = this.opts.facts.exceptionAtStep ?? Infinity;
    this.epoch = this.start.epoch;
    this.epochStartG = this.start.globalStep - this.start.batchesDone;
    this.epochStartExact = this.start.range === null || N !== null;
    this.pos = point(this.start.globalStep, EPOCH);
    this.epochEnd = this.knownEpochEnd();
    this.begunLoop = true;
    this.out.push({ kind: 'begin', trainer: this.trainerFacts(), facts: this.facts, start: this.start, empty: firstEpoch === null });
    this.emit({ type: 'trainStarted', view: this.view(this.start.globalStep, false) }, null, null);
  }

  private trainerFacts(): TrainerFacts {
    const f = this.facts;
    return { checkValEveryNEpoch: f.checkValEveryNEpoch, valCheckInterval: f.valCheckInterval.value, enableValidation: this.valEnabled };
  }

  // ---- the schedule ------------------------------------------------------------------------------

  /** The current epoch's last global step when batches per epoch are known (max_steps cuts it short). */
  private knownEpochEnd(): Bound | null {
    const ms = this.opts.facts.maxSteps;
    const me = this.opts.facts.maxEpochs;
    const now = Math.floor(this.pos / 3);
    if ((ms >= 0 && now >= ms && this.begunLoop) || (me !== null && this.epoch >= me)) {
      this.done = true; // Lightning stops: max_steps reached or max_epochs run
      return null;
    }
    if (this.N === null) return null;
    let end = this.epochStartG + this.N;
    if (ms >= 0 && end > ms) end = Math.max(ms, now + 1);
    return { lo: end, hi: end, exact: this.epochStartExact };
  }

  /** training is over (max_steps or max_epochs): no further hook is scheduled */
  private done = false;
  private begunLoop = false;

  private valEpoch(): boolean {
    const cve = this.facts.checkValEveryNEpoch;
    return this.valEnabled && (cve === null || (this.epoch + 1) % cve === 0);
  }

  /** Lightning's `_should_check_val_fx` for the batch ending at global step x (known schedule only). */
  private valDue(x: number): boolean {
    if (this.N === null || !this.valEpoch()) return false;
    const isLast = x - this.epochStartG === this.N;
    if (this.vcb === Infinity) return isLast;
    const iteration = this.facts.checkValEveryNEpoch === null ? x : x - this.epochStartG;
    return iteration % this.vcb === 0;
  }

  private triggerAt(x: number): boolean {
    const ts = this.opts.stepTriggers;
    for (let i = 0; i < ts.length; i++) if (ts[i]! >= 1 && x % ts[i]! === 0) return true;
    return false;
  }

  /** Is a hook scheduled at point (x, phase)? */
  private scheduled(x: number, phase: number): boolean {
    const end = this.epochEnd;
    switch (phase) {
      case BATCH:
        return this.triggerAt(x) && (end === null || x <= end.lo);
      case VAL:
        return (end === null || x <= end.lo) && this.valDue(x);
      default:
        return end !== null && end.lo === x;
    }
  }

  /** The first scheduled hook point after `p` (Infinity: none until the log says more). */
  private nextPoint(p: number): number {
    if (this.done) return Infinity;
    let x0 = Math.floor(p / 3);
    for (let ph = (p % 3) + 1; ph <= EPOCH; ph++) if (this.scheduled(x0, ph)) return point(x0, ph);
    const end = this.epochEnd;
    for (;;) {
      let x = Infinity;
      for (const n of this.opts.stepTriggers) if (n >= 1) x = Math.min(x, (Math.floor(x0 / n) + 1) * n);
      if (end !== null && end.lo > x0) x = Math.min(x, end.lo);
      if (this.N !== null && this.valEpoch()) {
        const base = this.facts.checkValEveryNEpoch === null ? 0 : this.epochStartG;
        const v = this.vcb === Infinity ? this.epochStartG + this.N : base + (Math.floor((x0 - base) / this.vcb) + 1) * this.vcb;
        if (v > x0) x = Math.min(x, v);
      }
      if (!Number.isFinite(x) || (end !== null && x > end.lo)) return Infinity;
      for (let ph = BATCH; ph <= EPOCH; ph++) if (this.scheduled(x, ph)) return point(x, ph);
      x0 = x; // a candidate that turned out not to be due (a validation step of another epoch, say)
    }
  }

  /** the next scheduled point, cached for the position, epoch and epoch end it was computed at */
  private nextCache = { pos: -1, epoch: -1, end: null as Bound | null, next: 0 };

  private nextFrom(): number {
    const c = this.nextCache;
    // the schedule does not depend on the position: a point found from an earlier position still holds
    if (this.pos < c.pos || this.pos >= c.next || c.epoch !== this.epoch || c.end !== this.epochEnd) {
      this.nextCache = { pos: this.pos, epoch: this.epoch, end: this.epochEnd, next: this.nextPoint(this.pos) };
    }
    return this.nextCache.next;
  }

  /** Handles every scheduled hook before point `target` (exclusive). */
  private advanceTo(target: number) {
    while (!this.crashed) {
      const p = this.nextFrom();
      if (p >= target || !Number.isFinite(p)) break;
      if (Math.floor(p / 3) > this.stopAt) {
        this.raise();
        return;
      }
      if (++this.hooksSinceRow > MAX_HOOKS_PER_ROW) this.tooManyHooks(p);
      this.handle(p);
    }
  }

  /** hooks handled since the last row of the log was taken in */
  private hooksSinceRow = 0;
  /** the row being taken in (or the last one, at the end): where a problem with the schedule is reported (its origin made only then) */
  private row: LogRecord | null = null;

  private tooManyHooks(p: number): never {
    const at = Math.floor(p / 3);
    const where = this.row?.origin ?? { file: 'the log' };
    throw new SourceError(
      where,
      'step',
      `replaying the loop up to global step ${at} would run more than ${MAX_HOOKS_PER_ROW.toLocaleString('en-US')} checkpoint hooks between two rows of the log (now at epoch ${this.epoch}); a step or epoch this far from its neighbours is not one a training loop logs (a corrupt value?)`,
    );
  }

  private handle(p: number) {
    const x = Math.floor(p / 3);
    this.pos = p;
    switch (p % 3) {
      case BATCH:
        if (this.triggerAt(x)) this.batchEnded(x);
        return;
      case VAL:
        this.validationEnded(x, null);
        return;
      default:
        this.epochEnded(x);
    }
  }

  private isLastBatch(x: number): boolean {
    return this.epochEnd !== null && this.epochEnd.lo === x;
  }

  private batchEnded(x: number) {
    this.emit({ type: 'trainBatchEnded', batchIdx: x - this.epochStartG - 1, view: this.view(x, this.isLastBatch(x)) }, this.rangeAt(x), null);
  }

  private validationEnded(x: number, origin: Origin | null) {
    this.valHasRun = true;
    this.emit({ type: 'validationEnded', view: this.view(x, this.isLastBatch(x)) }, this.rangeAt(x), origin);
  }

  private epochEnded(x: number) {
    const end = this.epochEnd;
    const range = this.tailRange ?? (end && !end.exact && end.hi !== end.lo ? ([end.lo, end.hi] as const) : null);
    this.emit({ type: 'trainEpochEnded', view: this.view(x, true) }, range, null);
    if (end?.exact && this.epochStartExact) this.lastEpochLength = x - this.epochStartG;
    this.epochStartExact = end?.exact ?? false;
    this.epoch++;
    this.epochStartG = x;
    this.pos = point(x, EPOCH);
    this.epochEnd = this.knownEpochEnd();
  }

  /** The steps a hook at x may have been at, when x is an epoch end the log does not pin down. */
  private rangeAt(x: number): readonly [number, number] | null {
    const end = this.epochEnd;
    if (end !== null && x === end.lo && this.tailRange) return this.tailRange;
    if (end !== null && !end.exact && x === end.lo && end.hi !== end.lo) return [end.lo, end.hi];
    return null;
  }

  private raise() {
    const x = this.stopAt;
    this.advanceTo(point(x, EPOCH) + 1);
    this.emit({ type: 'exceptionRaised', exception: { type: 'Exception', message: `training raised after global step ${x} (exception_at_step)` }, view: this.view(x, false) }, null, null);
    this.crashed = true;
  }

  // ---- metrics -----------------------------------------------------------------------------------

  private apply(r: LogRecord, kind: RecordKind, x: number) {
    const infos = this.infosOf(namesOf(r));
    const values = valuesOf(r);
    for (let i = 0; i < infos.length; i++) {
      const info = infos[i]!;
      if (info.skip) continue;
      const v = values[i]!;
      this.set(info, v, x, kind);
      // a metric logged on_step and on_epoch is written as name_step / name_epoch; the callback also sees `name`
      if (info.bare !== null) {
        const bare = this.infoOf(info.bare);
        if (!bare.ownColumn) this.set(bare, v, x, kind);
      }
    }
  }

  private set(info: NameInfo, v: number, x: number, kind: RecordKind) {
    let s = info.slot;
    if (s === null) {
      s = info.slot = { name: info.name, value: v, at: x, perStep: false };
      this.slots.push(s);
    }
    s.value = v;
    s.at = x;
    if (kind === 'train') s.perStep = true;
    this.metricsObj = null;
  }

  private view(x: number, isLast: boolean): LoopView {
    if (this.metricsObj === null) {
      const o: Record<string, number> = {};
      for (const s of this.slots) o[s.name] = s.value;
      this.metricsObj = o;
    }
    return { epoch: this.epoch, globalStep: x, isLastBatch: isLast, valLoopHasRun: this.valHasRun, numValBatches: this.numVal, metrics: this.metricsObj };
  }

  /** Watched per-step metrics whose value at x was not logged at x. */
  private unknownAt(x: number): UnknownValue[] {
    const out: UnknownValue[] = [];
    for (const name of this.opts.watch) {
      const s = this.infoOf(name).slot;
      if (s !== null && s.perStep && s.at !== x) out.push({ name, loggedAt: s.at });
    }
    return out;
  }

  private emit(event: LoopEvent, stepRange: readonly [number, number] | null, origin: Origin | null) {
    const x = 'view' in event && event.view ? event.view.globalStep : 0;
    const unknown = event.type === 'trainStarted' || event.type === 'trainEnded' ? [] : this.unknownAt(x);
    this.out.push({ kind: 'event', event, unknown, stepRange, origin, batchesDone: x - this.epochStartG });
  }

  // ---- records -----------------------------------------------------------------------------------

  /** the next group's kinds, when processGroup looked ahead at it */
  private peekedGroup: Group | null = null;
  private peekedKinds: readonly RecordKind[] = [];

  private processHeld(atEnd: boolean) {
    // a group is handled once the next one is known: it shows where an epoch ends; the groups
    // handled leave the queue at once (a shift per group moved the thousands held back at the start)
    const held = this.held;
    const keep = atEnd ? 0 : 1;
    let i = 0;
    for (; i < held.length - keep; i++) {
      const grp = held[i]!;
      this.heldRecords -= grp.records.length;
      this.processGroup(grp, held[i + 1] ?? null);
    }
    held.splice(0, i);
  }

  private processGroup(grp: Group, next: Group | null) {
    if (this.crashed) return;
    // the previous group's look ahead classified this one already
    const c = this.peekedGroup === grp ? this.peekedKinds : kindsOf(grp, this.opts.role);
    this.peekedGroup = null;
    const recs = grp.records;
    let hasVal = false;
    let hasAgg = false;
    /** bit i: the i-th record is one of the module's and holds an observed name (records past 30: see below) */
    let observed = 0;
    for (let i = 0; i < c.length; i++) {
      const k = c[i]!;
      if (k !== 'train' && k !== 'val' && k !== 'epoch') continue;
      if (k === 'val') hasVal = true;
      else if (k === 'epoch') hasAgg = true;
      const infos = this.infosOf(namesOf(recs[i]!));
      for (let j = 0; j < infos.length; j++) {
        const info = infos[j]!;
        if (info.bare === null) info.ownColumn = true;
        if (info.observed && i < 31) observed |= 1 << i;
      }
    }
    const ep = moduleEpochOf(grp, c);
    if (ep === null) return; // logger rows (learning rates, hp_metric) and test rows
    const x = grp.step + this.start.stepOffset;
    this.row = recs[0]!;
    this.hooksSinceRow = 0;
    if (x <= this.lastModuleG) {
      // a fit's steps only grow (rows at one step are grouped): a row whose step goes back is out of order
      this.mismatch('step-back', `rows whose step goes back (${originText(grp.records[0]!.origin)}: step ${grp.step} after ${this.lastModuleG - this.start.stepOffset}) are ignored`);
      return;
    }
    if (x > this.stopAt) {
      this.mismatch('after-raise', `rows after global step ${this.stopAt}, where the loop facts say the fit raised, are ignored`);
      return;
    }
    if (this.start.how !== 'fresh' && x <= this.start.globalStep) {
      this.mismatch('before-start', `rows at or before the resumed fit's start (global step ${this.start.globalStep}) are ignored`);
      return;
    }
    // hooks scheduled before this row (a max_steps stop, say) come first
    if (this.N !== null) this.advanceTo(point(x, BATCH));
    if (this.done && x > Math.floor(this.pos / 3)) {
      this.mismatch('after-done', `rows after training ended (max_steps / max_epochs reached at global step ${Math.floor(this.pos / 3)}) are ignored`);
      return;
    }
    if (ep > this.epoch) this.closeEpochs(ep, x);
    else if (ep < this.epoch) this.mismatch('epoch-back', `rows of epoch ${ep} arrive after epoch ${this.epoch} began (num_training_batches may not match the log)`);
    if (this.N !== null && this.epochEnd && x > this.epochEnd.lo) {
      this.mismatch('epoch-long', `rows of epoch ${ep} run past global step ${this.epochEnd.lo}, where num_training_batches=${this.N} ends it`);
    }
    if (this.N === null) {
      let nextEp: number | null = null;
      if (next !== null) {
        this.peekedGroup = next;
        this.peekedKinds = kindsOf(next, this.opts.role);
        nextEp = moduleEpochOf(next, this.peekedKinds);
      }
      if (next === null || (nextEp !== null && nextEp > ep)) {
        // the epoch's last rows: its end lies between here and the next epoch's first row
        const nx = next ? next.step + this.start.stepOffset : Infinity;
        const onceAtEnd = this.vcb === Infinity;
        let hi = nx - 1;
        const ms = this.opts.facts.maxSteps;
        if (ms >= 0) hi = Math.min(hi, ms);
        const exact = hasAgg || (hasVal && onceAtEnd) || hi <= x;
        this.epochEnd = { lo: x, hi: exact ? x : hi, exact };
      }
    }
    for (let i = 0; i < c.length; i++) {
      const k = c[i]!;
      if (k !== 'train' && k !== 'val' && k !== 'epoch') continue;
      if (this.observe !== null && (i < 31 ? (observed & (1 << i)) === 0 : !this.holdsObserved(recs[i]!))) continue;
      this.out.push({ kind: 'observation', record: recs[i]!, role: k, epoch: this.epoch, globalStep: x });
    }
    // the training batch ending at x
    this.advanceTo(point(x, BATCH));
    if (this.crashed) return;
    for (let i = 0; i < c.length; i++) if (c[i] === 'train') this.apply(recs[i]!, 'train', x);
    if (this.pos < point(x, BATCH)) {
      this.pos = point(x, BATCH);
      if (this.triggerAt(x)) this.batchEnded(x);
    }
    // its validation
    if (hasVal) {
      if (this.N !== null && !this.valDue(x)) this.mismatch('val-unscheduled', `the log validates at global step ${x}, where the loop facts schedule no validation`);
      this.advanceTo(point(x, VAL));
      for (let i = 0; i < c.length; i++) if (c[i] === 'val') this.apply(recs[i]!, 'val', x);
      if (this.pos < point(x, VAL)) {
        this.pos = point(x, VAL);
        this.validationEnded(x, recs[c.indexOf('val')]!.origin);
      }
    }
    // epoch aggregates: the callback sees them at the train epoch end
    if (hasAgg) {
      this.advanceTo(point(x, EPOCH));
      for (let i = 0; i < c.length; i++) if (c[i] === 'epoch') this.apply(recs[i]!, 'epoch', x);
      if (this.epochEnd && this.epochEnd.lo !== x) this.mismatch('agg-mid-epoch', `epoch aggregates at global step ${x}, where the epoch does not end`);
    }
    this.lastModuleG = x;
  }

  /** The log moved on to epoch `ep` at global step x: every epoch before it ends first. */
  private closeEpochs(ep: number, x: number) {
    const prev0 = Math.floor(this.pos / 3);
    if (ep - this.epoch > Math.max(1, x - prev0)) {
      // every epoch has at least one batch: more epochs than steps in between cannot all have run
      this.mismatch('epoch-jump', `the log jumps from epoch ${this.epoch} to epoch ${ep} between global steps ${prev0} and ${x}, fewer steps than epochs; the epochs between are skipped`);
      this.closeOne(this.epoch + 1, x);
      if (this.epoch < ep && !this.crashed && !this.done) {
        this.epoch = ep;
        this.epochEnd = this.knownEpochEnd();
      }
      return;
    }
    while (this.epoch < ep && !this.crashed) if (!this.closeOne(ep, x)) return;
  }

  /** Ends the current epoch before x (epoch `ep` starts at x); false when the loop cannot get there. */
  private closeOne(ep: number, x: number): boolean {
    let end = this.epochEnd;
    const prev = Math.floor(this.pos / 3);
    if (end === null) {
      // an epoch with no rows at all: it ended somewhere before x
      const left = ep - this.epoch; // epochs still to end before x
      const hi = x - left;
      const guess = this.lastEpochLength !== null ? Math.min(hi, prev + this.lastEpochLength) : prev + 1;
      end = { lo: Math.max(prev + 1, Math.min(guess, hi)), hi: Math.max(prev + 1, hi), exact: false };
      this.epochEnd = end;
    } else if (end.lo >= x) {
      this.mismatch('epoch-short', `the log starts epoch ${ep} at global step ${x}, before num_training_batches=${this.N} ends epoch ${this.epoch} (at ${end.lo})`);
      this.epochEnd = end = { lo: x - 1, hi: x - 1, exact: true };
    }
    const before = this.epoch;
    this.advanceTo(point(end.lo, EPOCH) + 1);
    // an epoch end the loop has already passed (or training is over): stop rather than spin
    return this.epoch !== before;
  }

  private finish() {
    if (this.crashed) return;
    if (this.stopAt !== Infinity) {
      this.raise();
      return;
    }
    if (this.runsToTheEnd()) {
      // the facts say where training ends and the log is consistent with it getting there
      this.advanceTo(Infinity);
      const x = Math.floor(this.pos / 3);
      this.out.push({ kind: 'event', event: { type: 'trainEnded', view: this.view(x, false) }, unknown: [], stepRange: null, origin: null, batchesDone: 0 });
      return;
    }
    const end = this.epochEnd;
    if (end !== null && this.lastModuleG > this.epochStartG) {
      const ms = this.opts.facts.maxSteps;
      if (this.N !== null && this.lastModuleG < end.lo && !(ms >= 0 && end.lo === ms)) {
        // the log stops before the epoch's end: with a known logging interval it proves training
        // stopped before the next logging step; otherwise the epoch is assumed to have run out
        const L = this.opts.given.has('logEveryNSteps') ? this.opts.facts.logEveryNSteps : null;
        const hi = L !== null ? Math.min(end.lo, this.lastModuleG + L - 1) : end.lo;
        if (this.opts.hasNextFit) {
          this.advanceTo(point(this.lastModuleG, EPOCH) + 1);
          this.interruptedAt = this.lastModuleG;
          this.notes.push(`the log stops at global step ${this.lastModuleG}, ${end.lo - this.lastModuleG} batches before epoch ${this.epoch} ends: the fit was interrupted (give exception_at_step if it raised)`);
          return;
        }
        this.notes.push(
          L !== null && hi < end.lo
            ? `the log stops at global step ${this.lastModuleG}, before epoch ${this.epoch} ends at ${end.lo}; with log_every_n_steps=${L} training stopped by step ${hi}: assuming the epoch ended there`
            : `the log stops at global step ${this.lastModuleG}, before epoch ${this.epoch} ends at ${end.lo}: assuming the epoch ran to its end`,
        );
        this.epochEnd = { lo: hi, hi, exact: hi === this.lastModuleG };
        this.tailRange = [this.lastModuleG, hi];
      }
      this.advanceTo(point(this.epochEnd!.lo, EPOCH) + 1);
    }
    const x = Math.floor(this.pos / 3);
    this.out.push({ kind: 'event', event: { type: 'trainEnded', view: this.view(x, false) }, unknown: [], stepRange: null, origin: null, batchesDone: 0 });
  }

  /**
   * With max_epochs (or max_steps) and the batches per epoch known, training's last step is known;
   * a log that stops short of it still ran there if nothing it would have logged after its last row
   * is missing: no validation, and (when log_every_n_steps is given) no logging step.
   */
  private runsToTheEnd(): boolean {
    const f = this.opts.facts;
    if (this.N === null || this.opts.hasNextFit || (f.maxEpochs === null && f.maxSteps < 0)) return false;
    if (!this.opts.given.has('maxEpochs') && !this.opts.given.has('maxSteps')) return false;
    let last = f.maxEpochs !== null ? f.maxEpochs * this.N : Infinity;
    if (f.maxSteps >= 0) last = Math.min(last, f.maxSteps);
    if (!Number.isFinite(last)) return false;
    const from = Math.max(this.lastModuleG, Math.floor(this.pos / 3));
    if (from >= last) return true;
    if (this.opts.given.has('logEveryNSteps')) {
      const L = f.logEveryNSteps;
      if (Math.floor(last / L) > Math.floor(from / L)) return false; // a logging step after the last row
    } else if (this.lastModuleG >= 0 && last - from >= f.logEveryNSteps) return false;
    // a validation after the last row would have been logged
    if (this.valEnabled) {
      for (let g = from + 1; g <= last; g++) {
        const epoch = Math.floor((g - 1) / this.N);
        const b = g - epoch * this.N;
        const cve = this.facts.checkValEveryNEpoch;
        if (cve !== null && (epoch + 1) % cve !== 0) continue;
        const it = cve === null ? g : b;
        if (this.vcb === Infinity ? b === this.N : it % this.vcb === 0) return false;
        if (g - from > 100000) break;
      }
    }
    return true;
  }

  /** the global step where a fit followed by another stopped mid-epoch without a known exception */
  interruptedAt: number | null = null;
  /** the steps the last epoch's end may be at, when the log stops before it */
  private tailRange: readonly [number, number] | null = null;

  /** Counts a disagreement between the log and the facts by kind, keeping the first example (bounded memory). */
  private mismatch(kind: string, example: string) {
    const m = this.mismatches.get(kind);
    if (m) m.count++;
    else this.mismatches.set(kind, { count: 1, example });
  }

  /** Facts in force (after begin). */
  get resolvedFacts(): ResolvedFacts | null {
    return this.begun ? this.facts : null;
  }

  get fitStart(): FitStart | null {
    return this.begun ? this.start : null;
  }

  /** where the fit's loop stood at its end */
  get endPosition(): { epoch: number; globalStep: number; crashed: boolean; interruptedAt: number | null } {
    return { epoch: this.epoch, globalStep: Math.floor(this.pos / 3), crashed: this.crashed, interruptedAt: this.interruptedAt };
  }
}
