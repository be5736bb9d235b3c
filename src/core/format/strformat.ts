/**
 * Python's `str.format` (CPython 3.11, Objects/stringlib/unicode_format.h), one parser for every
 * caller: Lightning's `fmt.format(metrics)` (template.ts) and Keras's `filepath.format(**kwargs)`
 * (src/dialects/keras/strformat.ts). A format string is compiled once into ops; the objects it
 * formats are the caller's, reached through a `FormatArgs` (positional and keyword lookup,
 * attributes, items, str/repr, __format__). Python parses lazily, so a syntax error is raised only
 * when formatting reaches it, after the fields before it were looked up: errors are ops, in place.
 */
import { PyFormatError, formatString } from './pyformat.ts';

const valueError = (message: string) => new PyFormatError('ValueError', message);


type First = { readonly auto: true } | { readonly index: bigint } | { readonly keyword: string };
type Step = { readonly attr: string } | { readonly key: string } | { readonly index: bigint } | PyFormatError;

interface Field {
  readonly first: First | PyFormatError;
  readonly steps: readonly Step[]; // a PyFormatError step ends the list
  readonly conversion: string | null;
  readonly spec: string;
  readonly nested: readonly Op[] | null; // the spec holds replacement fields of its own
}

type Op = string | Field | PyFormatError;

const isDecimal = (ch: string) => /^\p{Nd}$/u.test(ch);
const SSIZE_MAX = 9223372036854775807n;

/** CPython's get_integer for field names: a non-negative decimal, or null if it is not one. */
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

function compileFieldName(name: string): Pick<Field, 'first' | 'steps'> {
  let i = 0;
  while (i < name.length && name[i] !== '.' && name[i] !== '[') i++;
  const firstText = name.slice(0, i);
  let first: First | PyFormatError;
  try {
    const n = fieldInteger(firstText);
    first = firstText === '' ? { auto: true } : n !== null ? { index: n } : { keyword: firstText };
  } catch (e) {
    return { first: e as PyFormatError, steps: [] };
  }
  const steps: Step[] = [];
  while (i < name.length) {
    const c = name[i++];
    const start = i;
    if (c === '.') {
      while (i < name.length && name[i] !== '.' && name[i] !== '[') i++;
      const attr = name.slice(start, i);
      steps.push(attr ? { attr } : valueError('Empty attribute in format string'));
    } else if (c === '[') {
      while (i < name.length && name[i] !== ']') i++;
      if (i >= name.length) {
        steps.push(valueError("Missing ']' in format string"));
        break;
      }
      const key = name.slice(start, i++);
      try {
        const index = fieldInteger(key); // '[3]' indexes with the int 3
        steps.push(!key ? valueError('Empty attribute in format string') : index !== null ? { index } : { key });
      } catch (e) {
        steps.push(e as PyFormatError);
      }
    } else {
      steps.push(valueError("Only '.' or '[' may follow ']' in format field specifier"));
    }
    if (steps[steps.length - 1] instanceof PyFormatError) break;
  }
  return { first, steps };
}

/** parse_field, from just after the opening '{': the field (or a syntax error) and where parsing resumes. */
function compileField(str: string, pos: number, depth: number): [Field | PyFormatError, number] {
  let i = pos;
  let c = '';
  while (i < str.length) {
    c = str[i++]!;
    if (c === '{') return [valueError("unexpected '{' in field name"), i];
    if (c === '[') {
      while (i < str.length && str[i] !== ']') i++; // brackets may hold ':', '!' and '}'
      continue;
    }
    if (c === '}' || c === ':' || c === '!') break;
  }
  const name = str.slice(pos, i - 1);
  let conversion: string | null = null;
  if (c === '!') {
    if (i >= str.length) return [valueError('end of string while looking for conversion specifier'), i];
    conversion = String.fromCodePoint(str.codePointAt(i)!);
    i += conversion.length;
    if (i < str.length) {
      const next = str[i++];
      if (next === '}') return [{ ...compileFieldName(name), conversion, spec: '', nested: null }, i];
      if (next !== ':') return [valueError("expected ':' after conversion specifier"), i];
    }
  } else if (c !== ':') {
    if (c !== '}') return [valueError("expected '}' before end of string"), i];
    return [{ ...compileFieldName(name), conversion, spec: '', nested: null }, i];
  }
  // A format spec, up to the matching '}'; nested '{...}' are replacement fields expanded first.
  const specStart = i;
  let count = 1;
  let expand = false;
  while (i < str.length) {
    const ch = str[i++];
    if (ch === '{') {
      expand = true;
      count++;
    } else if (ch === '}' && --count === 0) {
      const spec = str.slice(specStart, i - 1);
      return [{ ...compileFieldName(name), conversion, spec, nested: expand ? compileOps(spec, depth - 1) : null }, i];
    }
  }
  return [valueError("unmatched '{' in format spec"), i];
}

/** MarkupIterator: literal text, '{{' / '}}' escapes and fields. depth: str.format allows one nested level. */
function compileOps(str: string, depth: number): Op[] {
  if (depth <= 0) return [valueError('Max string recursion exceeded')];
  const ops: Op[] = [];
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
    if (c === '}' && markup && (atEnd || str[i] !== '}')) return [...ops, valueError("Single '}' encountered in format string")];
    if (c === '{' && markup && atEnd) return [...ops, valueError("Single '{' encountered in format string")];
    let literalEnd = i;
    if (markup && str[i] === c) {
      i++; // escaped brace: keep one, no field follows
      markup = false;
    } else if (markup) literalEnd--;
    if (literalEnd > start) ops.push(str.slice(start, literalEnd));
    if (!markup) continue;
    const [field, next] = compileField(str, i, depth);
    ops.push(field);
    if (field instanceof PyFormatError) return ops;
    i = next;
  }
  return ops;
}

// ---------------------------------------------------------------------------------------------
// Evaluation: the caller's objects

/**
 * What `fmt.format(*args, **kwargs)` reaches, as the caller models its objects `O`. Each method
 * returns the object or throws the PyFormatError Python would raise (IndexError, KeyError,
 * AttributeError, TypeError, ...).
 */
export interface FormatArgs<O> {
  /** args[index] */
  positional(index: bigint): O;
  /** kwargs[name] */
  keyword(name: string): O;
  /** getattr(o, name), for `{x.name}` */
  attribute(o: O, name: string): O;
  /** o[key], for `{x[key]}`: an int when the text is a decimal, else a str */
  item(o: O, key: string | bigint): O;
  /** str(o), for `!s` */
  str(o: O): string;
  /** repr(o), for `!r` and `!a` */
  repr(o: O): string;
  /** format(o, spec) */
  format(o: O, spec: string): string;
}

/** A compiled format string (opaque): `formatCompiled` runs it. */
export interface CompiledFormat {
  readonly ops: readonly Op[];
}

/** Compiles `fmt` for str.format (one nested level of replacement fields in a spec, as Python allows). */
export function compileFormat(fmt: string): CompiledFormat {
  return { ops: compileOps(fmt, 2) };
}

interface Numbering {
  state: 'init' | 'auto' | 'manual';
  next: number;
}

/** ascii(): repr with non-ASCII characters backslash-escaped. */
const asciiOf = (s: string) =>
  s.replace(/[^\0-\x7f]/gu, (ch) => {
    const cp = ch.codePointAt(0)!;
    const [tag, width] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8];
    return '\\' + tag + cp.toString(16).padStart(width, '0');
  });

function lookupFirst<O>(first: First | PyFormatError, args: FormatArgs<O>, n: Numbering): O {
  if (first instanceof PyFormatError) throw first;
  if ('keyword' in first) return args.keyword(first.keyword);
  if ('auto' in first) {
    if (n.state === 'manual') throw valueError('cannot switch from manual field specification to automatic field numbering');
    n.state = 'auto';
    return args.positional(BigInt(n.next++));
  }
  if (n.state === 'auto') throw valueError('cannot switch from automatic field numbering to manual field specification');
  n.state = 'manual';
  return args.positional(first.index);
}

function renderField<O>(f: Field, args: FormatArgs<O>, n: Numbering): string {
  let o = lookupFirst(f.first, args, n);
  for (const step of f.steps) {
    if (step instanceof PyFormatError) throw step;
    o = 'attr' in step ? args.attribute(o, step.attr) : args.item(o, 'key' in step ? step.key : step.index);
  }
  // the conversion comes before a nested spec is expanded, as in CPython
  let converted: string | null = null;
  if (f.conversion !== null) {
    const c = f.conversion;
    if (c === 's') converted = args.str(o);
    else if (c === 'r') converted = args.repr(o);
    else if (c === 'a') converted = asciiOf(args.repr(o));
    else {
      const cp = c.codePointAt(0)!;
      throw valueError(`Unknown conversion specifier ${cp > 32 && cp < 127 ? c : '\\x' + cp.toString(16)}`);
    }
  }
  const spec = f.nested ? run(f.nested, args, n) : f.spec;
  return converted !== null ? formatString(converted, spec) : args.format(o, spec);
}

function run<O>(ops: readonly Op[], args: FormatArgs<O>, n: Numbering): string {
  let out = '';
  for (const op of ops) {
    if (typeof op === 'string') out += op;
    else if (op instanceof PyFormatError) throw op;
    else out += renderField(op, args, n);
  }
  return out;
}

/** Runs a compiled format string on the caller's arguments. Throws PyFormatError carrying Python's exception class and str(). */
export function formatCompiled<O>(compiled: CompiledFormat, args: FormatArgs<O>): string {
  return run(compiled.ops, args, { state: 'init', next: 0 });
}

/** `fmt.format(...)` in one call (compiles each time; keep a CompiledFormat for repeated use). */
export function pyStrFormat<O>(fmt: string, args: FormatArgs<O>): string {
  return formatCompiled(compileFormat(fmt), args);
}
