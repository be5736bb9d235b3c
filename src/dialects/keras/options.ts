/**
 * Keras 3's `ModelCheckpoint(...)` arguments: an io-ts codec for their shape (Keras's snake_case
 * names from JSON/YAML, or tfjs-style camelCase from TypeScript), Keras's defaults, and what its
 * constructor does with them, in its order and words: the unknown-mode warning and fallback to
 * auto, the `save_freq` ValueError, the file-suffix ValueErrors (checked on the raw template).
 *
 * Keras itself checks no types; Python's duck typing decides later. We keep the values Keras
 * accepts and fails on later (a `verbose` of 'auto' or None raises TypeError at the first save
 * decision, as in Keras), and refuse up front only what could not mean anything in Keras
 * (a `save_best_only` that is not a boolean, an object for a number): those are our own errors,
 * naming the field, the value and what is allowed.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { didYouMean } from '../../core/didYouMean.ts';
import { pyStr, type PyScalar } from './values.ts';
import { PyError as PyErrorCodec } from './codecs.ts';

// ---- shape -----------------------------------------------------------------------------------

/** A number as a trace or a YAML file writes it: non-finite numbers may be the strings 'NaN', 'Infinity', '-Infinity'. */
export const PyFloat = new t.Type<number, number | string, unknown>(
  'float',
  (u): u is number => typeof u === 'number',
  (u, c) =>
    typeof u === 'number' ? t.success(u)
    : u === 'NaN' ? t.success(NaN)
    : u === 'Infinity' || u === 'inf' ? t.success(Infinity)
    : u === '-Infinity' || u === '-inf' ? t.success(-Infinity)
    : t.failure(u, c),
  (n) => (Number.isNaN(n) ? 'NaN' : n === Infinity ? 'Infinity' : n === -Infinity ? '-Infinity' : n),
);

const Scalar = t.union([t.string, t.number, t.boolean, t.null]);

/** Each argument: Keras's name, the camelCase name tfjs users write, its codec, what it allows (for errors). */
const ARGUMENTS = {
  filepath: { camel: 'filepath', codec: t.union([t.string, t.null]), allowed: 'a path string ending in .keras, .h5 or .weights.h5' },
  monitor: { camel: 'monitor', codec: t.union([t.string, t.null]), allowed: 'a metric name (a string)' },
  verbose: { camel: 'verbose', codec: Scalar, allowed: '0 or 1 (Keras compares it with 0)' },
  save_best_only: { camel: 'saveBestOnly', codec: t.boolean, allowed: 'true or false' },
  save_weights_only: { camel: 'saveWeightsOnly', codec: t.boolean, allowed: 'true or false' },
  mode: { camel: 'mode', codec: Scalar, allowed: "'auto', 'min' or 'max'" },
  save_freq: { camel: 'saveFreq', codec: Scalar, allowed: "'epoch' or an integer number of batches" },
  initial_value_threshold: { camel: 'initialValueThreshold', codec: t.union([PyFloat, t.null]), allowed: 'a number or null' },
} as const;

export type ArgumentName = keyof typeof ARGUMENTS;
export const ARGUMENT_NAMES = Object.keys(ARGUMENTS) as ArgumentName[];

/** The arguments as given (Keras's names; absent ones take Keras's defaults). */
export interface KerasOptions {
  readonly filepath: string | null;
  readonly monitor?: string | null;
  readonly verbose?: PyScalar;
  readonly save_best_only?: boolean;
  readonly save_weights_only?: boolean;
  readonly mode?: PyScalar;
  readonly save_freq?: PyScalar;
  readonly initial_value_threshold?: number | null;
}

/** The same in tfjs's spelling (`tf.callbacks.earlyStopping({ monitor, minDelta })` style). */
export interface KerasCamelOptions {
  readonly filepath: string;
  readonly monitor?: string;
  readonly verbose?: number;
  readonly saveBestOnly?: boolean;
  readonly saveWeightsOnly?: boolean;
  readonly mode?: 'auto' | 'min' | 'max';
  readonly saveFreq?: 'epoch' | number;
  readonly initialValueThreshold?: number | null;
}

/** Keras's defaults. */
export const DEFAULTS = {
  monitor: 'val_loss',
  verbose: 0,
  save_best_only: false,
  save_weights_only: false,
  mode: 'auto',
  save_freq: 'epoch',
  initial_value_threshold: null,
} as const;

/** One problem with the arguments: the field as written, its value, what is allowed, a sentence. */
export interface OptionIssue {
  readonly field: string;
  readonly value: unknown;
  readonly allowed: string;
  readonly message: string;
  /** what Keras raises for it, when it does (TypeError for unknown or missing arguments) */
  readonly keras?: { readonly type: string; readonly message: string };
}

export class KerasOptionsError extends Error {
  constructor(readonly issues: readonly OptionIssue[]) {
    super(issues.map((i) => i.message).join('\n'));
    this.name = 'KerasOptionsError';
  }
}

const show = (v: unknown) => (v === undefined ? 'undefined' : (JSON.stringify(v) ?? String(v)));

const BY_NAME = new Map<string, ArgumentName>();
for (const n of ARGUMENT_NAMES) {
  BY_NAME.set(n, n);
  BY_NAME.set(ARGUMENTS[n].camel, n);
}

/** Shape only: every key known and given once, each value of a type Keras could take. All problems at once. */
export function decodeOptions(input: unknown): E.Either<OptionIssue[], KerasOptions> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return E.left([{ field: '(options)', value: input, allowed: 'an object of ModelCheckpoint arguments', message: `ModelCheckpoint options must be an object, got ${show(input)}` }]);
  }
  const issues: OptionIssue[] = [];
  const out: Record<string, unknown> = {};
  const seenAs = new Map<ArgumentName, string>();
  for (const [key, value] of Object.entries(input)) {
    const name = BY_NAME.get(key);
    if (name === undefined) {
      const keras = `ModelCheckpoint.__init__() got an unexpected keyword argument '${key}'`;
      issues.push({ field: key, value, allowed: `one of ${ARGUMENT_NAMES.join(', ')} (or camelCase)`, message: `${keras}${didYouMean(key, [...BY_NAME.keys()])}`, keras: { type: 'TypeError', message: keras } });
      continue;
    }
    const first = seenAs.get(name);
    if (first !== undefined) {
      issues.push({ field: key, value, allowed: 'each argument once', message: `ModelCheckpoint argument '${name}' is given twice (as '${first}' and '${key}')` });
      continue;
    }
    seenAs.set(name, key);
    if (value === undefined) continue;
    const decoded = (ARGUMENTS[name].codec as t.Decoder<unknown, unknown>).decode(value);
    if (E.isLeft(decoded)) {
      issues.push({ field: key, value, allowed: ARGUMENTS[name].allowed, message: `ModelCheckpoint ${key}=${show(value)} is not allowed: expected ${ARGUMENTS[name].allowed}` });
      continue;
    }
    out[name] = decoded.right;
  }
  if (!seenAs.has('filepath')) {
    const keras = "ModelCheckpoint.__init__() missing 1 required positional argument: 'filepath'";
    issues.push({ field: 'filepath', value: undefined, allowed: ARGUMENTS.filepath.allowed, message: keras, keras: { type: 'TypeError', message: keras } });
  }
  return issues.length > 0 ? E.left(issues) : E.right(out as unknown as KerasOptions);
}

// ---- what the constructor does ---------------------------------------------------------------

/** The effective configuration, as the conformance traces record it (`init.config`). */
export const KerasConfigCodec = t.type({
  filepath: t.string,
  monitor: t.union([t.string, t.null]),
  /** after the unknown-mode fallback: always one of these */
  mode: t.union([t.literal('auto'), t.literal('min'), t.literal('max')]),
  save_best_only: t.boolean,
  save_weights_only: t.boolean,
  /** 'epoch' or the integer given (True counts as 1, as it does in Python) */
  save_freq: t.union([t.literal('epoch'), t.number, t.boolean]),
  verbose: Scalar,
});
export type KerasConfig = t.TypeOf<typeof KerasConfigCodec>;

/** A Python exception as a value (`str` only when str(exception) differs from `message`, as for KeyError). */
export type PyError = t.TypeOf<typeof PyErrorCodec>;

/** A warning or printed line, as the traces record them. */
export type KerasMessage =
  | { readonly level: 'print'; readonly message: string }
  | { readonly level: 'warning'; readonly category: 'UserWarning'; readonly message: string };

export type Construction =
  | { readonly _tag: 'Constructed'; readonly config: KerasConfig; readonly initialBest: number | null; readonly messages: readonly KerasMessage[] }
  | { readonly _tag: 'ConstructionFailed'; readonly error: PyError; readonly messages: readonly KerasMessage[] };

/** `save_freq` as a batch count: Python's bool is an int, so True is 1. */
export const saveFreqBatches = (f: KerasConfig['save_freq']): number | 'epoch' => (f === 'epoch' ? f : f === true ? 1 : f === false ? 0 : f);

/** ModelCheckpoint.__init__ (with MonitorCallback.__init__ first), on decoded arguments. */
export function construct(o: KerasOptions): Construction {
  const messages: KerasMessage[] = [];
  const given = o.mode === undefined ? DEFAULTS.mode : o.mode;
  const known = given === 'auto' || given === 'min' || given === 'max';
  if (!known) messages.push({ level: 'warning', category: 'UserWarning', message: `ModelCheckpoint mode '${pyStr(given)}' is unknown, fallback to auto mode.` });
  const mode: KerasConfig['mode'] = known ? given : 'auto';
  const saveFreq = o.save_freq === undefined ? DEFAULTS.save_freq : o.save_freq;
  // Python's isinstance(x, int) holds for bools; a float such as 2.0 is refused
  if (saveFreq !== 'epoch' && typeof saveFreq !== 'boolean' && !(typeof saveFreq === 'number' && Number.isInteger(saveFreq))) {
    return { _tag: 'ConstructionFailed', messages, error: { type: 'ValueError', message: `Unrecognized save_freq: ${pyStr(saveFreq)}. Expected save_freq are 'epoch' or integer values` } };
  }
  const filepath = o.filepath;
  if (filepath === null) return { _tag: 'ConstructionFailed', messages, error: { type: 'AttributeError', message: "'NoneType' object has no attribute 'endswith'" } };
  const weightsOnly = o.save_weights_only ?? DEFAULTS.save_weights_only;
  if (weightsOnly && !filepath.endsWith('.weights.h5')) {
    return {
      _tag: 'ConstructionFailed',
      messages,
      error: { type: 'ValueError', message: `When using \`save_weights_only=True\` in \`ModelCheckpoint\`, the filepath provided must end in \`.weights.h5\` (Keras weights format). Received: filepath=${filepath}` },
    };
  }
  if (!weightsOnly && !filepath.endsWith('.keras') && !filepath.endsWith('.h5')) {
    return { _tag: 'ConstructionFailed', messages, error: { type: 'ValueError', message: `The filepath provided must end in \`.keras\` (Keras model format). Received: filepath=${filepath}` } };
  }
  return {
    _tag: 'Constructed',
    messages,
    initialBest: o.initial_value_threshold ?? null,
    config: {
      filepath,
      monitor: o.monitor === undefined ? DEFAULTS.monitor : o.monitor,
      mode,
      save_best_only: o.save_best_only ?? DEFAULTS.save_best_only,
      save_weights_only: weightsOnly,
      save_freq: saveFreq,
      verbose: o.verbose === undefined ? DEFAULTS.verbose : o.verbose,
    },
  };
}

/** Decode then construct; a shape problem throws KerasOptionsError, Keras's own errors come back as values. */
export function parseOptions(input: KerasOptions | KerasCamelOptions | unknown): Construction {
  const decoded = decodeOptions(input);
  if (E.isLeft(decoded)) throw new KerasOptionsError(decoded.left);
  return construct(decoded.right);
}
