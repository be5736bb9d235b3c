/**
 * Python's `str.format(**kwargs)` with keyword arguments only, as Keras formats a checkpoint path:
 * `filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)`. The parsing is CPython 3.11's
 * (Objects/stringlib/unicode_format.h) and lazy like it: a syntax error is raised only when
 * formatting reaches it, after the fields before it were looked up, so the first error is Python's.
 *
 * The core has the same parser for Lightning's positional-dict call (src/core/format/template.ts)
 * but does not export it with a pluggable lookup; this module is that parser with keyword lookup,
 * written here so as not to touch src/core (see the report of issue 12).
 */
import { PyFormatError, formatString, formatValue, pyFloatRepr, pyStrRepr, type PyValue } from '../../core/format/pyformat.ts';
import { numpyStr, type NdArray } from './values.ts';

/** A keyword argument: a Python int or float, or a NumPy array from the logs. */
export type FormatArg = PyValue | { readonly type: 'ndarray'; readonly array: NdArray };

type Obj = FormatArg | { readonly type: 'str'; readonly value: string };

const valueError = (m: string) => new PyFormatError('ValueError', m);
const isDecimal = (ch: string) => /^\p{Nd}$/u.test(ch);
const SSIZE_MAX = 9223372036854775807n;

/** A field-name part that is a non-negative decimal (any Unicode Nd digits), or null. */
function fieldInteger(s: string): bigint | null {
  if (!s) return null;
  let acc = 0n;
  for (const ch of s) {
    if (!isDecimal(ch)) return null;
    let cp = ch.codePointAt(0)!;
    let digit = 0;
    while (isDecimal(String.fromCodePoint(cp - 1))) cp--, digit++; // Nd digits come in aligned runs of ten
    acc = acc * 10n + BigInt(digit % 10);
    if (acc > SSIZE_MAX) throw valueError('Too many decimal digits in format string');
  }
  return acc;
}

const typeName = (o: Obj) => (o.type === 'ndarray' ? 'numpy.ndarray' : o.type);

function strOf(o: Obj): string {
  switch (o.type) {
    case 'str':
      return o.value;
    case 'float':
      return pyFloatRepr(o.value);
    case 'int':
      return String(o.value);
    case 'ndarray':
      return numpyStr(o.array);
  }
}

function reprOf(o: Obj): string {
  if (o.type === 'str') return pyStrRepr(o.value);
  if (o.type === 'ndarray') throw new Error('not supported: repr() of a NumPy array in a ModelCheckpoint filepath ({name!r})');
  return strOf(o);
}

interface Ctx {
  readonly kwargs: ReadonlyMap<string, FormatArg>;
  auto: 'init' | 'auto' | 'manual';
}

/** get_field_object + the attribute/index chain of one field name. */
function lookup(name: string, ctx: Ctx): Obj {
  let i = 0;
  while (i < name.length && name[i] !== '.' && name[i] !== '[') i++;
  const first = name.slice(0, i);
  const index = fieldInteger(first);
  let o: Obj;
  if (first === '' || index !== null) {
    // positional: Keras passes none, so any index is out of range (after the numbering-mode check)
    if (first === '') {
      if (ctx.auto === 'manual') throw valueError('cannot switch from manual field specification to automatic field numbering');
      ctx.auto = 'auto';
    } else {
      if (ctx.auto === 'auto') throw valueError('cannot switch from automatic field numbering to manual field specification');
      ctx.auto = 'manual';
    }
    throw new PyFormatError('IndexError', `Replacement index ${first === '' ? 0 : index} out of range for positional args tuple`);
  }
  const v = ctx.kwargs.get(first);
  if (v === undefined) throw new PyFormatError('KeyError', pyStrRepr(first));
  o = v;
  while (i < name.length) {
    const c = name[i++];
    const start = i;
    if (c === '.') {
      while (i < name.length && name[i] !== '.' && name[i] !== '[') i++;
      const attr = name.slice(start, i);
      if (!attr) throw valueError('Empty attribute in format string');
      // Attributes of numbers (.real, .imag) are not modelled: Python's message for a missing one.
      throw new PyFormatError('AttributeError', `'${typeName(o)}' object has no attribute '${attr}'`);
    } else if (c === '[') {
      while (i < name.length && name[i] !== ']') i++;
      if (i >= name.length) throw valueError("Missing ']' in format string");
      const key = name.slice(start, i++);
      if (!key) throw valueError('Empty attribute in format string');
      fieldInteger(key); // may raise 'Too many decimal digits'
      if (o.type === 'ndarray') throw new Error('not supported: indexing a NumPy array in a ModelCheckpoint filepath');
      throw new PyFormatError('TypeError', `'${typeName(o)}' object is not subscriptable`);
    } else {
      throw valueError("Only '.' or '[' may follow ']' in format field specifier");
    }
  }
  return o;
}

/** The !r / !s / !a conversion, applied before the spec is expanded (as CPython does). */
function convert(o: Obj, conversion: string | null): Obj {
  if (conversion === null) return o;
  if (conversion === 'r') return { type: 'str', value: reprOf(o) };
  if (conversion === 's') return { type: 'str', value: strOf(o) };
  if (conversion === 'a') return { type: 'str', value: reprOf(o).replace(/[^\0-\x7f]/gu, asciiEscape) };
  const cp = conversion.codePointAt(0)!;
  throw valueError(`Unknown conversion specifier ${cp > 32 && cp < 127 ? conversion : '\\x' + cp.toString(16)}`);
}

function render(o: Obj, spec: string): string {
  switch (o.type) {
    case 'str':
      return formatString(o.value, spec);
    case 'ndarray':
      if (spec) throw new PyFormatError('TypeError', 'unsupported format string passed to numpy.ndarray.__format__');
      return numpyStr(o.array);
    default:
      return formatValue(o, spec);
  }
}

function asciiEscape(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const [tag, width] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8];
  return '\\' + tag + cp.toString(16).padStart(width, '0');
}

/** One field, from just after its '{': the text it renders to and where parsing resumes. */
function field(str: string, pos: number, depth: number, ctx: Ctx): [string, number] {
  let i = pos;
  let c = '';
  while (i < str.length) {
    c = str[i++]!;
    if (c === '{') throw valueError("unexpected '{' in field name");
    if (c === '[') {
      while (i < str.length && str[i] !== ']') i++; // brackets may hold ':', '!' and '}'
      continue;
    }
    if (c === '}' || c === ':' || c === '!') break;
  }
  const name = str.slice(pos, i - 1);
  let conversion: string | null = null;
  if (c === '!') {
    if (i >= str.length) throw valueError('end of string while looking for conversion specifier');
    conversion = String.fromCodePoint(str.codePointAt(i)!);
    i += conversion.length;
    if (i < str.length) {
      const next = str[i++];
      if (next === '}') return [render(convert(lookup(name, ctx), conversion), ''), i];
      if (next !== ':') throw valueError("expected ':' after conversion specifier");
    }
  } else if (c !== ':') {
    if (c !== '}') throw valueError("expected '}' before end of string");
    return [render(lookup(name, ctx), ''), i];
  }
  const specStart = i;
  let count = 1;
  let nested = false;
  while (i < str.length) {
    const ch = str[i++];
    if (ch === '{') {
      nested = true;
      count++;
    } else if (ch === '}' && --count === 0) {
      const o = convert(lookup(name, ctx), conversion); // looked up and converted before its spec is expanded
      const raw = str.slice(specStart, i - 1);
      return [render(o, nested ? build(raw, depth - 1, ctx) : raw), i];
    }
  }
  throw valueError("unmatched '{' in format spec");
}

/** build_string: literal text, '{{' / '}}' escapes and fields; str.format allows one nested level. */
function build(str: string, depth: number, ctx: Ctx): string {
  if (depth <= 0) throw valueError('Max string recursion exceeded');
  let out = '';
  let i = 0;
  while (i < str.length) {
    const start = i;
    let c = '';
    let markup = false;
    while (i < str.length) {
      c = str[i++]!;
      if (c === '{' || c === '}') {
        markup = true;
        break;
      }
    }
    const atEnd = i >= str.length;
    if (c === '}' && markup && (atEnd || str[i] !== '}')) throw valueError("Single '}' encountered in format string");
    if (c === '{' && markup && atEnd) throw valueError("Single '{' encountered in format string");
    let literalEnd = i;
    if (markup && str[i] === c) {
      i++; // an escaped brace: keep one, no field follows
      markup = false;
    } else if (markup) literalEnd--;
    out += str.slice(start, literalEnd);
    if (!markup) continue;
    const [text, next] = field(str, i, depth, ctx);
    out += text;
    i = next;
  }
  return out;
}

/** `template.format(**kwargs)`. Throws PyFormatError carrying Python's exception class and str(). */
export function pyFormatKwargs(template: string, kwargs: ReadonlyMap<string, FormatArg>): string {
  return build(template, 2, { kwargs, auto: 'init' });
}
