/**
 * Lightning 2.6's ModelCheckpoint file names: `_format_checkpoint_name` rewrites '{name:spec}' into
 * 'name={0[name]:spec}' with plain str.replace calls, then runs Python's str.format(metrics) on it.
 * Both steps are reproduced literally (quirks included); str.format follows Objects/stringlib/unicode_format.h.
 */
import { PyFormatError, formatValue, pyFloatRepr, pyStrRepr, type PyValue } from './pyformat.ts';
import { compileFormat, formatCompiled, type FormatArgs } from './strformat.ts';

export interface NameOptions {
  readonly joinChar: string;
  readonly equalsChar: string;
  readonly autoInsertMetricName: boolean;
  readonly extension: string;
}

/** A compiled template: metrics (and an optional version number) to the checkpoint file name. */
export type CompiledTemplate = (metrics: ReadonlyMap<string, PyValue>, ver?: number) => string;

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
// Step 2: str.format(metrics) (strformat.ts), where the one positional argument is the metrics dict.

type Obj = { readonly dict: true } | PyValue;

const DICT: Obj = { dict: true };
const INT_ZERO: PyValue = { type: 'int', value: 0 };

const typeName = (o: Obj) => ('dict' in o ? 'dict' : o.type);

/** The metrics dict and its values; `defaults` are names Lightning sets to tensor(0) when missing, in order. */
class MetricsArgs implements FormatArgs<Obj> {
  constructor(
    readonly metrics: ReadonlyMap<string, PyValue>,
    readonly defaults: readonly string[],
  ) {}
  positional(index: bigint): Obj {
    if (index !== 0n) throw new PyFormatError('IndexError', `Replacement index ${index} out of range for positional args tuple`);
    return DICT;
  }
  keyword(name: string): Obj {
    throw new PyFormatError('KeyError', pyStrRepr(name)); // no keyword arguments
  }
  attribute(o: Obj, name: string): Obj {
    // Attributes of the dict or of a number are not modelled: report them as missing, like Python does for most names.
    throw new PyFormatError('AttributeError', `'${typeName(o)}' object has no attribute '${name}'`);
  }
  item(o: Obj, key: string | bigint): Obj {
    if (!('dict' in o)) throw new PyFormatError('TypeError', `'${typeName(o)}' object is not subscriptable`);
    if (typeof key === 'bigint') throw new PyFormatError('KeyError', String(key)); // dict[int]: metric keys are str
    const v = this.metrics.get(key) ?? (this.defaults.includes(key) ? INT_ZERO : undefined);
    if (!v) throw new PyFormatError('KeyError', pyStrRepr(key));
    return v;
  }
  str(o: Obj): string {
    return this.repr(o); // str() == repr() for a dict, an int and a float
  }
  repr(o: Obj): string {
    if ('dict' in o) return '{' + this.items().map(([k, v]) => `${pyStrRepr(k)}: ${this.repr(v)}`).join(', ') + '}';
    return o.type === 'float' ? pyFloatRepr(o.value) : String(o.value);
  }
  format(o: Obj, spec: string): string {
    if (!('dict' in o)) return formatValue(o, spec);
    if (spec) throw new PyFormatError('TypeError', 'unsupported format string passed to dict.__format__');
    return this.repr(o);
  }
  private items(): [string, PyValue][] {
    const items = [...this.metrics];
    for (const name of this.defaults) if (!this.metrics.has(name)) items.push([name, INT_ZERO]);
    return items;
  }
}

/** Python's `fmt.format(metrics)` (metrics as the one positional argument); `defaults` read as int 0 when missing. */
export function pyFormatMetrics(fmt: string, metrics: ReadonlyMap<string, PyValue>, defaults: readonly string[] = []): string {
  return formatCompiled(compileFormat(fmt), new MetricsArgs(metrics, defaults));
}

// ---------------------------------------------------------------------------------------------
// Public API

/** Precompiles a template: Lightning's _format_checkpoint_name + the ver/extension part of format_checkpoint_name. */
export function compileTemplate(template: string | null | undefined, opts: NameOptions): CompiledTemplate {
  const { format, names } = rewrite(template, opts);
  const compiled = compileFormat(format);
  const defaults = [...new Set(names)];
  const { joinChar, extension } = opts;
  return (metrics, ver) => {
    let name = formatCompiled(compiled, new MetricsArgs(metrics, defaults));
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
