/**
 * Which framework's options a policy file holds: `dialect: lightning` (the default), `keras`,
 * `orbax` or `transformers`. A dialect's options are checked with that framework's own rules and
 * words, so a pasted Keras or Trainer configuration gets Keras's or transformers' errors, not
 * Lightning's "unknown option".
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeOptions as decodeKerasOptions, construct as constructKeras } from './dialects/keras/options.ts';
import { constructOptions as constructOrbax, decodeOrbaxOptions } from './dialects/orbax/options.ts';
import { resolveArgs } from './dialects/transformers/args.ts';

export const DIALECTS = ['lightning', 'keras', 'orbax', 'transformers'] as const;
export type Dialect = (typeof DIALECTS)[number];

export const isDialect = (x: unknown): x is Dialect => typeof x === 'string' && (DIALECTS as readonly string[]).includes(x);

/** The problems with `options` as `dialect`'s framework sees them (empty: valid), each naming its field. */
export function dialectIssues(dialect: Exclude<Dialect, 'lightning'>, options: Record<string, unknown>): { field: string | null; message: string }[] {
  switch (dialect) {
    case 'keras': {
      const d = decodeKerasOptions(options);
      if (E.isLeft(d)) return d.left.map((i) => ({ field: i.field, message: i.message }));
      const c = constructKeras(d.right);
      return c._tag === 'Constructed' ? [] : [{ field: null, message: `Keras raises ${c.error.type}: ${c.error.message}` }];
    }
    case 'orbax': {
      const d = decodeOrbaxOptions(options);
      if (E.isLeft(d)) return d.left.map((i) => ({ field: i.field, message: i.message }));
      const c = constructOrbax(d.right);
      return E.isRight(c) ? [] : [{ field: null, message: `Orbax raises ${c.left.type}: ${c.left.message}` }];
    }
    case 'transformers': {
      const r = resolveArgs(options);
      return r.ok ? [] : r.issues.map((i) => ({ field: i.field, message: i.message }));
    }
  }
}
