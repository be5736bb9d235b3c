/**
 * io-ts codecs for what a decision log holds: loop events, effects with their reasons, and the
 * notes of decisions not to act. Every number goes through LogNumber, so NaN, infinities and -0
 * come back exactly as the reducer saw them. Decoding is strict on types and lenient on unknown
 * fields (a newer writer may add some).
 */
export { tagged } from '../core/tagged.ts';
/** Loop events as the rest of the project reads them. */
export { LoopEventCodec } from '../core/eventCodec.ts';

/** Effects with their reasons: the core's codecs (the Effect and Reason types are derived from them). */
export { EffectCodec, ReasonCodec } from '../core/effects.ts';

/** The notes of decisions not to act: the core's codec (the Note type is derived from it). */
export { NoteCodec } from '../core/notes.ts';
