/**
 * The sidecar's wire format: one JSON object per line in, one per line out. Input lines are loop
 * events (the LoopEvent shapes of events.ts, camelCase) or control messages; every field is checked
 * and a bad line is answered with an error naming the field, the value and what is allowed.
 * Python's json.dumps writes NaN/Infinity as bare words; they are accepted (as are the strings).
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent, EVENT_TYPES } from '../core/eventCodec.ts';
import { describeErrors } from '../core/stateCodec.ts';
import type { LoopEvent } from '../core/events.ts';

const NonNegInt = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');
const Sha256 = t.refinement(t.string, (s) => /^[0-9a-f]{64}$/.test(s), 'a SHA-256 as 64 lowercase hex digits');

const CONTROL_CODECS = {
  /** (re)starts the policy with ModelCheckpoint options; `cwd` resolves relative dirpaths */
  init: t.intersection([t.type({ type: t.literal('init'), options: t.UnknownRecord }), t.partial({ cwd: t.string })]),
  /** continue from the record a previous run's checkpoint carries (send before setup) */
  resume: t.type({ type: t.literal('resume'), record: t.UnknownRecord }),
  /** the checkpoint bytes for the decision awaiting them (store mode), as a file the loop wrote */
  payload: t.type({ type: t.literal('payload'), file: t.string }),
  /** what Lightning users read: best path and score, best-k, last, the state dict */
  query: t.type({ type: t.literal('query') }),
  /**
   * decide mode: how effect `index` of the answer numbered `seq` went, for the decision log
   * (`cause` says why a failed one failed; `size` and `sha256` describe the bytes a done save wrote)
   */
  outcome: t.intersection([
    t.type({ type: t.literal('outcome'), seq: NonNegInt, index: NonNegInt, status: t.keyof({ done: null, failed: null }, '"done" or "failed"') }),
    t.partial({ cause: t.string, size: NonNegInt, sha256: Sha256 }),
  ]),
} as const;

export type ControlMessage = { [K in keyof typeof CONTROL_CODECS]: t.TypeOf<(typeof CONTROL_CODECS)[K]> }[keyof typeof CONTROL_CODECS];
export type InputMessage = { readonly kind: 'event'; readonly event: LoopEvent } | { readonly kind: 'control'; readonly message: ControlMessage };

export const INPUT_TYPES: string[] = [...EVENT_TYPES, ...Object.keys(CONTROL_CODECS)];

export class LineError extends Error {
  constructor(
    readonly kind: 'json' | 'shape' | 'order' | 'store' | 'log',
    message: string,
  ) {
    super(message);
  }
}

/** Bare NaN / Infinity / -Infinity (as Python writes them) become strings JsonNumber reads. */
export function parseLenient(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (first) {
    const fixed = line.replace(/([:[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, '$1"$2"');
    if (fixed !== line) {
      try {
        return JSON.parse(fixed);
      } catch {
        /* report the original error */
      }
    }
    throw new LineError('json', `not valid JSON: ${(first as Error).message}`);
  }
}

export function parseLine(line: string): InputMessage {
  const u = parseLenient(line);
  if (typeof u !== 'object' || u === null || Array.isArray(u)) throw new LineError('shape', `expected a JSON object with a "type" field, got ${JSON.stringify(u)}`);
  const type = (u as { type?: unknown }).type;
  if (typeof type !== 'string' || !INPUT_TYPES.includes(type)) {
    throw new LineError('shape', `type=${JSON.stringify(type)} is not allowed: expected one of ${INPUT_TYPES.join(', ')}`);
  }
  if ((EVENT_TYPES as string[]).includes(type)) {
    const r = decodeEvent(u);
    if (E.isLeft(r)) throw new LineError('shape', `${type} event: ${r.left.slice(0, 4).join('; ')}`);
    return { kind: 'event', event: r.right };
  }
  const r = (CONTROL_CODECS[type as keyof typeof CONTROL_CODECS] as t.Decoder<unknown, ControlMessage>).decode(u);
  if (E.isLeft(r)) throw new LineError('shape', `${type} message: ${describeErrors(r.left).slice(0, 4).join('; ')}`);
  const m = r.right;
  if (m.type === 'outcome') {
    if (m.status === 'failed' && (m.cause === undefined || m.cause.trim() === '')) {
      throw new LineError('shape', `outcome message: cause: got ${JSON.stringify(m.cause)}, expected a non-empty string saying why the effect failed (required with status "failed")`);
    }
    if (m.status === 'done' && m.cause !== undefined) throw new LineError('shape', `outcome message: cause: got ${JSON.stringify(m.cause)}, expected no cause with status "done"`);
    if ((m.size === undefined) !== (m.sha256 === undefined)) {
      throw new LineError('shape', `outcome message: ${m.size === undefined ? 'size' : 'sha256'}: got undefined, expected it with ${m.size === undefined ? 'sha256' : 'size'} (give both or neither)`);
    }
    if (m.size !== undefined && m.status !== 'done') throw new LineError('shape', `outcome message: size, sha256: expected only with status "done" (a failed save wrote nothing to describe)`);
  }
  return { kind: 'control', message: m };
}
