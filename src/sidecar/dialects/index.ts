/** The dialects `ckpt serve --stdio --dialect NAME` serves, by name. */
import type { DialectName, Out } from './dialect.ts';
import { kerasDialect } from './keras.ts';
import { orbaxDialect } from './orbax.ts';
import { transformersDialect } from './transformers.ts';
import { serveDialect } from './session.ts';

/** Serves the named dialect until the input ends; returns the number of lines answered with an error. */
export function serveNamedDialect(name: DialectName, input: AsyncIterator<string>, write: (o: Out) => void): Promise<number> {
  switch (name) {
    case 'keras':
      return serveDialect(input, write, kerasDialect);
    case 'orbax':
      return serveDialect(input, write, orbaxDialect);
    case 'transformers':
      return serveDialect(input, write, transformersDialect);
  }
}
export { DIALECT_NAMES, type DialectName } from './dialect.ts';
export { serveDialect } from './session.ts';
