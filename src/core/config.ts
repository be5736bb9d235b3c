/**
 * The ModelCheckpoint options: an io-ts codec for their shape, Lightning 2.6's defaults, and
 * Lightning's own validation (same order, same MisconfigurationException texts), plus the one
 * deliberate difference: a filename template that would leave the checkpoint directory is refused.
 *
 * Lightning's keyword names (snake_case, as in `ModelCheckpoint(...)`) and camelCase names are both
 * accepted, so a user can paste their Python arguments into JSON or YAML.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { formatCheckpointName, templateKeys } from './format/template.ts';
import { pyStrRepr, type PyValue } from './format/pyformat.ts';
import { pyNormpath } from './paths.ts';
import { timedeltaRepr, timedeltaStr } from './format/timedelta.ts';
import { didYouMean } from './didYouMean.ts';

// ---- shape ---------------------------------------------------------------------------------

/** A timedelta written as seconds, or as Python's timedelta keyword arguments. */
const TimedeltaInput = t.union([
  t.number,
  t.partial({ days: t.number, hours: t.number, minutes: t.number, seconds: t.number, milliseconds: t.number, microseconds: t.number }),
]);
type TimedeltaInput = t.TypeOf<typeof TimedeltaInput>;

const Int = t.refinement(t.number, Number.isInteger, 'integer');

/** Each option: its Lightning name, its camelCase name, its codec. */
const OPTION_CODECS = {
  dirpath: t.union([t.string, t.null]),
  filename: t.union([t.string, t.null]),
  monitor: t.union([t.string, t.null]),
  verbose: t.boolean,
  save_last: t.union([t.boolean, t.literal('link'), t.null]),
  save_top_k: Int,
  save_on_exception: t.boolean,
  save_weights_only: t.boolean,
  mode: t.string,
  auto_insert_metric_name: t.boolean,
  every_n_train_steps: t.union([Int, t.null]),
  train_time_interval: t.union([TimedeltaInput, t.null]),
  every_n_epochs: t.union([Int, t.null]),
  save_on_train_epoch_end: t.union([t.boolean, t.null]),
  enable_version_counter: t.boolean,
  CHECKPOINT_JOIN_CHAR: t.string,
  CHECKPOINT_EQUALS_CHAR: t.string,
  CHECKPOINT_NAME_LAST: t.string,
  FILE_EXTENSION: t.string,
  STARTING_VERSION: Int,
} as const;
type OptionName = keyof typeof OPTION_CODECS;
export const OPTION_NAMES = Object.keys(OPTION_CODECS) as OptionName[];

const CAMEL: Record<OptionName, string> = {
  dirpath: 'dirpath',
  filename: 'filename',
  monitor: 'monitor',
  verbose: 'verbose',
  save_last: 'saveLast',
  save_top_k: 'saveTopK',
  save_on_exception: 'saveOnException',
  save_weights_only: 'saveWeightsOnly',
  mode: 'mode',
  auto_insert_metric_name: 'autoInsertMetricName',
  every_n_train_steps: 'everyNTrainSteps',
  train_time_interval: 'trainTimeInterval',
  every_n_epochs: 'everyNEpochs',
  save_on_train_epoch_end: 'saveOnTrainEpochEnd',
  enable_version_counter: 'enableVersionCounter',
  CHECKPOINT_JOIN_CHAR: 'checkpointJoinChar',
  CHECKPOINT_EQUALS_CHAR: 'checkpointEqualsChar',
  CHECKPOINT_NAME_LAST: 'checkpointNameLast',
  FILE_EXTENSION: 'fileExtension',
  STARTING_VERSION: 'startingVersion',
};

/** What a caller may write: every option optional, under either name. */
export type CheckpointOptions = {
  [K in OptionName as K | (typeof CAMEL)[K]]?: t.TypeOf<(typeof OPTION_CODECS)[K]>;
};

/** The options after defaults, in camelCase; `trainTimeInterval` in seconds (microsecond-rounded like timedelta). */
export interface PolicyConfig {
  readonly dirpath: string | null;
  readonly filename: string | null;
  readonly monitor: string | null;
  readonly verbose: boolean;
  readonly saveLast: boolean | 'link' | null;
  readonly saveTopK: number;
  readonly saveOnException: boolean;
  readonly saveWeightsOnly: boolean;
  readonly mode: 'min' | 'max';
  readonly autoInsertMetricName: boolean;
  readonly everyNTrainSteps: number | null;
  readonly trainTimeInterval: number | null;
  readonly everyNEpochs: number | null;
  readonly saveOnTrainEpochEnd: boolean | null;
  readonly enableVersionCounter: boolean;
  readonly checkpointJoinChar: string;
  readonly checkpointEqualsChar: string;
  readonly checkpointNameLast: string;
  readonly fileExtension: string;
  readonly startingVersion: number;
}

/** Lightning 2.6's defaults. */
export const DEFAULTS: PolicyConfig = {
  dirpath: null,
  filename: null,
  monitor: null,
  verbose: false,
  saveLast: null,
  saveTopK: 1,
  saveOnException: false,
  saveWeightsOnly: false,
  mode: 'min',
  autoInsertMetricName: true,
  everyNTrainSteps: null,
  trainTimeInterval: null,
  everyNEpochs: null,
  saveOnTrainEpochEnd: null,
  enableVersionCounter: true,
  checkpointJoinChar: '-',
  checkpointEqualsChar: '=',
  checkpointNameLast: 'last',
  fileExtension: '.ckpt',
  startingVersion: 1,
};

// ---- errors --------------------------------------------------------------------------------

/** One problem with a configuration. `lightning` is what Lightning itself raises for it, if it does. */
export interface ConfigIssue {
  readonly field: string;
  readonly value: unknown;
  readonly allowed: string;
  readonly message: string;
  readonly lightning?: { readonly type: 'MisconfigurationException'; readonly message: string };
}

export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map((i) => i.message).join('\n'));
    this.name = 'ConfigError';
  }
}

const show = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v) ?? String(v));

// ---- decoding ------------------------------------------------------------------------------

const SNAKE_BY_NAME = new Map<string, OptionName>();
for (const n of OPTION_NAMES) {
  SNAKE_BY_NAME.set(n, n);
  SNAKE_BY_NAME.set(CAMEL[n], n);
}

function suggestion(key: string): string {
  return didYouMean(key, [...SNAKE_BY_NAME.keys()]);
}

function allowedText(name: OptionName): string {
  switch (name) {
    case 'save_last':
      return 'true, false, "link" or null';
    case 'train_time_interval':
      return 'a number of seconds, {days, hours, minutes, seconds, milliseconds, microseconds}, or null';
    case 'save_top_k':
    case 'STARTING_VERSION':
      return 'an integer';
    case 'every_n_train_steps':
    case 'every_n_epochs':
      return 'an integer or null';
    case 'dirpath':
    case 'filename':
    case 'monitor':
      return 'a string or null';
    case 'save_on_train_epoch_end':
      return 'true, false or null';
    case 'mode':
    case 'CHECKPOINT_JOIN_CHAR':
    case 'CHECKPOINT_EQUALS_CHAR':
    case 'CHECKPOINT_NAME_LAST':
    case 'FILE_EXTENSION':
      return 'a string';
    default:
      return 'true or false';
  }
}

/** Microseconds of `timedelta(**input)`, rounded half-even as Python's constructor does. */
function timedeltaMicros(v: TimedeltaInput): number {
  const parts =
    typeof v === 'number'
      ? { seconds: v }
      : v;
  const us =
    (parts.days ?? 0) * 86_400e6 +
    (parts.hours ?? 0) * 3_600e6 +
    (parts.minutes ?? 0) * 60e6 +
    (parts.seconds ?? 0) * 1e6 +
    (parts.milliseconds ?? 0) * 1e3 +
    (parts.microseconds ?? 0);
  const floor = Math.floor(us);
  const frac = us - floor;
  return frac > 0.5 || (frac === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
}

/** Shape check: every key known, given once, with a value of the right type. */
function decodeShape(input: unknown): { issues: ConfigIssue[]; options: Partial<Record<OptionName, unknown>> | null } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { issues: [{ field: '(options)', value: input, allowed: 'an object of ModelCheckpoint options', message: `options must be an object of ModelCheckpoint options, got ${show(input)}` }], options: null };
  }
  const issues: ConfigIssue[] = [];
  const out: Partial<Record<OptionName, unknown>> = {};
  const seenAs = new Map<OptionName, string>();
  for (const [key, value] of Object.entries(input)) {
    const name = SNAKE_BY_NAME.get(key);
    if (name === undefined) {
      issues.push({
        field: key,
        value,
        allowed: `one of ${OPTION_NAMES.join(', ')}`,
        message: `unknown option '${key}'${suggestion(key)}; allowed options are ${OPTION_NAMES.join(', ')} (or their camelCase forms)`,
      });
      continue;
    }
    const first = seenAs.get(name);
    if (first !== undefined) {
      issues.push({ field: key, value, allowed: 'each option once', message: `option '${name}' is given twice (as '${first}' and '${key}')` });
      continue;
    }
    seenAs.set(name, key);
    if (value === undefined) continue;
    const decoded = (OPTION_CODECS[name] as t.Decoder<unknown, unknown>).decode(value);
    if (E.isLeft(decoded)) {
      issues.push({ field: key, value, allowed: allowedText(name), message: `${key}=${show(value)} is not allowed: expected ${allowedText(name)}` });
      continue;
    }
    out[name] = decoded.right;
  }
  return { issues, options: out };
}

/** What Lightning's constructor derives before validating (`__init_triggers`). */
export interface Triggers {
  readonly everyNTrainSteps: number;
  readonly everyNEpochs: number;
  /** seconds, or null when there is no time trigger */
  readonly trainTimeInterval: number | null;
  /** microseconds, kept for exact str/repr of the timedelta */
  readonly trainTimeIntervalMicros: number | null;
  readonly defaulted: boolean;
}

export function triggers(c: PolicyConfig): Triggers {
  const micros = c.trainTimeInterval === null ? null : Math.round(c.trainTimeInterval * 1e6);
  if (c.everyNTrainSteps === null && c.everyNEpochs === null && c.trainTimeInterval === null) {
    return { everyNTrainSteps: 0, everyNEpochs: 1, trainTimeInterval: null, trainTimeIntervalMicros: null, defaulted: true };
  }
  return {
    everyNTrainSteps: c.everyNTrainSteps || 0,
    everyNEpochs: c.everyNEpochs || 0,
    trainTimeInterval: c.trainTimeInterval,
    trainTimeIntervalMicros: micros,
    defaulted: false,
  };
}

/** Lightning's constructor checks, in its order: the first issue is the one Lightning raises. */
export function lightningIssues(c: PolicyConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const mis = (field: string, value: unknown, allowed: string, message: string): ConfigIssue => ({
    field,
    value,
    allowed,
    message: `${field}=${show(value)} is not allowed: ${allowed} (Lightning: ${message})`,
    lightning: { type: 'MisconfigurationException', message },
  });
  if (c.mode !== 'min' && c.mode !== 'max') {
    issues.push(mis('mode', c.mode, "mode must be 'min' or 'max'", `\`mode\` can be min, max but got ${c.mode}`));
  }
  const tr = triggers(c);
  if (c.saveTopK < -1) {
    issues.push(mis('save_top_k', c.saveTopK, 'save_top_k must be >= -1', `Invalid value for save_top_k=${c.saveTopK}. Must be >= -1`));
  }
  if (tr.everyNTrainSteps < 0) {
    issues.push(mis('every_n_train_steps', tr.everyNTrainSteps, 'every_n_train_steps must be >= 0 or null', `Invalid value for every_n_train_steps=${tr.everyNTrainSteps}. Must be >= 0`));
  }
  if (tr.everyNEpochs < 0) {
    issues.push(mis('every_n_epochs', tr.everyNEpochs, 'every_n_epochs must be >= 0 or null', `Invalid value for every_n_epochs=${tr.everyNEpochs}. Must be >= 0`));
  }
  const n = Number(tr.everyNTrainSteps >= 1) + Number(tr.everyNEpochs >= 1) + Number(tr.trainTimeInterval !== null);
  if (n > 1) {
    const td = tr.trainTimeIntervalMicros === null ? 'None' : timedeltaStr(tr.trainTimeIntervalMicros);
    issues.push(
      mis(
        'every_n_train_steps, every_n_epochs, train_time_interval',
        { every_n_train_steps: c.everyNTrainSteps, every_n_epochs: c.everyNEpochs, train_time_interval: c.trainTimeInterval },
        'at most one of the three triggers may be set',
        `Combination of parameters every_n_train_steps=${tr.everyNTrainSteps}, every_n_epochs=${tr.everyNEpochs} and train_time_interval=${td} should be mutually exclusive.`,
      ),
    );
  }
  if (c.monitor === null && c.saveTopK !== -1 && c.saveTopK !== 0 && c.saveTopK !== 1) {
    issues.push(
      mis(
        'save_top_k',
        c.saveTopK,
        'without a monitor, save_top_k must be -1, 0 or 1 (set monitor to keep the best k)',
        `ModelCheckpoint(save_top_k=${c.saveTopK}, monitor=None) is not a valid configuration. No quantity for top_k to track.`,
      ),
    );
  }
  return issues;
}

/**
 * Our own addition: names stay inside the checkpoint directory (Lightning would write wherever the
 * template points). The template is rendered with every metric as the int 0, the shortest value,
 * so fill characters pad the most (`{epoch:/>4}` gives '///0'); a template that cannot be rendered
 * that way is checked on its literal text, and the reducer re-checks every name it formats.
 */
export function escapeIssues(c: PolicyConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const opts = { joinChar: c.checkpointJoinChar, equalsChar: c.checkpointEqualsChar, autoInsertMetricName: c.autoInsertMetricName, extension: c.fileExtension };
  const escapes = (name: string) => name.startsWith('/') || name.split('/').includes('..') || pyNormpath(name).split('/')[0] === '..';
  const check = (field: string, template: string) => {
    const zeros = new Map(templateKeys(template).map((k): [string, PyValue] => [k, { type: 'int', value: 0 }]));
    let rendered: string[];
    try {
      rendered = [formatCheckpointName(template, zeros, opts), formatCheckpointName(template, zeros, opts, c.startingVersion)];
    } catch {
      // formatting fails at save time (as in Lightning); judge the literal text meanwhile
      let text = template;
      if (c.autoInsertMetricName) for (const k of templateKeys(template)) text = text.split('{' + k).join(k + c.checkpointEqualsChar + '{' + k);
      rendered = [text.replace(/\{[^{}]*\}/g, '0') + c.checkpointJoinChar + 'v1' + c.fileExtension];
    }
    if (rendered.some(escapes)) {
      issues.push({
        field,
        value: template,
        allowed: 'a relative name inside the checkpoint directory (no absolute path, no ".." segment)',
        message: `${field}=${pyStrRepr(template)} would write outside the checkpoint directory (as ${pyStrRepr(rendered.find(escapes)!)}); use a relative name without '..' (ckpt-policy refuses this on purpose; Lightning would follow it)`,
      });
    }
  };
  check('filename', c.filename || '{epoch}' + c.checkpointJoinChar + '{step}');
  check('CHECKPOINT_NAME_LAST', c.checkpointNameLast || c.filename || '{epoch}' + c.checkpointJoinChar + '{step}');
  return issues;
}

function withDefaults(opts: Partial<Record<OptionName, unknown>>): PolicyConfig {
  const tti = opts.train_time_interval as TimedeltaInput | null | undefined;
  return {
    dirpath: (opts.dirpath as string | null | undefined) ?? DEFAULTS.dirpath,
    filename: (opts.filename as string | null | undefined) ?? DEFAULTS.filename,
    monitor: (opts.monitor as string | null | undefined) ?? DEFAULTS.monitor,
    verbose: (opts.verbose as boolean | undefined) ?? DEFAULTS.verbose,
    saveLast: opts.save_last === undefined ? DEFAULTS.saveLast : (opts.save_last as PolicyConfig['saveLast']),
    saveTopK: (opts.save_top_k as number | undefined) ?? DEFAULTS.saveTopK,
    saveOnException: (opts.save_on_exception as boolean | undefined) ?? DEFAULTS.saveOnException,
    saveWeightsOnly: (opts.save_weights_only as boolean | undefined) ?? DEFAULTS.saveWeightsOnly,
    mode: ((opts.mode as string | undefined) ?? DEFAULTS.mode) as 'min' | 'max',
    autoInsertMetricName: (opts.auto_insert_metric_name as boolean | undefined) ?? DEFAULTS.autoInsertMetricName,
    everyNTrainSteps: (opts.every_n_train_steps as number | null | undefined) ?? null,
    trainTimeInterval: tti === undefined || tti === null ? null : timedeltaMicros(tti) / 1e6,
    everyNEpochs: (opts.every_n_epochs as number | null | undefined) ?? null,
    saveOnTrainEpochEnd: (opts.save_on_train_epoch_end as boolean | null | undefined) ?? null,
    enableVersionCounter: (opts.enable_version_counter as boolean | undefined) ?? DEFAULTS.enableVersionCounter,
    checkpointJoinChar: (opts.CHECKPOINT_JOIN_CHAR as string | undefined) ?? DEFAULTS.checkpointJoinChar,
    checkpointEqualsChar: (opts.CHECKPOINT_EQUALS_CHAR as string | undefined) ?? DEFAULTS.checkpointEqualsChar,
    checkpointNameLast: (opts.CHECKPOINT_NAME_LAST as string | undefined) ?? DEFAULTS.checkpointNameLast,
    fileExtension: (opts.FILE_EXTENSION as string | undefined) ?? DEFAULTS.fileExtension,
    startingVersion: (opts.STARTING_VERSION as number | undefined) ?? DEFAULTS.startingVersion,
  };
}

/** Shape and defaults only: what Lightning's constructor receives, before it validates anything. */
export function decodeOptions(input: unknown): E.Either<ConfigIssue[], PolicyConfig> {
  const { issues, options } = decodeShape(input);
  return issues.length || options === null ? E.left(issues) : E.right(withDefaults(options));
}

/** Every issue of a configuration, Lightning's own first (in the order Lightning checks them). */
export function validateConfig(c: PolicyConfig): ConfigIssue[] {
  return [...lightningIssues(c), ...escapeIssues(c)];
}

/**
 * Decodes and validates options. Every issue of the input is reported together: type errors and
 * unknown keys first, then the checks Lightning would make on the options that did decode.
 */
export function decodeConfig(input: unknown): E.Either<ConfigIssue[], PolicyConfig> {
  const { issues, options } = decodeShape(input);
  if (options === null) return E.left(issues);
  const config = withDefaults(options);
  const all = [...issues, ...validateConfig(config)];
  return all.length ? E.left(all) : E.right(config);
}

/** decodeConfig for callers who prefer exceptions (library users building a config in code). */
export function parseConfig(input: CheckpointOptions | unknown): PolicyConfig {
  const r = decodeConfig(input);
  if (E.isLeft(r)) throw new ConfigError(r.left);
  return r.right;
}

/** io-ts codec: options (either naming) <-> PolicyConfig, encoding back to Lightning's names. */
export const PolicyConfigCodec = new t.Type<PolicyConfig, Record<string, unknown>, unknown>(
  'ModelCheckpointOptions',
  (u): u is PolicyConfig => typeof u === 'object' && u !== null && 'saveTopK' in u,
  (u, ctx) =>
    pipe(
      decodeConfig(u),
      E.fold(
        (issues) => t.failures(issues.map((i) => ({ value: i.value, context: ctx, message: i.message }))),
        (c) => t.success(c),
      ),
    ),
  (c) => {
    const out: Record<string, unknown> = {};
    for (const n of OPTION_NAMES) out[n] = (c as unknown as Record<string, unknown>)[CAMEL[n]];
    return out;
  },
);

/** Lightning's `state_key`: what a checkpoint stores this callback's state under. */
export function stateKey(c: PolicyConfig): string {
  const tr = triggers(c);
  const td = tr.trainTimeIntervalMicros === null ? 'None' : timedeltaRepr(tr.trainTimeIntervalMicros);
  const monitor = c.monitor === null ? 'None' : pyStrRepr(c.monitor);
  return `ModelCheckpoint{'monitor': ${monitor}, 'mode': ${pyStrRepr(c.mode)}, 'every_n_train_steps': ${tr.everyNTrainSteps}, 'every_n_epochs': ${tr.everyNEpochs}, 'train_time_interval': ${td}}`;
}

