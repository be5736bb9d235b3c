/**
 * Lightning 2.6's ModelCheckpoint file names: `_format_checkpoint_name` rewrites '{name:spec}' into
 * 'name={0[name]:spec}' with plain str.replace calls, then runs Python's str.format(metrics) on it.
 * Both steps are reproduced literally (quirks included); str.format follows Objects/stringlib/unicode_format.h.
 */
import { PyFormatError, formatString, formatValue, pyFloatRepr, pyStrRepr, type PyValue } from './pyformat.ts';

export interface NameOptions {
  readonly joinChar: string;
  readonly equalsChar: string;
  readonly autoInsertMetricName: boolean;
  readonly extension: string;
}

/** A compiled template: metrics (and an optional version number) to the checkpoint file name. */
export type CompiledTemplate = (metrics: ReadonlyMap<string, PyValue>, ver?: number) => string;

const valueError = (message: string) => new PyFormatError('ValueError', message);

// ---------------------------------------------------------------------------------------------
// Step 1: Lightning's string rewriting

/** The regex groups ('{name'), in the order Lightning processes them. */
function templateGroups(filename: string): string[] {
  // Python's '.' excludes only '\n' (JS's also excludes '\r', '\u2028', '\u2029').
  const groups = Array.from(filename.matchAll(/(\{[^\n]*?)[:}]/g), (m) => m[1]!);
  const len = (s: string) => Array.from(s).length; // Python's len counts code points
  return groups.sort((a, b) => len(b) - len(a)); // stable, like Python's sorted(reverse=True)
}

function rewrite(template: string | null | undefined, opts: NameOptions): { format: string; names: string[] } {
  const filename = template ? template : '{epoch}' + opts.joinChar + '{step}';
  const names: string[] = [];
  let out = filename;
  for (const group of templateGroups(filename)) {
    const name = group.slice(1);
    // split/join is str.replace: every non-overlapping occurrence, no '$' patterns
    if (opts.autoInsertMetricName) out = out.split(group).join(name + opts.equalsChar + '{' + name);
    out = out.split(group).join('{0[' + name + ']');
    names.push(name);
  }
  return { format: out, names };
}

/** The metric names a template refers to (the `name` values above, in the order Lightning processes them), deduplicated. */
export function templateKeys(template: string | null | undefined): string[] {
  const filename = template ? template : '{epoch}-{step}'; // the join char cannot create names
  return [...new Set(templateGroups(filename).map((g) => g.slice(1)))];
}

// ---------------------------------------------------------------------------------------------
// Step 2: str.format, compiled once into ops. Python parses lazily, so a syntax error is raised only
// when formatting reaches it (after earlier fields were looked up): errors are ops, in place.

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
      return [{ ...compileFieldName(name), conversion, spec, nested: expand ? compileFormat(spec, depth - 1) : null }, i];
    }
  }
  return [valueError("unmatched '{' in format spec"), i];
}

/** MarkupIterator: literal text, '{{' / '}}' escapes and fields. depth: str.format allows one nested level. */
function compileFormat(str: string, depth: number): Op[] {
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
// Evaluation: str.format(metrics), where the one positional argument is the metrics dict.

type Obj = { readonly dict: true } | PyValue | { readonly str: string };

interface Ctx {
  readonly metrics: ReadonlyMap<string, PyValue>;
  readonly defaults: readonly string[]; // names Lightning sets to tensor(0) when missing, in order
  autoState: 'init' | 'auto' | 'manual';
  autoNext: number;
}

const INT_ZERO: PyValue = { type: 'int', value: 0 };

const typeName = (o: Obj) => ('dict' in o ? 'dict' : 'str' in o ? 'str' : o.type);

function dictItems(ctx: Ctx): [string, PyValue][] {
  const items = [...ctx.metrics];
  for (const name of ctx.defaults) if (!ctx.metrics.has(name)) items.push([name, INT_ZERO]);
  return items;
}

function reprOf(o: Obj, ctx: Ctx): string {
  if ('str' in o) return pyStrRepr(o.str);
  if ('dict' in o) return '{' + dictItems(ctx).map(([k, v]) => `${pyStrRepr(k)}: ${reprOf(v, ctx)}`).join(', ') + '}';
  return o.type === 'float' ? pyFloatRepr(o.value) : String(o.value);
}

/** ascii(): repr with non-ASCII characters backslash-escaped. */
const asciiOf = (s: string) =>
  s.replace(/[^\0-\x7f]/gu, (ch) => {
    const cp = ch.codePointAt(0)!;
    const [tag, width] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8];
    return '\\' + tag + cp.toString(16).padStart(width, '0');
  });

function lookupFirst(first: First | PyFormatError, ctx: Ctx): Obj {
  if (first instanceof PyFormatError) throw first;
  if ('keyword' in first) throw new PyFormatError('KeyError', pyStrRepr(first.keyword)); // no keyword arguments
  let index: bigint;
  if ('auto' in first) {
    if (ctx.autoState === 'manual') throw valueError('cannot switch from manual field specification to automatic field numbering');
    ctx.autoState = 'auto';
    index = BigInt(ctx.autoNext++);
  } else {
    if (ctx.autoState === 'auto') throw valueError('cannot switch from automatic field numbering to manual field specification');
    ctx.autoState = 'manual';
    index = first.index;
  }
  if (index !== 0n) throw new PyFormatError('IndexError', `Replacement index ${index} out of range for positional args tuple`);
  return { dict: true };
}

function applyStep(o: Obj, step: Step, ctx: Ctx): Obj {
  if (step instanceof PyFormatError) throw step;
  // Attributes of the dict or of a number are not modelled: report them as missing, like Python does for most names.
  if ('attr' in step) throw new PyFormatError('AttributeError', `'${typeName(o)}' object has no attribute '${step.attr}'`);
  if (!('dict' in o)) throw new PyFormatError('TypeError', `'${typeName(o)}' object is not subscriptable`);
  if ('index' in step) throw new PyFormatError('KeyError', String(step.index)); // dict[int]: metric keys are str
  const v = ctx.metrics.get(step.key) ?? (ctx.defaults.includes(step.key) ? INT_ZERO : undefined);
  if (!v) throw new PyFormatError('KeyError', pyStrRepr(step.key));
  return v;
}

function renderField(f: Field, ctx: Ctx): string {
  let o = lookupFirst(f.first, ctx);
  for (const step of f.steps) o = applyStep(o, step, ctx);
  if (f.conversion !== null) {
    const c = f.conversion;
    if (c === 'r' || c === 's') o = { str: reprOf(o, ctx) }; // str() == repr() for these types
    else if (c === 'a') o = { str: asciiOf(reprOf(o, ctx)) };
    else {
      const cp = c.codePointAt(0)!;
      throw valueError(`Unknown conversion specifier ${cp > 32 && cp < 127 ? c : '\\x' + cp.toString(16)}`);
    }
  }
  const spec = f.nested ? run(f.nested, ctx) : f.spec;
  if ('str' in o) return formatString(o.str, spec);
  if ('dict' in o) {
    if (spec) throw new PyFormatError('TypeError', 'unsupported format string passed to dict.__format__');
    return reprOf(o, ctx);
  }
  return formatValue(o, spec);
}

function run(ops: readonly Op[], ctx: Ctx): string {
  let out = '';
  for (const op of ops) {
    if (typeof op === 'string') out += op;
    else if (op instanceof PyFormatError) throw op;
    else out += renderField(op, ctx);
  }
  return out;
}

/** Python's `fmt.format(metrics)` (metrics as the one positional argument); `defaults` read as int 0 when missing. */
export function pyFormatMetrics(fmt: string, metrics: ReadonlyMap<string, PyValue>, defaults: readonly string[] = []): string {
  return run(compileFormat(fmt, 2), { metrics, defaults, autoState: 'init', autoNext: 0 });
}

// ---------------------------------------------------------------------------------------------
// Public API

/** Precompiles a template: Lightning's _format_checkpoint_name + the ver/extension part of format_checkpoint_name. */
export function compileTemplate(template: string | null | undefined, opts: NameOptions): CompiledTemplate {
  const { format, names } = rewrite(template, opts);
  const ops = compileFormat(format, 2);
  const defaults = [...new Set(names)];
  const { joinChar, extension } = opts;
  return (metrics, ver) => {
    let name = run(ops, { metrics, defaults, autoState: 'init', autoNext: 0 });
    if (ver !== undefined && ver !== null) name += joinChar + 'v' + String(ver);
    return name + extension;
  };
}

const cache = new Map<string, CompiledTemplate>();
let last: { template: string | null | undefined; opts: NameOptions; compiled: CompiledTemplate } | null = null;

/**
 * Lightning's _format_checkpoint_name + the ver/extension part of format_checkpoint_name, WITHOUT the dirpath join.
 * metrics is read-only (do not mutate; missing keys read as int 0). Throws PyFormatError.
 */
export function formatCheckpointName(
  template: string | null | undefined,
  metrics: ReadonlyMap<string, PyValue>,
  opts: NameOptions,
  ver?: number,
): string {
  if (last && last.template === template && last.opts === opts) return last.compiled(metrics, ver); // the usual repeat call
  const { joinChar: j, equalsChar: e, extension: x } = opts;
  // Length-prefixed so keys cannot collide; null, undefined and '' all mean the default template.
  const key = `${opts.autoInsertMetricName}${j.length}:${j}${e.length}:${e}${x.length}:${x}${template ?? ''}`;
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = compileTemplate(template, opts);
    if (cache.size >= 64) cache.clear();
    cache.set(key, compiled);
  }
  last = { template, opts, compiled };
  return compiled(metrics, ver);
}
