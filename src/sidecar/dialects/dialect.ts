/**
 * What `ckpt serve --stdio --dialect NAME` needs of a framework dialect: how its `init` line builds
 * the policy (the framework's options, in its own names), how one input line (an event or a call)
 * is decoded and answered, and how its state crosses a line (null when the dialect has no state
 * codec). The line loop is session.ts; one module per dialect implements this.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { describeErrors } from '../../core/stateCodec.ts';

export type Out = Record<string, unknown>;

export const DIALECT_NAMES = ['keras', 'orbax', 'transformers'] as const;
export type DialectName = (typeof DIALECT_NAMES)[number];

/** A line the dialect refuses: `shape` (a field), `order` (not now), `config` (the init's options). */
export class DialectError extends Error {
  constructor(
    readonly kind: 'shape' | 'order' | 'config',
    message: string,
    /** the framework's exception, when the framework itself raised (an init its constructor refuses) */
    readonly raised?: { readonly type: string; readonly message: string },
  ) {
    super(message);
  }
}

export interface Dialect<S> {
  readonly name: DialectName;
  /** the input lines' discriminant (`_tag` for Keras, `call` for Orbax, `type` for transformers) */
  readonly tagKey: string;
  /** its allowed values, in the framework's order */
  readonly inputTags: readonly string[];
  /** the init line (`options` and the dialect's other fields) → the first state and the answer's fields */
  init(line: Readonly<Record<string, unknown>>): readonly [S, Out];
  /** one input line, its tag checked already → the next state and the answer's fields */
  step(state: S, line: Readonly<Record<string, unknown>>): readonly [S, Out];
  /** the state as JSON and back (decode throws a DialectError of kind `shape`); null: no state codec */
  readonly state: { encode(s: S): unknown; decode(u: unknown): S } | null;
}

// ---- helpers the dialect modules share -----------------------------------------------------

/** The value of literal `key` in a codec built of `t.type`s and intersections of them. */
function literalOf(c: t.Mixed, key: string): unknown {
  const any = c as unknown as { props?: Record<string, { value?: unknown }>; types?: t.Mixed[] };
  if (any.props?.[key] !== undefined) return any.props[key]!.value;
  for (const m of any.types ?? []) {
    const v = literalOf(m, key);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Per tag, its member of a tagged union codec: a bad line is described against its own member only. */
export function membersByTag(union: t.UnionType<t.Mixed[]>, key: string): ReadonlyMap<string, t.Mixed> {
  const m = new Map<string, t.Mixed>();
  for (const c of union.types) {
    const tag = literalOf(c, key);
    if (typeof tag === 'string') m.set(tag, c);
    // a member whose tag is a keyof (several calls sharing one shape)
    const keys = (c as unknown as { types?: t.Mixed[]; props?: Record<string, { keys?: Record<string, unknown> }> }).props?.[key]?.keys;
    for (const k of Object.keys(keys ?? {})) m.set(k, c);
    for (const inner of (c as unknown as { types?: t.Mixed[] }).types ?? []) {
      for (const k of Object.keys((inner as unknown as { props?: Record<string, { keys?: Record<string, unknown> }> }).props?.[key]?.keys ?? {})) m.set(k, c);
    }
  }
  return m;
}

/** Decodes with `codec`, or throws a shape error naming each field, its value and what is allowed. */
export function decodeOrThrow<A>(codec: t.Decoder<unknown, A>, u: unknown, what: string): A {
  const r = codec.decode(u);
  if (E.isLeft(r)) throw new DialectError('shape', `${what}: ${[...new Set(describeErrors(r.left))].slice(0, 4).join('; ')}`);
  return r.right;
}

/** Every field a codec built of `t.type`s, `t.partial`s and intersections names. */
export function keysOf(c: t.Mixed): string[] {
  const any = c as unknown as { props?: Record<string, unknown>; types?: t.Mixed[] };
  return [...Object.keys(any.props ?? {}), ...(any.types ?? []).flatMap(keysOf)];
}

/** Top-level keys a line may not carry (a misspelt field must not be ignored silently). */
export function refuseUnknownKeys(line: Readonly<Record<string, unknown>>, allowed: readonly string[], what: string): void {
  const extra = Object.keys(line).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new DialectError('shape', `${what}: ${extra.map((k) => JSON.stringify(k)).join(', ')} is not a field: expected only ${allowed.join(', ')}`);
}
