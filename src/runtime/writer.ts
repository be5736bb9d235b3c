/**
 * Carries out storage effects in the background, in an order that is safe to interrupt:
 *  - a save waits only for earlier operations on its own key, so saves of different checkpoints
 *    overlap (at most `maxInFlight` captured payloads are held; `reserve` is the backpressure);
 *  - a removal or link waits for every earlier operation, so it never overtakes the save it
 *    depends on, and it is withheld when any save submitted before it failed: a failed save never
 *    causes a deletion, and after one the policy's picture of the storage is no longer trusted.
 * Failures are kept until someone reads them (`takeFailures`); nothing is dropped silently.
 */
import type { StoreKey } from '../core/brands.ts';
import type { Effect } from '../core/effects.ts';
import type { CheckpointStore, Payload } from '../core/store.ts';
import { describeCause, type EffectFailure } from './errors.ts';
import type { EffectOutcome } from './observer.ts';

export type StorageEffect = Extract<Effect, { type: 'save' | 'remove' | 'link' }>;

export type WriteJob =
  | { readonly op: 'save'; readonly seq: number; readonly index: number; readonly effect: StorageEffect; readonly key: StoreKey; readonly payload: Payload }
  | { readonly op: 'remove'; readonly seq: number; readonly index: number; readonly effect: StorageEffect; readonly key: StoreKey }
  | { readonly op: 'link'; readonly seq: number; readonly index: number; readonly effect: StorageEffect; readonly key: StoreKey; readonly targetKey: StoreKey };

export class EffectWriter {
  private readonly tails = new Map<StoreKey, Promise<unknown>>();
  private readonly unsettled = new Set<Promise<unknown>>();
  private readonly pending = new Map<WriteJob, true>();
  private savesHeld = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly failures: EffectFailure[] = [];
  private firstFailedSave: (EffectFailure & { ordinal: number }) | null = null;
  private submitted = 0;

  constructor(
    private readonly store: CheckpointStore,
    readonly maxInFlight: number,
    private readonly onSettled: (job: WriteJob, outcome: EffectOutcome) => void,
    /** runs before every storage operation; a rejection fails it untouched (the writer lease: see lease.ts) */
    private readonly guard: () => Promise<void> = async () => undefined,
  ) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new RangeError(`maxInFlight=${maxInFlight} is not allowed: expected an integer >= 1`);
    }
  }

  /** Resolves once another save may be captured (fewer than maxInFlight saves unfinished). */
  async reserve(): Promise<void> {
    while (this.savesHeld >= this.maxInFlight) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Keys of unfinished saves and removals (recorded in checkpoints for resume). */
  pendingKeys(): { saves: StoreKey[]; removals: StoreKey[] } {
    const saves: StoreKey[] = [];
    const removals: StoreKey[] = [];
    for (const job of this.pending.keys()) {
      if (job.op === 'save') saves.push(job.key);
      else if (job.op === 'remove') removals.push(job.key);
    }
    return { saves, removals };
  }

  get hasFailed(): boolean {
    return this.firstFailedSave !== null || this.failures.length > 0;
  }

  submit(job: WriteJob): Promise<EffectOutcome> {
    const deps = job.op === 'save' ? [this.tails.get(job.key)] : [...this.unsettled];
    if (job.op === 'save') this.savesHeld++;
    this.pending.set(job, true);
    const ordinal = this.submitted++;
    const run = Promise.all(deps).then(() => this.perform(job, ordinal));
    const settled = run.then((outcome) => {
      this.pending.delete(job);
      this.unsettled.delete(settled);
      if (this.tails.get(job.key) === settled) this.tails.delete(job.key);
      if (job.op === 'save') {
        this.savesHeld--;
        this.waiters.shift()?.();
      }
      if (outcome.status === 'failed') this.failures.push({ seq: job.seq, index: job.index, effect: job.effect, key: job.key, cause: outcome.cause });
      this.onSettled(job, outcome);
      return outcome;
    });
    this.unsettled.add(settled);
    this.tails.set(job.key, settled);
    if (job.op === 'link') this.tails.set(job.targetKey, settled);
    return settled;
  }

  private async perform(job: WriteJob, ordinal: number): Promise<EffectOutcome> {
    // every earlier operation has settled by now, so any earlier failed save is known
    if (job.op !== 'save' && this.firstFailedSave !== null && this.firstFailedSave.ordinal < ordinal) {
      const f = this.firstFailedSave;
      return { status: 'failed', cause: `withheld: the save of ${f.key} (decision ${f.seq}) failed, and a failed save never causes a ${job.op === 'remove' ? 'deletion' : 'link'}` };
    }
    try {
      await this.guard();
      switch (job.op) {
        case 'save':
          await this.store.save(job.key, job.payload);
          break;
        case 'remove':
          await this.store.remove(job.key);
          break;
        case 'link':
          await this.store.link(job.targetKey, job.key);
          break;
      }
      return { status: 'done' };
    } catch (e) {
      const cause = describeCause(e);
      if (job.op === 'save' && (this.firstFailedSave === null || ordinal < this.firstFailedSave.ordinal)) {
        this.firstFailedSave = { seq: job.seq, index: job.index, effect: job.effect, key: job.key, cause, ordinal };
      }
      return { status: 'failed', cause };
    }
  }

  /** Waits until every submitted operation has settled. */
  async drain(): Promise<void> {
    while (this.unsettled.size > 0) await Promise.all([...this.unsettled]);
  }

  /** Failures not yet handed out; each is handed out once. */
  takeFailures(): EffectFailure[] {
    return this.failures.splice(0, this.failures.length);
  }

  /** Marks the writer failed for an effect that never reached storage (its capture threw). */
  recordCaptureFailure(f: EffectFailure): void {
    const ordinal = this.submitted++;
    if (this.firstFailedSave === null) this.firstFailedSave = { ...f, ordinal };
    this.failures.push(f);
  }
}
