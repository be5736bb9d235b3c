/**
 * The ModelCheckpoint options: an io-ts codec for their shape, Lightning 2.6's defaults, and
 * Lightning's own validation (same order, same MisconfigurationException texts), plus the one
 * deliberate difference: a filename template that would leave the checkpoint directory is refused.
 *
 * Lightning's keyword names (snake_case, as in `ModelCheckpoint(...)`) and camelCase names are both
 * accepted, so a user can paste their Python arguments into JSON or YAML.
 */
import { t, E, pipe } from './deps.cts';
import { formatCheckpointName, templateKeys } from './format/template.ts';
import { pyStrRepr, type PyValue } from './format/pyformat.ts';
import { pyNormpath } from './paths.ts';
import { timedeltaRepr, timedeltaStr } from './format/timedelta.ts';
import { didYouMean } from './didYouMean.ts';
import { Nullable } from './jsonNumber.ts';

// ---- shape ---------------------------------------------------------------------------------

/** A timedelta written as seconds, or as Python's timedelta keyword arguments. */
const TimedeltaInput = t.union([
  t.number,
  t.partial({ days: t.number, hours: t.number, minutes: t.number, seconds: t.number, milliseconds: t.number, microseconds: t.number }),
]);
type TimedeltaInput = t.TypeOf<typeof TimedeltaInput>;

const Int = t.refinement(t.number, Number.isInteger, 'integer');

const PositiveInt = t.refinement(Int, (n) => n >= 1, 'a positive integer');
const PositiveNumber = t.refinement(t.number, (n) => Number.isFinite(n) && n > 0, 'a positive number');

/**
 * One row per option: the codec of what a user may write, the camelCase name, the default, the
 * allowed-values text of error messages and the docs line. `value` turns the decoded input into
 * the PolicyConfig field (identity except for timedeltas), so PolicyConfig's field types are
 * derived from this table. The rows after STARTING_VERSION are ckpt-policy's composable retention
 * (docs/rules.md, "Composable retention"); Lightning has no such options.
 */
function option<C extends t.Mixed, Camel extends string, V = t.TypeOf<C>>(row: {
  readonly codec: C;
  readonly camel: Camel;
  readonly default: NoInfer<V>;
  readonly allowed: string;
  readonly doc: string;
  readonly value?: (decoded: t.TypeOf<C>) => V;
}) {
  return row;
}

export const OPTIONS = {
  dirpath: option({ codec: Nullable(t.string), camel: 'dirpath', default: null, allowed: 'a string or null', doc: 'directory of the checkpoints (None: the logger\'s or default_root_dir/checkpoints)' }),
  filename: option({ codec: Nullable(t.string), camel: 'filename', default: null, allowed: 'a string or null', doc: 'name template, e.g. "{epoch}-{val_loss:.2f}" (None: "{epoch}-{step}")' }),
  monitor: option({ codec: Nullable(t.string), camel: 'monitor', default: null, allowed: 'a string or null', doc: 'the logged metric top-k ranks by (None: every trigger saves)' }),
  verbose: option({ codec: t.boolean, camel: 'verbose', default: false, allowed: 'true or false', doc: 'Lightning\'s info lines for each top-k check' }),
  save_last: option({ codec: t.union([t.boolean, t.literal('link'), t.null]), camel: 'saveLast', default: null as boolean | 'link' | null, allowed: 'true, false, "link" or null', doc: 'keep a last.ckpt (a copy, or with "link" a symlink to the newest checkpoint)' }),
  save_top_k: option({ codec: Int, camel: 'saveTopK', default: 1, allowed: 'an integer', doc: 'how many best checkpoints to keep (-1 all, 0 none)' }),
  save_on_exception: option({ codec: t.boolean, camel: 'saveOnException', default: false, allowed: 'true or false', doc: 'save a checkpoint when training raises' }),
  save_weights_only: option({ codec: t.boolean, camel: 'saveWeightsOnly', default: false, allowed: 'true or false', doc: 'passed on with every save effect' }),
  // a string here: Lightning's own check (lightningIssues) names a wrong mode in its words
  mode: option({ codec: t.string, camel: 'mode', default: 'min' as 'min' | 'max', allowed: 'a string', doc: '"min" or "max": which end of the monitor is best', value: (m: string) => m as 'min' | 'max' }),
  auto_insert_metric_name: option({ codec: t.boolean, camel: 'autoInsertMetricName', default: true, allowed: 'true or false', doc: 'write "{val_loss}" as "val_loss={val_loss}"' }),
  every_n_train_steps: option({ codec: Nullable(Int), camel: 'everyNTrainSteps', default: null, allowed: 'an integer or null', doc: 'a save decision every n optimizer steps' }),
  train_time_interval: option({
    codec: Nullable(TimedeltaInput),
    camel: 'trainTimeInterval',
    default: null as number | null,
    allowed: 'a number of seconds, {days, hours, minutes, seconds, milliseconds, microseconds}, or null',
    doc: 'a save decision when this much time has passed (seconds, kept to the microsecond like timedelta)',
    value: (v: TimedeltaInput | null) => (v === null ? null : timedeltaMicros(v) / 1e6),
  }),
  every_n_epochs: option({ codec: Nullable(Int), camel: 'everyNEpochs', default: null, allowed: 'an integer or null', doc: 'a save decision every n epochs (the default trigger: 1)' }),
  save_on_train_epoch_end: option({ codec: Nullable(t.boolean), camel: 'saveOnTrainEpochEnd', default: null, allowed: 'true, false or null', doc: 'decide at the train epoch end instead of after validation (None: from the loop)' }),
  enable_version_counter: option({ codec: t.boolean, camel: 'enableVersionCounter', default: true, allowed: 'true or false', doc: 'a taken name gets -v1, -v2, … instead of being overwritten' }),
  CHECKPOINT_JOIN_CHAR: option({ codec: t.string, camel: 'checkpointJoinChar', default: '-', allowed: 'a string', doc: 'joins the parts of a name' }),
  CHECKPOINT_EQUALS_CHAR: option({ codec: t.string, camel: 'checkpointEqualsChar', default: '=', allowed: 'a string', doc: 'between an inserted metric name and its value' }),
  CHECKPOINT_NAME_LAST: option({ codec: t.string, camel: 'checkpointNameLast', default: 'last', allowed: 'a string', doc: 'template of the last checkpoint' }),
  FILE_EXTENSION: option({ codec: t.string, camel: 'fileExtension', default: '.ckpt', allowed: 'a string', doc: 'extension of every checkpoint name' }),
  STARTING_VERSION: option({ codec: Int, camel: 'startingVersion', default: 1, allowed: 'an integer', doc: 'first number of the version counter' }),
  keep_latest: option({ codec: Nullable(PositiveInt), camel: 'keepLatest', default: null, allowed: 'a positive integer or null', doc: 'also keep the n newest checkpoints (ckpt-policy)' }),
  keep_every_n_steps: option({ codec: Nullable(PositiveInt), camel: 'keepEveryNSteps', default: null, allowed: 'a positive integer or null', doc: 'also keep every checkpoint whose global step is a multiple of n (ckpt-policy)' }),
  keep_every_n_seconds: option({ codec: Nullable(PositiveNumber), camel: 'keepEveryNSeconds', default: null, allowed: 'a positive number of seconds or null', doc: 'also keep one checkpoint per n seconds of training time (ckpt-policy)' }),
  keep_steps: option({ codec: Nullable(t.array(t.refinement(Int, (n) => n >= 0, 'a non-negative integer'))), camel: 'keepSteps', default: null as number[] | null, allowed: 'a list of non-negative integers or null', doc: 'also keep the checkpoints of these global steps (ckpt-policy)' }),
  tie_break: option({ codec: t.keyof({ first: null, latest: null }), camel: 'tieBreak', default: 'first' as 'first' | 'latest', allowed: '"first" or "latest"', doc: 'equal scores: the first kept wins (Lightning) or the latest displaces it (ckpt-policy)' }),
};
type Options = typeof OPTIONS;
type OptionName = keyof Options;
export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];
/** Lightning's own options (the rest are ckpt-policy's extension). */
export const LIGHTNING_OPTION_NAMES: readonly OptionName[] = OPTION_NAMES.slice(0, OPTION_NAMES.indexOf('STARTING_VERSION') + 1);

/** What a caller may write: every option optional, under either name. */
export type CheckpointOptions = {
  [K in OptionName as K | Options[K]['camel']]?: t.TypeOf<Options[K]['codec']>;
};

/** The options after defaults, in camelCase; `trainTimeInterval` in seconds (microsecond-rounded like timedelta). */
export type PolicyConfig = {
  readonly [K in OptionName as Options[K]['camel']]: Options[K]['default'];
};

/** Lightning 2.6's defaults (and the extension's: off). */
export const DEFAULTS: PolicyConfig = Object.fromEntries(OPTION_NAMES.map((n) => [OPTIONS[n].camel, OPTIONS[n].default])) as PolicyConfig;

/** True when the config uses ckpt-policy's composable retention (any keep_* option or tie_break='latest'). */
export function isComposed(c: PolicyConfig): boolean {
  return c.keepLatest !== null || c.keepEveryNSteps !== null || c.keepEveryNSeconds !== null || c.keepSteps !== null;
}

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
  SNAKE_BY_NAME.set(OPTIONS[n].camel, n);
}

function suggestion(key: string): string {
  return didYouMean(key, [...SNAKE_BY_NAME.keys()]);
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
    const decoded = OPTIONS[name].codec.decode(value);
    if (E.isLeft(decoded)) {
      issues.push({ field: key, value, allowed: OPTIONS[name].allowed, message: `${key}=${show(value)} is not allowed: expected ${OPTIONS[name].allowed}` });
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
    // A '/' typed in the template is a chosen subfolder; a '/' fill character pads the value
    // with folder separators, so the folders depend on the value's width ('epoch=///0', 'epoch=//10').
    const slashFill = /\{[^{}:]*:\/[<>=^][^{}]*\}/.exec(template);
    if (slashFill) {
      issues.push({
        field,
        value: template,
        allowed: "a fill character other than '/' (a '/' written in the template itself makes a subfolder)",
        message: `${field}=${pyStrRepr(template)} pads ${slashFill[0]} with '/', which would create subfolders that depend on the value's width (as ${pyStrRepr(rendered[0]!)}); use another fill character, such as {epoch:0>4}`,
      });
    }
  };
  check('filename', c.filename || '{epoch}' + c.checkpointJoinChar + '{step}');
  check('CHECKPOINT_NAME_LAST', c.checkpointNameLast || c.filename || '{epoch}' + c.checkpointJoinChar + '{step}');
  return issues;
}

function withDefaults(opts: Partial<Record<OptionName, unknown>>): PolicyConfig {
  const out: Record<string, unknown> = {};
  for (const n of OPTION_NAMES) {
    const row = OPTIONS[n] as { camel: string; default: unknown; value?: (v: unknown) => unknown };
    const v = opts[n];
    // null means "not set" for every option whose default is not null (as Python's None would be refused by Lightning's own checks)
    out[row.camel] = v === undefined || (v === null && row.default !== null) ? row.default : row.value ? row.value(v) : v;
  }
  return out as PolicyConfig;
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
    for (const n of OPTION_NAMES) out[n] = c[OPTIONS[n].camel];
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

