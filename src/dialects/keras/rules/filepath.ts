/**
 * ModelCheckpoint._get_file_path: the path is formatted before anything is decided, so a template
 * key missing from `logs` fails even on an epoch that would not save. `{epoch}` is 1-based; `{batch}`
 * is `batch + 1` for batch-level saves unless the logs carry a `batch` entry (then that float is
 * used as is); at epoch level there is no `batch`. A KeyError is re-raised with the template named;
 * every other formatting error propagates unwrapped.
 */
import { PyFormatError, pyStrRepr } from '../../../core/format/pyformat.ts';
import type { PyError } from '../options.ts';
import { pyFormatKwargs, type FormatArg } from '../strformat.ts';
import { isArray, type Logs } from '../values.ts';

export function formatFilepath(template: string, epoch: number, batch: number | null, logs: Logs): string | PyError {
  // Python's call raises before formatting when a keyword is given twice
  if (Object.hasOwn(logs, 'epoch')) return { type: 'TypeError', message: "str.format() got multiple values for keyword argument 'epoch'" };
  const kwargs = new Map<string, FormatArg>([['epoch', { type: 'int', value: epoch + 1 }]]);
  if (batch !== null && !Object.hasOwn(logs, 'batch')) kwargs.set('batch', { type: 'int', value: batch + 1 });
  for (const [k, v] of Object.entries(logs)) kwargs.set(k, isArray(v) ? { type: 'ndarray', array: v } : { type: 'float', value: v });
  try {
    return pyFormatKwargs(template, kwargs);
  } catch (e) {
    if (!(e instanceof PyFormatError)) throw e;
    if (e.pyType !== 'KeyError') return { type: e.pyType, message: e.message };
    const message = `Failed to format this callback filepath: "${template}". Reason: ${e.message}`;
    return { type: 'KeyError', message, str: pyStrRepr(message) };
  }
}

export const isPyError = (x: unknown): x is PyError => typeof x === 'object' && x !== null && 'type' in x && 'message' in x;
