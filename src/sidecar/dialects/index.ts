/** The dialects `ckpt serve --stdio --dialect NAME` serves, by name. */
import type { Dialect, DialectName, Out } from './dialect.ts';
import { kerasDialect } from './keras.ts';
import { orbaxDialect } from './orbax.ts';
import { transformersDialect } from './transformers.ts';
import { serveDialect, type LineRecorder } from './session.ts';

/** Serves the named dialect until the input ends; returns the number of lines answered with an error. */
export function serveNamedDialect(name: DialectName, input: AsyncIterator<string>, write: (o: Out) => void, recorder?: LineRecorder): Promise<number> {
  return withDialect(name, (d) => serveDialect(input, write, d, recorder));
}

/** Runs `f` with the named dialect, whatever its state type. */
export function withDialect<R>(name: DialectName, f: <S>(d: Dialect<S>) => R): R {
  switch (name) {
    case 'keras':
      return f(kerasDialect);
    case 'orbax':
      return f(orbaxDialect);
    case 'transformers':
      return f(transformersDialect);
  }
}
export { DIALECT_NAMES, type DialectName } from './dialect.ts';
export { answerLine, serveDialect, type LineRecorder } from './session.ts';
