/**
 * What the loop reconstruction (reconstruct.ts) takes and gives: its options, the timeline items it
 * emits (the facts in force, the hooks with the callback metrics at each, the records placed on
 * the loop), and the fit starts and resume candidates it reasons about.
 */
import type { LoopEvent, TrainerFacts } from '../core/events.ts';
import type { FitFacts, LoopFacts } from './loopFacts.ts';
import type { MetricRole } from './roles.ts';
import type { LogRecord, Origin } from './records.ts';

/** How a logged record relates to the loop. */
export type RecordKind = 'train' | 'val' | 'epoch' | 'test' | 'other';

export type TimelineItem =
  /** the loop facts in force, once the log has shown what it shows; comes before every event */
  | { readonly kind: 'begin'; readonly trainer: TrainerFacts; readonly facts: ResolvedFacts; readonly start: FitStart; readonly empty: boolean }
  | {
      readonly kind: 'event';
      readonly event: LoopEvent;
      /** watched metrics whose value at this hook is not in the log (the event holds the last logged value) */
      readonly unknown: readonly UnknownValue[];
      /** batches of the current epoch done at this hook (for resuming from a checkpoint written here) */
      readonly batchesDone: number;
      /** set when the hook's global step is not certain: the steps it may have been at */
      readonly stepRange: readonly [number, number] | null;
      readonly origin: Origin | null;
    }
  /** a logged record with the hook position it belongs to (for figures and charts) */
  | { readonly kind: 'observation'; readonly record: LogRecord; readonly role: RecordKind; readonly epoch: number; readonly globalStep: number };

/** A metric the callback read at a hook whose value there never reached the log. */
export interface UnknownValue {
  readonly name: string;
  /** the global step of the value the event carries instead */
  readonly loggedAt: number;
}

/** Where a fit starts. */
export interface FitStart {
  readonly epoch: number;
  readonly globalStep: number;
  /** batches of `epoch` done before the fit started (a resume from the middle of an epoch) */
  readonly batchesDone: number;
  /** logged step = global step - stepOffset */
  readonly stepOffset: 0 | 1;
  /** how the start was found */
  readonly how: 'fresh' | 'resumed' | 'unknown-resume';
  /** steps the start may have been at, when not certain */
  readonly range: readonly [number, number] | null;
}

/** Facts after inference from the log. */
export interface ResolvedFacts extends LoopFacts {
  readonly inferred: readonly string[];
}

/** A checkpoint a resumed fit may have started from, as the simulator knows it. */
export interface ResumeCandidate {
  readonly globalStep: number;
  readonly epoch: number;
  /** written at a train epoch end: the resumed fit starts the next epoch */
  readonly atEpochEnd: boolean;
  /** batches of `epoch` done when it was written */
  readonly batchesDone: number;
}

export interface ReconstructOptions {
  readonly facts: FitFacts;
  readonly given: ReadonlySet<keyof LoopFacts>;
  readonly role: (name: string) => MetricRole;
  /** every_n_train_steps of the policies simulated: batch ends are emitted only where one can fire */
  readonly stepTriggers: readonly number[];
  /** metrics whose freshness matters (monitors, file name fields, the figures' metric) */
  readonly watch: readonly string[];
  /** for fits after the first: what the previous fit left */
  readonly resume?: {
    /** checkpoints on disk after the previous fit, by the global step they were written at */
    readonly candidates: readonly ResumeCandidate[];
    /** the previous fit raised at this global step (its exception checkpoint is the usual resume point) */
    readonly exceptionStep: number | null;
    /** where the previous fit's loop stood at its end */
    readonly previousEnd: { readonly epoch: number; readonly globalStep: number };
  };
  /** another fit follows this one */
  readonly hasNextFit?: boolean;
  /** records held back for inference (default 20000) */
  readonly inferenceBuffer?: number;
  /** emit an observation only for records holding one of these metrics (default: every record) */
  readonly observe?: readonly string[];
}
