/**
 * Events: past-tense facts about the training loop. Each one carries everything Lightning's
 * callback reads from the trainer at that hook, so the reducer never asks the world anything.
 *
 * The types are derived from the codecs (JSON-lines logs, the sidecar and the decision log decode
 * events with them; src/core/eventCodec.ts). Non-finite metric values travel as "NaN", "Infinity",
 * "-Infinity" and "-0".
 */
import { t } from './deps.cts';
import { FileEntryCodec } from './files.ts';
import { JsonNumber, Nullable } from './jsonNumber.ts';

const NonNegInt = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');

/** Metric values as the loop logged them (Lightning keeps them as float32; the core rounds to float32). */
export const MetricsCodec = t.readonly(t.record(t.string, JsonNumber));
export type Metrics = t.TypeOf<typeof MetricsCodec>;

/** What the trainer looks like when a hook runs (Lightning's `trainer.*` reads). */
export const LoopViewCodec = t.readonly(
  t.intersection([
    t.type({
      /** trainer.current_epoch */
      epoch: NonNegInt,
      /** trainer.global_step: optimizer steps taken so far */
      globalStep: NonNegInt,
    }),
    t.partial({
      /** time.monotonic() in seconds; needed by train_time_interval */
      time: t.number,
      sanityChecking: t.boolean,
      /** the batch just finished was the epoch's last */
      isLastBatch: t.boolean,
      /** a non-sanity validation batch has completed since the validation loop last started */
      valLoopHasRun: t.boolean,
      /** trainer.num_val_batches: per validation dataloader; empty until validation data is set up */
      numValBatches: t.readonlyArray(NonNegInt),
      /** trainer.callback_metrics, in logging order */
      metrics: MetricsCodec,
    }),
  ]),
);
export type LoopView = t.TypeOf<typeof LoopViewCodec>;

export const LoggerFactsCodec = t.readonly(t.type({ saveDir: Nullable(t.string), name: t.string, version: t.union([t.number, t.string]) }));
export type LoggerFacts = t.TypeOf<typeof LoggerFactsCodec>;

const Stage = t.keyof({ fit: null, validate: null, test: null, predict: null });

/** The trainer facts as the state keeps them, every one filled in (defaults at setup); events carry any subset. */
export const TrainerCodec = t.type({
  /** Trainer.default_root_dir (defaults to the working directory) */
  defaultRootDir: t.string,
  loggers: t.readonlyArray(LoggerFactsCodec),
  /** the checkpoint this run resumed from; never removed by rotation */
  ckptPath: Nullable(t.string),
  fastDevRun: t.union([t.boolean, t.number]),
  /** trainer.state.fn: only 'fit' saves */
  stateFn: Stage,
  automaticOptimization: t.boolean,
  /** Trainer(check_val_every_n_epoch); null = validation counted across epochs */
  checkValEveryNEpoch: Nullable(t.number),
  /** Trainer(val_check_interval) as a fraction or a batch count; null when validation is time based */
  valCheckInterval: Nullable(t.number),
  /** seconds between validations when validation is time based */
  valCheckTimeInterval: Nullable(t.number),
  /** false when validation is disabled (limit_val_batches=0, no validation step) */
  enableValidation: t.boolean,
});

/** Static facts of one `fit`, read by the rules (Trainer arguments and derived loop settings). */
export const TrainerFactsCodec = t.readonly(t.partial(TrainerCodec.props));
export type TrainerFacts = t.TypeOf<typeof TrainerFactsCodec>;

export const ExceptionCodec = t.readonly(t.type({ type: t.string, message: t.string }));
export type Exception = t.TypeOf<typeof ExceptionCodec>;

/** best_k_models as pairs in insertion order, or as Lightning's own dict form (path -> score). */
const Pairs = t.readonlyArray(t.readonly(t.tuple([t.string, JsonNumber])));
const BestKModels = new t.Type<t.TypeOf<typeof Pairs>, unknown, unknown>(
  'BestKModels',
  Pairs.is,
  (u, c) => Pairs.validate(typeof u === 'object' && u !== null && !Array.isArray(u) ? Object.entries(u) : u, c),
  (pairs) => pairs.map(([p, v]) => [p, JsonNumber.encode(v)]),
);

/** Lightning's ModelCheckpoint.state_dict(), as stored inside every checkpoint. */
export const LightningStateDictCodec = t.readonly(
  t.intersection([
    t.type({ best_model_score: Nullable(JsonNumber), best_model_path: t.string }),
    t.partial({
      monitor: Nullable(t.string),
      current_score: Nullable(JsonNumber),
      dirpath: Nullable(t.string),
      best_k_models: BestKModels,
      kth_best_model_path: t.string,
      kth_value: JsonNumber,
      last_model_path: t.string,
    }),
  ]),
);
export type LightningStateDict = t.TypeOf<typeof LightningStateDictCodec>;

const Files = t.readonlyArray(FileEntryCodec);
const event = <P extends t.Props, O extends t.Props>(required: P, optional: O) => t.readonly(t.intersection([t.type(required), t.partial(optional)]));
const plain = <P extends t.Props>(required: P) => t.readonly(t.type(required));

/** One codec per event, keyed by its `type`. */
export const EVENT_CODECS = {
  /** fit starts: the directory is resolved and its listing becomes known */
  setup: event({ type: t.literal('setup') }, { stage: Stage, trainer: TrainerFactsCodec, files: Files, view: LoopViewCodec }),
  /** a checkpoint's callback state was restored (Lightning's load_state_dict) */
  stateLoaded: event({ type: t.literal('stateLoaded'), stateDict: LightningStateDictCodec }, { view: LoopViewCodec }),
  trainStarted: plain({ type: t.literal('trainStarted'), view: LoopViewCodec }),
  trainBatchEnded: event({ type: t.literal('trainBatchEnded'), view: LoopViewCodec }, { batchIdx: NonNegInt }),
  validationEnded: plain({ type: t.literal('validationEnded'), view: LoopViewCodec }),
  trainEpochEnded: plain({ type: t.literal('trainEpochEnded'), view: LoopViewCodec }),
  trainEnded: plain({ type: t.literal('trainEnded'), view: LoopViewCodec }),
  exceptionRaised: plain({ type: t.literal('exceptionRaised'), exception: ExceptionCodec, view: LoopViewCodec }),
  /** files appeared or vanished outside the policy's own effects (another process, a user) */
  filesListed: plain({ type: t.literal('filesListed'), files: Files }),
};

export type LoopEventType = keyof typeof EVENT_CODECS;
export type LoopEvent = { [K in LoopEventType]: t.TypeOf<(typeof EVENT_CODECS)[K]> }[LoopEventType];
