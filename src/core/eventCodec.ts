/**
 * Loop events as JSON (the sidecar's input, JSON-lines logs, the decision log): an io-ts codec that
 * checks every field and names the one that is wrong. Non-finite metric values travel as the
 * strings "NaN", "Infinity", "-Infinity".
 */
import { t, E, pipe } from './deps.cts';
import type { LoopEvent } from './events.ts';
import { describeErrors, jsonNumber, JsonNumber, Nullable, TrainerCodec } from './stateCodec.ts';

const NonNegInt = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');

const View = t.intersection([
  t.type({ epoch: NonNegInt, globalStep: NonNegInt }),
  t.partial({
    time: t.number,
    sanityChecking: t.boolean,
    isLastBatch: t.boolean,
    valLoopHasRun: t.boolean,
    numValBatches: t.array(NonNegInt),
    metrics: t.record(t.string, JsonNumber),
  }),
]);

const Trainer = t.partial(TrainerCodec.props);

const FileEntryC = t.intersection([t.type({ path: t.string, kind: t.keyof({ file: null, dir: null, symlink: null }) }), t.partial({ target: t.string })]);

/** best_k_models as pairs in insertion order, or as Lightning's own dict form (path -> score). */
const BestKModels = new t.Type<ReadonlyArray<readonly [string, number]>, unknown, unknown>(
  'BestKModels',
  (u): u is ReadonlyArray<readonly [string, number]> => Array.isArray(u),
  (u, c) => {
    if (typeof u === 'object' && u !== null && !Array.isArray(u)) {
      return t.array(t.tuple([t.string, JsonNumber])).validate(Object.entries(u), c);
    }
    return t.array(t.tuple([t.string, JsonNumber])).validate(u, c);
  },
  (pairs) => pairs.map(([p, v]) => [p, jsonNumber(v)]),
);

const StateDict = t.intersection([
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
]);

const Stage = t.keyof({ fit: null, validate: null, test: null, predict: null });

const EVENT_CODECS = {
  setup: t.intersection([t.type({ type: t.literal('setup') }), t.partial({ stage: Stage, trainer: Trainer, files: t.array(FileEntryC), view: View })]),
  stateLoaded: t.intersection([t.type({ type: t.literal('stateLoaded'), stateDict: StateDict }), t.partial({ view: View })]),
  trainStarted: t.type({ type: t.literal('trainStarted'), view: View }),
  trainBatchEnded: t.intersection([t.type({ type: t.literal('trainBatchEnded'), view: View }), t.partial({ batchIdx: NonNegInt })]),
  validationEnded: t.type({ type: t.literal('validationEnded'), view: View }),
  trainEpochEnded: t.type({ type: t.literal('trainEpochEnded'), view: View }),
  trainEnded: t.type({ type: t.literal('trainEnded'), view: View }),
  exceptionRaised: t.type({ type: t.literal('exceptionRaised'), exception: t.type({ type: t.string, message: t.string }), view: View }),
  filesListed: t.type({ type: t.literal('filesListed'), files: t.array(FileEntryC) }),
} as const;

export const EVENT_TYPES = Object.keys(EVENT_CODECS) as Array<LoopEvent['type']>;

/** The event union as an io-ts type, told apart by `type`: an error names the member's own field. */
export const LoopEventCodec = new t.Type<LoopEvent, unknown, unknown>(
  'LoopEvent',
  (u): u is LoopEvent => typeof u === 'object' && u !== null && EVENT_TYPES.some((k) => EVENT_CODECS[k].is(u)),
  (u, c) => {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, 'an event must be a JSON object');
    const type = (u as { type?: unknown }).type;
    if (typeof type !== 'string' || !Object.hasOwn(EVENT_CODECS, type)) {
      return t.failure(type, t.appendContext(c, 'type', t.string, type), `one of ${EVENT_TYPES.join(', ')}`);
    }
    return (EVENT_CODECS[type as keyof typeof EVENT_CODECS] as unknown as t.Decoder<unknown, LoopEvent>).validate(u, c);
  },
  (e) => encodeEvent(e),
);

/** Decodes one event; errors name the field path, the value found and what was expected. */
export function decodeEvent(u: unknown): E.Either<string[], LoopEvent> {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return E.left([`an event must be a JSON object, got ${JSON.stringify(u)}`]);
  return pipe(LoopEventCodec.decode(u), E.mapLeft(describeErrors));
}

/** The JSON form of an event: what decodeEvent reads back (NaN, infinities and -0 as strings). */
export function encodeEvent(e: LoopEvent): unknown {
  return JSON.parse(JSON.stringify(e, (_k, v: unknown) => (typeof v === 'number' ? jsonNumber(v) : v)));
}
