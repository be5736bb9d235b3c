/**
 * Keras 3's ModelCheckpoint behind the sidecar. init: `{"type":"init","options":{ModelCheckpoint
 * arguments},"fixes":{...}}` (fixes optional, KerasFixes' names). Inputs: the dialect's events
 * (`_tag`: EpochBegan, TrainBatchEnded, EpochEnded, SaveCompleted, SaveFailed, ...); answers carry
 * `effects` (Save, Print, Warn, NotSaved, Raise) and `state` (KerasStateCodec).
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { decodeOptions, construct } from '../../dialects/keras/options.ts';
import { init, reduce } from '../../dialects/keras/reduce.ts';
import { KerasEventCodec, type KerasEvent } from '../../dialects/keras/events.ts';
import { KerasFixesCodec, KerasStateCodec, type KerasState } from '../../dialects/keras/state.ts';
import type { KerasEffect } from '../../dialects/keras/effects.ts';
import { DialectError, decodeOrThrow, keysOf, membersByTag, refuseUnknownKeys, type Dialect, type Out } from './dialect.ts';

const MEMBERS = membersByTag(KerasEventCodec, '_tag');
const FixesCodec = t.exact(t.partial(KerasFixesCodec.props));

/** Effects as JSON: NaN and ±Infinity in reasons are written as strings by the line writer. */
const effectsOut = (effects: readonly KerasEffect[]): Out => ({ effects });

/** Python's bare NaN/Infinity arrive as strings (protocol.ts); Keras's logs hold them as floats. */
const NON_FINITE: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const revive = (v: unknown): unknown => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v);
function reviveLogs(line: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const logs = line.logs;
  if (typeof logs !== 'object' || logs === null || Array.isArray(logs)) return line;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(logs)) {
    const nd = v as { ndarray?: unknown };
    out[k] = typeof v === 'object' && v !== null && Array.isArray(nd.ndarray) ? { ...v, ndarray: nd.ndarray.map(revive) } : revive(v);
  }
  return { ...line, logs: out };
}

export const kerasDialect: Dialect<KerasState> = {
  name: 'keras',
  tagKey: '_tag',
  inputTags: [...MEMBERS.keys()],
  init(line) {
    refuseUnknownKeys(line, ['type', 'options', 'fixes'], 'init message');
    const decoded = decodeOptions(line.options);
    if (E.isLeft(decoded)) throw new DialectError('config', decoded.left.map((i) => i.message).join('; '), decoded.left.find((i) => i.keras)?.keras);
    const fixes = line.fixes === undefined ? {} : decodeOrThrow(FixesCodec, line.fixes, 'init message fixes');
    const extra = Object.keys(line.fixes ?? {}).filter((k) => !(k in KerasFixesCodec.props));
    if (extra.length > 0) throw new DialectError('shape', `init message fixes: unknown fix ${extra.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${Object.keys(KerasFixesCodec.props).join(', ')}`);
    const c = construct(decoded.right);
    if (c._tag === 'ConstructionFailed') throw new DialectError('config', `ModelCheckpoint(...) raised ${c.error.type}: ${c.error.message}`, c.error);
    const [state, effects] = init(c, fixes);
    return [state, effectsOut(effects)];
  },
  step(state, line) {
    const member = MEMBERS.get(line._tag as string)!;
    refuseUnknownKeys(line, keysOf(member), `${line._tag as string} event`);
    // decoded against its own member, so that errors name only this event's fields
    const event = decodeOrThrow(member, reviveLogs(line), `${line._tag as string} event`) as KerasEvent;
    if (state.pending !== null && event._tag !== 'SaveCompleted' && event._tag !== 'SaveFailed') {
      throw new DialectError('order', `${event._tag} while the save of ${state.pending.filepath} awaits its outcome: send {"_tag":"SaveCompleted"} or {"_tag":"SaveFailed","error":{"type":...,"message":...}} first`);
    }
    if (state.pending === null && (event._tag === 'SaveCompleted' || event._tag === 'SaveFailed')) {
      throw new DialectError('order', `${event._tag} with no save awaiting its outcome (send it after an answer with a Save effect)`);
    }
    const [next, effects] = reduce(state, event);
    return [next, effectsOut(effects)];
  },
  state: {
    encode: (s) => KerasStateCodec.encode(s),
    decode: (u) => decodeOrThrow(KerasStateCodec, u, 'resume message state'),
  },
};
