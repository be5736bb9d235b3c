/**
 * Python's `str.format(**kwargs)` with keyword arguments only, as Keras formats a checkpoint path:
 * `filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)`. The parser is the core's
 * (src/core/format/strformat.ts, CPython 3.11's, lazy: the first error is Python's); this module
 * holds what Keras formats: Python ints and floats, and NumPy arrays from the logs.
 */
import { compileFormat, formatCompiled, type CompiledFormat, type FormatArgs } from '../../core/format/strformat.ts';
import { PyFormatError, formatValue, pyFloatRepr, pyStrRepr, type PyValue } from '../../core/format/pyformat.ts';
import { numpyStr, type NdArray } from './values.ts';

/** A keyword argument: a Python int or float, or a NumPy array from the logs. */
export type FormatArg = PyValue | { readonly type: 'ndarray'; readonly array: NdArray };

const typeName = (o: FormatArg) => (o.type === 'ndarray' ? 'numpy.ndarray' : o.type);

/** The keyword arguments; Keras passes no positional ones. */
class KwargsOnly implements FormatArgs<FormatArg> {
  constructor(readonly kwargs: ReadonlyMap<string, FormatArg>) {}
  positional(index: bigint): FormatArg {
    throw new PyFormatError('IndexError', `Replacement index ${index} out of range for positional args tuple`);
  }
  keyword(name: string): FormatArg {
    const v = this.kwargs.get(name);
    if (v === undefined) throw new PyFormatError('KeyError', pyStrRepr(name));
    return v;
  }
  attribute(o: FormatArg, name: string): FormatArg {
    // Attributes of numbers (.real, .imag) are not modelled: Python's message for a missing one.
    throw new PyFormatError('AttributeError', `'${typeName(o)}' object has no attribute '${name}'`);
  }
  item(o: FormatArg): FormatArg {
    if (o.type === 'ndarray') throw new Error('not supported: indexing a NumPy array in a ModelCheckpoint filepath');
    throw new PyFormatError('TypeError', `'${typeName(o)}' object is not subscriptable`);
  }
  str(o: FormatArg): string {
    return o.type === 'ndarray' ? numpyStr(o.array) : o.type === 'float' ? pyFloatRepr(o.value) : String(o.value);
  }
  repr(o: FormatArg): string {
    if (o.type === 'ndarray') throw new Error('not supported: repr() of a NumPy array in a ModelCheckpoint filepath ({name!r})');
    return this.str(o);
  }
  format(o: FormatArg, spec: string): string {
    if (o.type !== 'ndarray') return formatValue(o, spec);
    if (spec) throw new PyFormatError('TypeError', 'unsupported format string passed to numpy.ndarray.__format__');
    return numpyStr(o.array);
  }
}

// a callback formats one filepath all run long: compiled once
let last: { template: string; compiled: CompiledFormat } | null = null;

/** `template.format(**kwargs)`. Throws PyFormatError carrying Python's exception class and str(). */
export function pyFormatKwargs(template: string, kwargs: ReadonlyMap<string, FormatArg>): string {
  if (last === null || last.template !== template) last = { template, compiled: compileFormat(template) };
  return formatCompiled(last.compiled, new KwargsOnly(kwargs));
}
