/**
 * Python 3.11's format(value, spec) for int and float, plus the repr() helpers Lightning's messages use.
 * Mirrors CPython's Python/formatter_unicode.c (spec parsing, padding, grouping) and Python/pystrtod.c
 * (format_float_short); digits are correctly rounded on the exact binary value, ties to even, like dtoa.
 */

/** A value as Python sees it: Lightning's metric tensors format as Python float (double) or int. */
export type PyValue =
  | { readonly type: 'int'; readonly value: number } // a Python int (safe-integer range is enough)
  | { readonly type: 'float'; readonly value: number }; // a Python float (IEEE double), may be NaN/±Infinity/-0

/** The Python exception classes formatting can raise (OverflowError: format(-1, 'c'); AttributeError: '{0.x}'). */
export type PyErrorType = 'ValueError' | 'KeyError' | 'IndexError' | 'TypeError' | 'AttributeError' | 'OverflowError';

/** A Python exception raised while formatting, as a value: pyType is the Python class name, message is str(exc). */
export class PyFormatError extends Error {
  constructor(
    readonly pyType: PyErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'PyFormatError';
  }
}

const valueError = (message: string) => new PyFormatError('ValueError', message);

// ---------------------------------------------------------------------------------------------
// Format-spec parsing: [[fill]align][sign][z][#][0][width][grouping][.precision][type]

type ObjType = 'int' | 'float' | 'str';

interface Spec {
  readonly fill: string;
  readonly align: string; // resolved: '<' '>' '^' '='
  readonly sign: string; // '' '+' '-' ' '
  readonly noNeg0: boolean;
  readonly alt: boolean;
  readonly width: number; // -1: none
  readonly grouping: '' | ',' | '_';
  readonly precision: number; // -1: none
  readonly type: string; // '' only for float (no type given)
}

const PY_SSIZE_T_MAX = 9223372036854775807n;

/** Py_UNICODE_TODECIMAL: any Unicode Nd digit counts; Nd digits come in aligned runs of ten. */
function decimalValue(ch: string | undefined): number {
  if (ch === undefined) return -1;
  if (ch >= '0' && ch <= '9') return ch.charCodeAt(0) - 48;
  if (!/^\p{Nd}$/u.test(ch)) return -1;
  let cp = ch.codePointAt(0)!;
  let run = 0;
  while (/^\p{Nd}$/u.test(String.fromCodePoint(cp - 1))) cp--, run++;
  return run % 10;
}

/** CPython's get_integer: [value, digits consumed]; overflow past Py_ssize_t is a ValueError. */
function readInteger(cps: readonly string[], pos: number): [number, number] {
  let acc = 0n;
  let i = pos;
  for (let d; (d = decimalValue(cps[i])) >= 0; i++) {
    acc = acc * 10n + BigInt(d);
    if (acc > PY_SSIZE_T_MAX) throw valueError('Too many decimal digits in format string');
  }
  return [Number(acc), i - pos];
}

/** How CPython shows a presentation type in messages: the char if printable ASCII, else \x.. */
function codeRepr(ch: string): string {
  const cp = ch.codePointAt(0)!;
  return cp > 32 && cp < 128 ? ch : '\\x' + cp.toString(16);
}

const unknownCode = (type: string, obj: ObjType) =>
  valueError(`Unknown format code '${codeRepr(type)}' for object of type '${obj}'`);

const isAlign = (c: string | undefined) => c === '<' || c === '>' || c === '=' || c === '^';

function parseSpec(spec: string, obj: ObjType): Spec {
  const cps = Array.from(spec); // Python indexes code points
  const end = cps.length;
  const defaultAlign = obj === 'str' ? '<' : '>';
  let pos = 0;
  let fill = ' ';
  let align = defaultAlign;
  let fillGiven = false;
  let alignGiven = false;
  if (end >= 2 && isAlign(cps[1])) {
    [fill, align] = [cps[0]!, cps[1]!];
    fillGiven = alignGiven = true;
    pos = 2;
  } else if (end >= 1 && isAlign(cps[0])) {
    align = cps[0]!;
    alignGiven = true;
    pos = 1;
  }
  let sign = '';
  if (cps[pos] === '+' || cps[pos] === '-' || cps[pos] === ' ') sign = cps[pos++]!;
  const noNeg0 = cps[pos] === 'z';
  if (noNeg0) pos++;
  const alt = cps[pos] === '#';
  if (alt) pos++;
  // A leading '0' means zero padding after the sign, unless a fill char was given explicitly.
  if (!fillGiven && cps[pos] === '0') {
    fill = '0';
    if (!alignGiven && defaultAlign === '>') align = '=';
    pos++;
  }
  const [w, wDigits] = readInteger(cps, pos);
  pos += wDigits;
  const width = wDigits ? w : -1;
  let grouping: '' | ',' | '_' = '';
  if (cps[pos] === ',') {
    grouping = ',';
    pos++;
  }
  if (cps[pos] === '_') {
    if (grouping) throw valueError("Cannot specify both ',' and '_'.");
    grouping = '_';
    pos++;
  }
  if (cps[pos] === ',' && grouping === '_') throw valueError("Cannot specify both ',' and '_'.");
  let precision = -1;
  if (cps[pos] === '.') {
    const [p, pDigits] = readInteger(cps, ++pos);
    if (!pDigits) throw valueError('Format specifier missing precision');
    precision = p;
    pos += pDigits;
  }
  if (end - pos > 1) throw valueError(`Invalid format specifier '${spec}' for object of type '${obj}'`);
  const type = end - pos === 1 ? cps[pos]! : obj === 'int' ? 'd' : obj === 'str' ? 's' : '';
  if (grouping && !'defgEG%F'.includes(type) && !(grouping === '_' && 'boxX'.includes(type))) {
    throw valueError(`Cannot specify '${grouping}' with '${codeRepr(type)}'.`);
  }
  return { fill, align, sign, noNeg0, alt, width, grouping, precision, type };
}

// Specs repeat endlessly on the hot path (one per checkpoint name), so parse each once.
const specCache = new Map<string, Spec>();
function cachedSpec(spec: string, obj: ObjType): Spec {
  const key = obj + '\0' + spec;
  let parsed = specCache.get(key);
  if (!parsed) {
    parsed = parseSpec(spec, obj);
    if (specCache.size >= 512) specCache.clear();
    specCache.set(key, parsed);
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Padding and digit grouping (calc_number_widths / fill_number / _PyUnicode_InsertThousandsGrouping)

/** Groups `digits` from the right; with '0'-fill and '=' alignment the zero padding is grouped too. */
function groupDigits(digits: string, minWidth: number, size: number, sep: string): string {
  let out = '';
  let remaining = digits.length;
  let min = Math.max(0, minWidth);
  for (let first = true; ; first = false) {
    // Without grouping there is one chunk: all digits, zero-padded to the minimum width.
    const len = size > 0 ? Math.min(size, Math.max(remaining, min, 1)) : Math.max(remaining, min, 1);
    const chars = Math.max(0, Math.min(remaining, len));
    const chunk = '0'.repeat(Math.max(0, len - remaining)) + digits.slice(remaining - chars, remaining);
    out = first ? chunk : chunk + sep + out;
    remaining -= chars;
    min -= len;
    if (size <= 0 || (remaining <= 0 && min <= 0)) return out;
    min -= sep.length;
  }
}

/** Lays out <lpad><sign><prefix><spad><grouped digits><.><remainder><rpad> like CPython. */
function layoutNumber(
  s: Spec,
  negative: boolean,
  prefix: string,
  digits: string,
  hasDecimal: boolean,
  remainder: string,
  remainderLen: number,
  groupSize: number,
): string {
  const sign = s.sign === '+' ? (negative ? '-' : '+') : s.sign === ' ' ? (negative ? '-' : ' ') : negative ? '-' : '';
  const fixed = sign.length + prefix.length + (hasDecimal ? 1 : 0) + remainderLen;
  const minWidth = s.fill === '0' && s.align === '=' ? s.width - fixed : 0;
  const grouped = digits ? groupDigits(digits, minWidth, groupSize, groupSize ? s.grouping : '') : '';
  const pad = s.width - fixed - grouped.length;
  let [l, m, r] = [0, 0, 0];
  if (pad > 0) {
    if (s.align === '<') r = pad;
    else if (s.align === '^') {
      l = pad >> 1;
      r = pad - l;
    }
    else if (s.align === '=') m = pad;
    else l = pad;
  }
  const f = s.fill;
  return f.repeat(l) + sign + prefix + f.repeat(m) + grouped + (hasDecimal ? '.' : '') + remainder + f.repeat(r);
}

// ---------------------------------------------------------------------------------------------
// Exact decimal digits of a double (the three _Py_dg_dtoa modes Python uses)

/** dtoa's result: value = 0.DIGITS × 10^decpt, no trailing zeros; '' means "rounded to zero". */
interface Digits {
  readonly digits: string;
  readonly decpt: number;
}

const ZERO: Digits = { digits: '0', decpt: 1 };
const view = new DataView(new ArrayBuffer(8));
const pow10Cache: bigint[] = [1n];
function pow10(n: number): bigint {
  for (let i = pow10Cache.length; i <= n; i++) pow10Cache.push(pow10Cache[i - 1]! * 10n);
  return pow10Cache[n]!;
}

/** a = m × 2^e exactly, for finite a > 0. */
function decompose(a: number): [bigint, number] {
  view.setFloat64(0, a);
  const hi = view.getUint32(0);
  const bexp = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  return bexp === 0 ? [frac, -1074] : [frac | (1n << 52n), bexp - 1075];
}

/** num / den rounded to an integer, ties to even. */
function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twice = 2n * (num - q * den);
  return twice > den || (twice === den && q & 1n) ? q + 1n : q;
}

/** m × 2^e × 10^p as an exact fraction. */
function scaled(m: bigint, e: number, p: number): [bigint, bigint] {
  let num = e >= 0 ? m << BigInt(e) : m;
  let den = e >= 0 ? 1n : 1n << BigInt(-e);
  if (p >= 0) num *= pow10(p);
  else den *= pow10(-p);
  return [num, den];
}

function fromInteger(n: string, decpt: number): Digits {
  let end = n.length;
  while (end > 1 && n.charCodeAt(end - 1) === 48) end--;
  return { digits: n.slice(0, end), decpt };
}

/** From 'd.ddde+X' as printed by toExponential. */
function fromExponential(s: string): Digits {
  const e = s.indexOf('e');
  return fromInteger(s.slice(0, e).replace('.', ''), Number(s.slice(e + 1)) + 1);
}

/**
 * A tie (exactly half-way after rounding at 10^-q) needs a × 2^(q+1) to be an integer, since 5^q cannot
 * cancel powers of two. When it is not, JS's toFixed/toExponential (exact, but ties away from zero)
 * give the same digits as dtoa's round-half-even. Scaling by a power of two is exact in this range.
 */
const tieImpossible = (a: number, q: number) => q + 1 <= 1000 && !Number.isInteger(a * 2 ** (q + 1));

/** Mode 0: the shortest digits that round-trip (JS and dtoa both pick the closest such string). */
function shortestDigits(a: number): Digits {
  return a === 0 ? ZERO : fromExponential(a.toExponential());
}

/** Mode 3: rounded at `nd` digits after the point. */
function fixedDigits(a: number, nd: number): Digits {
  if (a === 0) return ZERO;
  if (Number.isSafeInteger(a)) return fromInteger(String(a), String(a).length);
  let n: string;
  if (nd <= 100 && a < 1e21 && tieImpossible(a, nd)) {
    n = a.toFixed(nd).replace('.', '');
  } else {
    const [m, e] = decompose(a);
    const [num, den] = scaled(m, e, nd);
    n = roundHalfEven(num, den).toString();
  }
  let start = 0;
  while (start < n.length && n.charCodeAt(start) === 48) start++;
  if (start === n.length) return { digits: '', decpt: -nd };
  return fromInteger(n.slice(start), n.length - start - nd);
}

/** m × 2^e < 10^p ? */
function below(m: bigint, e: number, p: number): boolean {
  const [num, den] = scaled(m, e, -p);
  return num < den;
}

/** Mode 2: `nd` (>= 1) significant digits. */
function significantDigits(a: number, nd: number): Digits {
  if (a === 0) return ZERO;
  let k = Math.floor(Math.log10(a)); // may be off by one near powers of ten
  if (nd <= 101 && tieImpossible(a, nd - k)) return fromExponential(a.toExponential(nd - 1));
  const [m, e] = decompose(a);
  while (below(m, e, k)) k--;
  while (!below(m, e, k + 1)) k++;
  const [num, den] = scaled(m, e, nd - 1 - k);
  const n = roundHalfEven(num, den);
  return n === pow10(nd) ? { digits: '1', decpt: k + 2 } : fromInteger(n.toString(), k + 1);
}

// ---------------------------------------------------------------------------------------------
// PyOS_double_to_string / format_float_short

interface FloatFlags {
  readonly addDot0: boolean;
  readonly alt: boolean;
  readonly noNeg0: boolean;
  readonly upper: boolean;
}

/** code: 'e' 'f' 'g' (lower case; flags.upper for E F G) or 'r' (repr, shortest). */
function floatToString(x: number, code: 'e' | 'f' | 'g' | 'r', precision: number, flags: FloatFlags): string {
  if (Number.isNaN(x)) return flags.upper ? 'NAN' : 'nan';
  let negative = x < 0 || Object.is(x, -0);
  if (!Number.isFinite(x)) return (negative ? '-' : '') + (flags.upper ? 'INF' : 'inf');
  const a = Math.abs(x);
  if (code === 'e') precision++; // dtoa counts significant digits
  if (code === 'g' && precision === 0) precision = 1;
  const { digits, decpt: rawDecpt } =
    code === 'f' ? fixedDigits(a, precision) : code === 'r' ? shortestDigits(a) : significantDigits(a, precision);
  if (flags.noNeg0 && (digits === '' || digits === '0')) negative = false;

  // Print the slice [vStart, vEnd) of the digits padded with zeros on both sides (see pystrtod.c).
  let decpt = rawDecpt;
  const len = digits.length;
  let useExp = false;
  let vEnd = len;
  if (code === 'e') {
    useExp = true;
    vEnd = precision;
  } else if (code === 'f') vEnd = decpt + precision;
  else if (code === 'g') {
    useExp = decpt <= -4 || decpt > (flags.addDot0 ? precision - 1 : precision);
    if (flags.alt) vEnd = precision;
  } else useExp = decpt <= -4 || decpt > 16;
  const exp = decpt - 1;
  if (useExp) decpt = 1;
  const vStart = decpt <= 0 ? decpt - 1 : 0;
  vEnd = Math.max(vEnd, !useExp && flags.addDot0 ? decpt + 1 : decpt);

  let out = negative ? '-' : '';
  if (decpt <= 0) out += '0'.repeat(decpt - vStart) + '.' + '0'.repeat(-decpt);
  out += decpt > 0 && decpt <= len ? digits.slice(0, decpt) + '.' + digits.slice(decpt) : digits;
  out += len < decpt ? '0'.repeat(decpt - len) + '.' + '0'.repeat(vEnd - decpt) : '0'.repeat(vEnd - len);
  if (out.endsWith('.') && !flags.alt) out = out.slice(0, -1);
  if (useExp) out += (flags.upper ? 'E' : 'e') + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
  return out;
}

const REPR_FLAGS: FloatFlags = { addDot0: true, alt: false, noNeg0: false, upper: false };

/** repr(float): shortest round-trip digits, '1e+16', '1e-05', '1.0', 'inf', 'nan', '-0.0'. */
export function pyFloatRepr(x: number): string {
  return floatToString(x, 'r', 0, REPR_FLAGS);
}

/** format_float_internal: float presentation types, also used for ints with a float type. */
function formatFloat(value: number, s: Spec): string {
  if (s.precision > 2147483647) throw valueError('precision too big');
  let x = value;
  let type = s.type;
  let precision = s.precision;
  let defaultPrecision = 6;
  let addDot0 = false;
  if (type === '') {
    // No type: repr, or 'g' with at least one digit after the point when a precision is given.
    type = 'r';
    addDot0 = true;
    defaultPrecision = 0;
  }
  if (type === 'n') type = 'g'; // Python's default C locale: no grouping, '.' decimal point
  const percent = type === '%';
  if (percent) {
    type = 'f';
    x *= 100; // a double multiplication, as in CPython
  }
  if (precision < 0) precision = defaultPrecision;
  else if (type === 'r') type = 'g';
  const upper = type === 'E' || type === 'F' || type === 'G';
  const code = type.toLowerCase() as 'e' | 'f' | 'g' | 'r';
  let buf = floatToString(x, code, precision, { addDot0, alt: s.alt, noNeg0: s.noNeg0, upper });
  if (percent) buf += '%';
  if (s.sign !== '+' && s.sign !== ' ' && s.width === -1 && !s.grouping) return buf;

  // Split into sign, integer digits, decimal point and the rest ('inf', exponent, '%').
  const negative = buf.charCodeAt(0) === 45;
  const body = negative ? buf.slice(1) : buf;
  let intEnd = 0;
  while (intEnd < body.length && body.charCodeAt(intEnd) >= 48 && body.charCodeAt(intEnd) <= 57) intEnd++;
  const hasDecimal = body[intEnd] === '.';
  const remainder = body.slice(intEnd + (hasDecimal ? 1 : 0));
  const groupSize = s.grouping ? 3 : 0;
  return layoutNumber(s, negative, '', body.slice(0, intEnd), hasDecimal, remainder, remainder.length, groupSize);
}

/** format_long_internal: integer presentation types. */
function formatInt(n: number, s: Spec): string {
  if (s.precision !== -1) throw valueError('Precision not allowed in integer format specifier');
  if (s.noNeg0) throw valueError('Negative zero coercion (z) not allowed in integer format specifier');
  if (s.type === 'c') {
    if (s.sign) throw valueError("Sign not allowed with integer format specifier 'c'");
    if (s.alt) throw valueError("Alternate form (#) not allowed with integer format specifier 'c'");
    if (n < 0 || n > 0x10ffff) throw new PyFormatError('OverflowError', '%c arg not in range(0x110000)');
    return layoutNumber(s, false, '', '', false, String.fromCodePoint(n), 1, 0);
  }
  const base = s.type === 'b' ? 2 : s.type === 'o' ? 8 : s.type === 'x' || s.type === 'X' ? 16 : 10;
  let digits = Math.abs(n).toString(base);
  let prefix = s.alt && base !== 10 ? '0' + s.type : '';
  if (s.type === 'X') {
    digits = digits.toUpperCase();
    prefix = prefix.toUpperCase();
  }
  const groupSize = !s.grouping || s.type === 'n' ? 0 : base === 10 ? 3 : 4;
  return layoutNumber(s, n < 0, prefix, digits, false, '', 0, groupSize);
}

/** format(value, spec) exactly as Python 3.11 does for int and float. Throws PyFormatError with Python's message. */
export function formatValue(v: PyValue, spec: string): string {
  if (v.type === 'float') {
    if (spec === '') return pyFloatRepr(v.value);
    const s = cachedSpec(spec, 'float');
    if (!'eEfFgGn%'.includes(s.type)) throw unknownCode(s.type, 'float'); // '' (no type) is included
    return formatFloat(v.value, s);
  }
  if (spec === '') return String(v.value);
  const s = cachedSpec(spec, 'int');
  if (s.type.length === 1 && 'bcdoxXn'.includes(s.type)) return formatInt(v.value, s);
  if (s.type.length === 1 && 'eEfFgG%'.includes(s.type)) return formatFloat(v.value, s);
  throw unknownCode(s.type, 'int');
}

/** format(str, spec): what a field with a !r / !s / !a conversion goes through. */
export function formatString(str: string, spec: string): string {
  if (spec === '') return str;
  const s = cachedSpec(spec, 'str');
  if (s.type !== 's') throw unknownCode(s.type, 'str');
  if (s.sign === ' ') throw valueError('Space not allowed in string format specifier');
  if (s.sign) throw valueError('Sign not allowed in string format specifier');
  if (s.noNeg0) throw valueError('Negative zero coercion (z) not allowed in string format specifier');
  if (s.alt) throw valueError('Alternate form (#) not allowed in string format specifier');
  if (s.align === '=') throw valueError("'=' alignment not allowed in string format specifier");
  let cps = Array.from(str);
  if (s.precision >= 0 && cps.length > s.precision) cps = cps.slice(0, s.precision);
  const pad = Math.max(0, s.width - cps.length);
  const left = s.align === '>' ? pad : s.align === '^' ? pad >> 1 : 0;
  return s.fill.repeat(left) + cps.join('') + s.fill.repeat(pad - left);
}

// ---------------------------------------------------------------------------------------------
// repr(str)

/** Python's str.isprintable() per character: everything but categories C* and Z* (space excepted). */
const NON_PRINTABLE = /^[\p{C}\p{Z}]$/u;

/** repr(str) in Python: single quotes unless the string contains ' and no ", escapes like CPython. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x7f || !NON_PRINTABLE.test(ch)) out += ch;
    else if (cp <= 0xff) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp <= 0xffff) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + quote;
}

/** repr of a Python list of strings, e.g. ['a', 'b'] */
export function pyStrListRepr(xs: readonly string[]): string {
  return '[' + xs.map(pyStrRepr).join(', ') + ']';
}
