/**
 * Loop events as JSON (the sidecar's input, JSON-lines logs, the decision log): an io-ts codec that
 * checks every field and names the one that is wrong. Non-finite metric values travel as the
 * strings "NaN", "Infinity", "-Infinity". The members and the LoopEvent type are in events.ts.
 */
import { t, E, pipe } from './deps.cts';
import { EVENT_CODECS, type LoopEvent, type LoopEventType } from './events.ts';
import { describeErrors, jsonNumber } from './stateCodec.ts';

export const EVENT_TYPES = Object.keys(EVENT_CODECS) as LoopEventType[];

/** The decoder of one event type: every member decodes to some LoopEvent. */
const memberOf = (type: LoopEventType): t.Decoder<unknown, LoopEvent> => EVENT_CODECS[type];

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
    return memberOf(type as LoopEventType).validate(u, c);
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
