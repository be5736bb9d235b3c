/**
 * Lightning's ModelCheckpoint for TensorFlow.js: a `tf.Callback` for `model.fit` / `fitDataset`,
 * configured with ModelCheckpoint's own options and saving through any store plugin.
 *
 * tfjs hooks map to Lightning's like this: onTrainBegin -> setup + train start; onBatchEnd ->
 * train batch end (global step + 1); onEpochEnd -> validation end (when the epoch validated) and
 * train epoch end, with the epoch's logs (`loss`, `acc`, `val_loss`, custom metrics) as the
 * metrics; onTrainEnd -> train end, then a flush that fails `fit` if any write failed.
 *
 * Browser-safe: the store opener is given by the entry (callback.ts binds Node's openStore,
 * browser.ts the web page's), so nothing here reaches node built-ins.
 */
import * as tf from '@tensorflow/tfjs';
import { parseConfig, type CheckpointOptions } from '../core/config.ts';
import { init, resolveCheckpointDir, resolveTrainer } from '../core/reduce.ts';
import type { LogLevel } from '../core/effects.ts';
import type { LoopView, Metrics } from '../core/events.ts';
import type { CheckpointStore } from '../core/store.ts';
import { captureTfjsModel, loadTfjsModel } from '../../plugins/payload/model.ts';
import { Checkpointer, defaultCwd, findResumePoint, type KeptCheckpoint, type ResumeRequest } from '../runtime/checkpointer.ts';
import type { RuntimeObserver } from '../runtime/observer.ts';
import type { CheckpointRecord } from '../runtime/record.ts';
import { resolveLogs } from './logs.ts';

export interface TfjsRuntimeOptions {
  /** where checkpoints go (default: the entry's openStore at the options' dirpath, or <cwd>/checkpoints) */
  readonly store?: CheckpointStore;
  /** background writes (default, at most 2 unfinished) or awaited ones */
  readonly background?: false | { readonly maxInFlight?: number };
  /** the `validationFreq` given to fit, so validation-dependent rules see what Lightning would */
  readonly validationFreq?: number;
  /** what relative dirpaths resolve against (default: process.cwd() in Node, '/' in a web page) */
  readonly cwd?: string;
  readonly log?: (level: LogLevel, message: string) => void;
  readonly observer?: RuntimeObserver;
  /** take the folder's writer lease from the live run that holds it (the runtime's `takeOver`) */
  readonly takeOver?: boolean;
  /** how long the writer lease lasts unrenewed (the runtime's `leaseTtlMs`, default 120000) */
  readonly leaseTtlMs?: number;
}

/** Where fit should start after `resume`: pass `initialEpoch` to fit. */
export interface ResumePoint {
  readonly initialEpoch: number;
  /** the checkpoint resumed from, or null for a fresh start */
  readonly from: string | null;
  readonly record: CheckpointRecord | null;
}

/** Opens the store at a location (an entry's `openStore`). */
export type StoreOpener = (location: string) => Promise<CheckpointStore>;

/** The callback, given how to open stores; `ModelCheckpoint` of each entry binds its platform's openStore. */
export class ModelCheckpointBase extends tf.Callback {
  private ck: Checkpointer | null = null;
  private resumeRecord: CheckpointRecord | null = null;
  private epoch = 0;
  private globalStep = 0;
  private metrics: Record<string, number> = {};
  private stepsPerEpoch: number | null = null;
  private numValBatches: number[] = [];

  constructor(
    /** ModelCheckpoint's options (Lightning's names or camelCase) */
    readonly options: CheckpointOptions,
    private readonly runtime: TfjsRuntimeOptions,
    /** opens the store when `runtime.store` is not given */
    private readonly openStore: StoreOpener,
  ) {
    super();
  }

  /**
   * Continues from the most advanced checkpoint in the store (or the one named), loading its
   * weights and optimizer state into `model`. Call before `fit` and pass `initialEpoch` to it.
   */
  async resume(model: tf.LayersModel, which: 'latest' | { key: string } = 'latest'): Promise<ResumePoint> {
    const found = await findResumePoint(await this.store(), which);
    if (found === null) return { initialEpoch: 0, from: null, record: null };
    if (found.payload?.kind !== 'tfjs') throw new Error(`checkpoint ${found.key} is not a tfjs checkpoint; it cannot be loaded into a model`);
    await loadTfjsModel(found.payload, model);
    this.resumeRecord = found.record;
    const r = found.record;
    // tfjs validates at epoch end, so a checkpoint from an epoch or validation end is a whole epoch
    const whole = r.event === 'trainEpochEnded' || r.event === 'validationEnded' || r.event === 'trainEnded';
    const initialEpoch = r.event === 'trainEnded' ? r.epoch : whole ? r.epoch + 1 : r.epoch;
    if (!whole) this.log('warning', `resuming from ${found.key}, saved in the middle of epoch ${r.epoch}: tfjs restarts that epoch from its first batch`);
    return { initialEpoch, from: found.key, record: r };
  }

  private opened: CheckpointStore | null = null;

  /** The store given, or the one at dirpath (Lightning's default: <cwd>/checkpoints). */
  private async store(): Promise<CheckpointStore> {
    if (this.runtime.store) return this.runtime.store;
    if (this.opened === null) {
      const cwd = this.runtime.cwd ?? defaultCwd();
      const state = init(parseConfig(this.options), { cwd })[0];
      this.opened = await this.openStore(resolveCheckpointDir(state, resolveTrainer(undefined, cwd)));
    }
    return this.opened;
  }

  /** The runtime under the callback (null before training starts). */
  get checkpointer(): Checkpointer | null {
    return this.ck;
  }

  override async onTrainBegin(): Promise<void> {
    const p = this.params as { doValidation?: boolean; steps?: number | null; samples?: number | null; batchSize?: number | null; initialEpoch?: number };
    this.stepsPerEpoch = p.steps ?? (p.samples != null && p.batchSize != null ? Math.ceil(p.samples / p.batchSize) : null);
    this.numValBatches = p.doValidation ? [1] : [];
    this.epoch = p.initialEpoch ?? 0;
    const resume: ResumeRequest = this.resumeRecord ? { record: this.resumeRecord } : false;
    this.globalStep = this.resumeRecord?.globalStep ?? 0;
    this.ck = await Checkpointer.open({
      options: this.options,
      store: await this.store(),
      capture: ({ weightsOnly }) => captureTfjsModel(this.model, { weightsOnly }),
      resume,
      trainer: { enableValidation: Boolean(p.doValidation), checkValEveryNEpoch: this.runtime.validationFreq ?? 1, valCheckInterval: 1.0 },
      ...(this.runtime.background !== undefined ? { background: this.runtime.background } : {}),
      ...(this.runtime.cwd !== undefined ? { cwd: this.runtime.cwd } : {}),
      ...(this.runtime.log !== undefined ? { log: this.runtime.log } : {}),
      ...(this.runtime.observer !== undefined ? { observer: this.runtime.observer } : {}),
      ...(this.runtime.takeOver !== undefined ? { takeOver: this.runtime.takeOver } : {}),
      ...(this.runtime.leaseTtlMs !== undefined ? { leaseTtlMs: this.runtime.leaseTtlMs } : {}),
    });
    this.resumeRecord = null;
    await this.ck.trainStarted(this.view({}));
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.epoch = epoch;
  }

  override async onBatchEnd(batch: number, logs?: tf.Logs): Promise<void> {
    this.globalStep += 1;
    this.metrics = { ...this.metrics, ...(await resolveLogs(logs)) };
    const isLastBatch = this.stepsPerEpoch !== null && batch === this.stepsPerEpoch - 1;
    await this.ckpt().batchEnded(this.view({ isLastBatch, valLoopHasRun: false }), batch);
  }

  override async onEpochEnd(epoch: number, logs?: tf.Logs): Promise<void> {
    const epochLogs = await resolveLogs(logs);
    this.metrics = { ...this.metrics, ...epochLogs };
    const validated = Object.keys(epochLogs).some((k) => k.startsWith('val_'));
    this.epoch = epoch;
    if (validated) await this.ckpt().validationEnded(this.view({ isLastBatch: true, valLoopHasRun: true }));
    await this.ckpt().epochEnded(this.view({ isLastBatch: true, valLoopHasRun: validated }));
  }

  override async onTrainEnd(): Promise<void> {
    // Lightning's current_epoch after fit is the number of epochs run
    await this.ckpt().trainEnded({ ...this.view({}), epoch: this.epoch + 1 });
  }

  /** save_on_exception: report what made `fit` reject (tfjs has no hook for it), then flush. */
  async exceptionRaised(error: unknown): Promise<void> {
    const e = error instanceof Error ? { type: error.name, message: error.message } : { type: 'Error', message: String(error) };
    await this.ckpt().exceptionRaised(e, this.view({}));
    await this.ckpt().flush();
  }

  private view(extra: Partial<LoopView>): LoopView {
    // time (monotonic seconds) drives train_time_interval
    return { epoch: this.epoch, globalStep: this.globalStep, time: performance.now() / 1000, numValBatches: this.numValBatches, metrics: { ...this.metrics } as Metrics, ...extra };
  }

  private ckpt(): Checkpointer {
    if (this.ck === null) throw new Error('ModelCheckpoint: the callback was used outside model.fit (onTrainBegin has not run)');
    return this.ck;
  }

  private log(level: LogLevel, message: string) {
    if (this.runtime.log) this.runtime.log(level, message);
    else if (level === 'warning') console.warn(`ckpt-policy warning: ${message}`);
  }

  // ---- what Lightning users read after training ------------------------------------------------

  get bestModelPath(): string {
    return this.ck?.bestModelPath ?? '';
  }
  get bestModelScore(): number | null {
    return this.ck?.bestModelScore ?? null;
  }
  get bestKModels(): KeptCheckpoint[] {
    return this.ck?.bestKModels ?? [];
  }
  get lastModelPath(): string {
    return this.ck?.lastModelPath ?? '';
  }
  toYaml(): string {
    return this.ck?.toYaml() ?? '{}\n';
  }

  /** Loads the best checkpoint: a new model from its topology, or its weights into `into`. */
  async loadBestModel(into?: tf.LayersModel): Promise<tf.LayersModel> {
    const ck = this.ckpt();
    if (ck.bestModelPath === '') throw new Error('ModelCheckpoint: no best model yet (nothing was saved with a monitored value)');
    return loadTfjsModel(await ck.read(ck.bestModelPath), into);
  }
}
