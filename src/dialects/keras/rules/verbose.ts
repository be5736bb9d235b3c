/**
 * `self.verbose > 0`, evaluated where Keras evaluates it: Python compares ints, floats and bools
 * with 0 and raises TypeError for anything else (verbose='auto' or None fail at the first save
 * decision, not in the constructor).
 */
import type { PyError } from '../options.ts';
import { pyTypeName, type PyScalar } from '../values.ts';

export function verboseOn(verbose: PyScalar): boolean | PyError {
  if (typeof verbose === 'number') return verbose > 0;
  if (typeof verbose === 'boolean') return verbose;
  return { type: 'TypeError', message: `'>' not supported between instances of '${pyTypeName(verbose)}' and 'int'` };
}
