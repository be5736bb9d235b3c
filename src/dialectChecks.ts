/**
 * Each non-Lightning dialect's check of its options, in that framework's words (src/dialectOptions.ts
 * loads this module only when a policy names one of them: it brings the Keras, Orbax and
 * transformers option codecs).
 */
import { E } from './core/deps.cts';
import { decodeOptions as decodeKerasOptions, construct as constructKeras } from './dialects/keras/options.ts';
import { constructOptions as constructOrbax, decodeOrbaxOptions } from './dialects/orbax/options.ts';
import { resolveArgs } from './dialects/transformers/args.ts';
import type { Dialect, DialectIssue } from './dialectOptions.ts';

/** The problems with `options` as `dialect`'s framework sees them (empty: valid), each naming its field. */
export function dialectIssues(dialect: Exclude<Dialect, 'lightning'>, options: Record<string, unknown>): DialectIssue[] {
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
