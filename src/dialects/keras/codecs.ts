/** Small codecs shared by the Keras dialect's events, effects and state. */
import * as t from 'io-ts';

/** A Python exception as a value: its class name, str(), and the message when str() quotes it (KeyError). */
export const PyError = t.intersection([t.type({ type: t.string, message: t.string }), t.partial({ str: t.string })]);
