/**
 * transformers' `TrainingArguments`, the checkpoint-related part: an io-ts codec in transformers' own
 * names (snake_case, as in Python, JSON or YAML) or camelCase, transformers 5.1's defaults, and
 * `__post_init__`'s derivations and validation with its error texts (same order: the first problem
 * transformers raises is the one reported as `transformers`). Options outside this list are refused as
 * not supported rather than silently ignored.
 */
import * as t from 'io-ts';
import { didYouMean } from '../../core/didYouMean.ts';
import { pyFloatRepr, pyStrListRepr } from '../../core/format/pyformat.ts';

// ---- shape ---------------------------------------------------------------------------------

const Int = t.refinement(t.number, Number.isInteger, 'integer');

export const IntervalStrategyCodec = t.keyof({ no: null, steps: null, epoch: null });
export type IntervalStrategy = t.TypeOf<typeof IntervalStrategyCodec>;
export const SaveStrategyCodec = t.keyof({ no: null, steps: null, epoch: null, best: null });
export type SaveStrategy = t.TypeOf<typeof SaveStrategyCodec>;

/** Each option by transformers' name, with the type transformers accepts (strategies are checked later, with its texts). */
const OPTION_CODECS = {
  output_dir: t.union([t.string, t.null]),
  save_strategy: t.string,
  save_steps: t.number,
  save_total_limit: t.union([Int, t.null]),
  save_only_model: t.boolean,
  eval_strategy: t.string,
  eval_steps: t.union([t.number, t.null]),
  eval_delay: t.number,
  eval_on_start: t.boolean,
  logging_strategy: t.string,
  logging_steps: t.number,
  logging_first_step: t.boolean,
  load_best_model_at_end: t.boolean,
  metric_for_best_model: t.union([t.string, t.null]),
  greater_is_better: t.union([t.boolean, t.null]),
  num_train_epochs: t.number,
  max_steps: Int,
  per_device_train_batch_size: Int,
  per_device_eval_batch_size: Int,
  gradient_accumulation_steps: Int,
  ignore_data_skip: t.boolean,
  restore_callback_states_from_checkpoint: t.boolean,
  disable_tqdm: t.union([t.boolean, t.null]),
  learning_rate: t.number,
  do_eval: t.boolean,
} as const;
export type ArgName = keyof typeof OPTION_CODECS;
export const ARG_NAMES = Object.keys(OPTION_CODECS) as ArgName[];

const camel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** What a caller may write: every option optional, under transformers' name or its camelCase. */
export type TrainingArgumentsInput = {
  [K in ArgName as K | CamelName<K>]?: t.TypeOf<(typeof OPTION_CODECS)[K]>;
};
type CamelName<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelName<T>>}` : S;

/** Transformers 5.1's defaults (dataclass field defaults, before `__post_init__`). */
export const ARG_DEFAULTS = {
  output_dir: null as string | null,
  save_strategy: 'steps',
  save_steps: 500,
  save_total_limit: null as number | null,
  save_only_model: false,
  eval_strategy: 'no',
  eval_steps: null as number | null,
  eval_delay: 0,
  eval_on_start: false,
  logging_strategy: 'steps',
  logging_steps: 500,
  logging_first_step: false,
  load_best_model_at_end: false,
  metric_for_best_model: null as string | null,
  greater_is_better: null as boolean | null,
  num_train_epochs: 3.0,
  max_steps: -1,
  per_device_train_batch_size: 8,
  per_device_eval_batch_size: 8,
  gradient_accumulation_steps: 1,
  ignore_data_skip: false,
  restore_callback_states_from_checkpoint: false,
  disable_tqdm: null as boolean | null,
  learning_rate: 5e-5,
  do_eval: false,
};

/** The arguments after `__post_init__`, in transformers' names (as `resolved_args` in the traces). */
export const ResolvedArgsCodec = t.type({
  output_dir: t.string,
  save_strategy: SaveStrategyCodec,
  save_steps: t.number,
  save_total_limit: t.union([t.number, t.null]),
  save_only_model: t.boolean,
  eval_strategy: IntervalStrategyCodec,
  eval_steps: t.union([t.number, t.null]),
  eval_delay: t.number,
  eval_on_start: t.boolean,
  logging_strategy: IntervalStrategyCodec,
  logging_steps: t.number,
  logging_first_step: t.boolean,
  load_best_model_at_end: t.boolean,
  metric_for_best_model: t.union([t.string, t.null]),
  greater_is_better: t.union([t.boolean, t.null]),
  num_train_epochs: t.number,
  max_steps: t.number,
  per_device_train_batch_size: t.number,
  per_device_eval_batch_size: t.number,
  gradient_accumulation_steps: t.number,
  ignore_data_skip: t.boolean,
  restore_callback_states_from_checkpoint: t.boolean,
  disable_tqdm: t.boolean,
  learning_rate: t.number,
  do_eval: t.boolean,
});
export type ResolvedArgs = t.TypeOf<typeof ResolvedArgsCodec>;

// ---- errors --------------------------------------------------------------------------------

/** One problem; `transformers` is what transformers itself raises for it, when it does. */
export interface ArgsIssue {
  readonly field: string;
  readonly value: unknown;
  readonly allowed: string;
  readonly message: string;
  readonly transformers?: { readonly type: string; readonly message: string };
}

export class TrainingArgumentsError extends Error {
  constructor(readonly issues: readonly ArgsIssue[]) {
    super(issues.map((i) => i.message).join('\n'));
    this.name = 'TrainingArgumentsError';
  }
  /** The exception transformers raises first, if any. */
  get transformers(): { readonly type: string; readonly message: string } | undefined {
    return this.issues.find((i) => i.transformers)?.transformers;
  }
}

const show = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v) ?? String(v));

/** str() of a Python number as it would have been passed (integers from JSON are ints). */
export const pyNum = (v: number): string => (Number.isInteger(v) ? String(v) : pyFloatRepr(v));

const ENUM_CLASS = { eval_strategy: 'IntervalStrategy', logging_strategy: 'IntervalStrategy', save_strategy: 'SaveStrategy' } as const;
/** str(IntervalStrategy.STEPS) in Python: the class and member name. */
export const enumStr = (field: keyof typeof ENUM_CLASS, v: string): string => `${ENUM_CLASS[field]}.${v.toUpperCase()}`;

function allowedText(name: ArgName): string {
  const c = OPTION_CODECS[name];
  if (c === Int) return 'an integer';
  if (c === t.number) return 'a number';
  if (c === t.boolean) return 'true or false';
  if (c === t.string) return 'a string';
  // unions: '(integer | null)' reads 'an integer or null'
  return c.name.replace(/^\(|\)$/g, '').replace(/ \| /g, ' or ').replace(/^(integer|number|string|boolean)/, (w) => (w === 'integer' ? 'an integer' : `a ${w}`));
}

// ---- decoding ------------------------------------------------------------------------------

const NAME_BY_KEY = new Map<string, ArgName>();
for (const n of ARG_NAMES) {
  NAME_BY_KEY.set(n, n);
  NAME_BY_KEY.set(camel(n), n);
}

/** Read the options as given: unknown keys and wrong types, every one reported. */
function decodeShape(input: unknown): { args: Record<ArgName, unknown>; issues: ArgsIssue[] } {
  const issues: ArgsIssue[] = [];
  const args: Record<string, unknown> = { ...ARG_DEFAULTS };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    issues.push({ field: '(arguments)', value: input, allowed: 'an object of TrainingArguments options', message: `TrainingArguments: expected an object of options, got ${show(input)}` });
    return { args: args as Record<ArgName, unknown>, issues };
  }
  const seen = new Map<ArgName, string>();
  for (const [key, value] of Object.entries(input)) {
    const name = NAME_BY_KEY.get(key);
    if (name === undefined) {
      issues.push({
        field: key,
        value,
        allowed: `one of ${ARG_NAMES.join(', ')}`,
        message: `TrainingArguments: ${key} is not supported here${didYouMean(key, [...NAME_BY_KEY.keys()])}; supported options: ${ARG_NAMES.join(', ')}`,
      });
      continue;
    }
    const other = seen.get(name);
    if (other !== undefined) {
      issues.push({ field: key, value, allowed: 'one spelling per option', message: `TrainingArguments: ${key} and ${other} are the same option; give it once` });
      continue;
    }
    seen.set(name, key);
    if (value === undefined) continue;
    if (!OPTION_CODECS[name].is(value)) {
      issues.push({ field: name, value, allowed: allowedText(name), message: `TrainingArguments: ${name} must be ${allowedText(name)}, got ${show(value)}` });
      continue;
    }
    args[name] = value;
  }
  return { args: args as Record<ArgName, unknown>, issues };
}

/** Messages `TrainingArguments(...)` logs on the way (transformers' logger, info level). */
export interface ResolvedWithNotes {
  readonly args: ResolvedArgs;
  readonly messages: readonly { readonly level: 'info'; readonly message: string }[];
}

/**
 * `TrainingArguments(**input)`: defaults, `__post_init__`'s derivations and its validation. Returns the
 * resolved values or every problem (the first transformers-raised one first).
 */
export function resolveArgs(input: unknown): { ok: true; value: ResolvedWithNotes } | { ok: false; issues: ArgsIssue[] } {
  const { args: a, issues } = decodeShape(input);
  if (issues.length > 0) return { ok: false, issues };
  const messages: { level: 'info'; message: string }[] = [];
  const raise = (field: ArgName, allowed: string, type: string, message: string) => ({
    ok: false as const,
    issues: [{ field, value: a[field], allowed, message: `TrainingArguments: ${message}`, transformers: { type, message } }],
  });

  const outputDir = (a.output_dir as string | null) ?? 'trainer_output';
  if (a.output_dir === null) messages.push({ level: 'info', message: "No output directory specified, defaulting to 'trainer_output'. To change this behavior, specify --output_dir when creating TrainingArguments." });

  // enum conversions, in transformers' order (ExplicitEnum._missing_'s text)
  for (const field of ['eval_strategy', 'logging_strategy', 'save_strategy'] as const) {
    const codec = field === 'save_strategy' ? SaveStrategyCodec : IntervalStrategyCodec;
    const v = a[field] as string;
    if (!codec.is(v)) {
      const values = Object.keys(codec.keys);
      return raise(field, `one of ${values.join(', ')}`, 'ValueError', `${v} is not a valid ${ENUM_CLASS[field]}, please select one of ${pyStrListRepr(values)}`);
    }
  }
  const evalStrategy = a.eval_strategy as IntervalStrategy;
  const loggingStrategy = a.logging_strategy as IntervalStrategy;
  const saveStrategy = a.save_strategy as SaveStrategy;
  const doEval = (a.do_eval as boolean) || evalStrategy !== 'no';

  let evalSteps = a.eval_steps as number | null;
  let loggingSteps = a.logging_steps as number;
  let saveSteps = a.save_steps as number;
  if (evalStrategy === 'steps' && (evalSteps === null || evalSteps === 0)) {
    if (loggingSteps > 0) {
      messages.push({ level: 'info', message: `using \`logging_steps\` to initialize \`eval_steps\` to ${pyNum(loggingSteps)}` });
      evalSteps = loggingSteps;
    } else {
      return raise('eval_steps', 'a non-zero number of steps (or a non-zero logging_steps)', 'ValueError', `evaluation strategy ${enumStr('eval_strategy', evalStrategy)} requires either non-zero --eval_steps or --logging_steps`);
    }
  }
  const loadBest = a.load_best_model_at_end as boolean;
  let metric = a.metric_for_best_model as string | null;
  if (loadBest && metric === null) metric = 'loss';
  let greater = a.greater_is_better as boolean | null;
  if (greater === null && metric !== null) greater = !metric.endsWith('loss');

  // _validate_args
  if (loggingStrategy === 'steps' && loggingSteps === 0)
    return raise('logging_steps', 'a non-zero number with logging_strategy "steps"', 'ValueError', `logging strategy ${enumStr('logging_strategy', loggingStrategy)} requires non-zero --logging_steps`);
  if (loggingStrategy === 'steps' && loggingSteps > 1) {
    if (!Number.isInteger(loggingSteps)) return raise('logging_steps', 'an integer, or a ratio below 1', 'ValueError', `--logging_steps must be an integer if bigger than 1: ${pyNum(loggingSteps)}`);
    loggingSteps = Math.trunc(loggingSteps);
  }
  if (evalStrategy === 'steps' && evalSteps! > 1) {
    if (!Number.isInteger(evalSteps)) return raise('eval_steps', 'an integer, or a ratio below 1', 'ValueError', `--eval_steps must be an integer if bigger than 1: ${pyNum(evalSteps!)}`);
  }
  if (saveStrategy === 'steps' && saveSteps > 1) {
    if (!Number.isInteger(saveSteps)) return raise('save_steps', 'an integer, or a ratio below 1', 'ValueError', `--save_steps must be an integer if bigger than 1: ${pyNum(saveSteps)}`);
  }
  if (loadBest && saveStrategy !== 'best') {
    if (evalStrategy !== saveStrategy)
      return raise(
        'load_best_model_at_end',
        'eval_strategy equal to save_strategy (or save_strategy "best")',
        'ValueError',
        `--load_best_model_at_end requires the save and eval strategy to match, but found\n- Evaluation strategy: ${enumStr('eval_strategy', evalStrategy)}\n- Save strategy: ${enumStr('save_strategy', saveStrategy)}`,
      );
    if (evalStrategy === 'steps' && pyMod(saveSteps, evalSteps!) !== 0) {
      const [s, e] = [pyNum(saveSteps), pyNum(evalSteps!)];
      if (evalSteps! < 1 || saveSteps < 1) {
        if (!(evalSteps! < 1 && saveSteps < 1))
          return raise('save_steps', 'a multiple of eval_steps', 'ValueError', `--load_best_model_at_end requires the saving steps to be a multiple of the evaluation steps, which cannot get guaranteed when mixing ratio and absolute steps for save_steps ${s} and eval_steps ${e}.`);
        // transformers compares the ratios scaled by 1e6, as floats
        if (pyMod(saveSteps * 1_000_000, evalSteps! * 1_000_000) !== 0)
          return raise('save_steps', 'a multiple of eval_steps', 'ValueError', `--load_best_model_at_end requires the saving steps to be a multiple of the evaluation steps, but found ${s}, which is not a multiple of ${e}.`);
      } else {
        return raise('save_steps', 'a multiple of eval_steps', 'ValueError', `--load_best_model_at_end requires the saving steps to be a round multiple of the evaluation steps, but found ${s}, which is not a round multiple of ${e}.`);
      }
    }
  }
  return {
    ok: true,
    value: {
      messages,
      args: {
        output_dir: outputDir,
        save_strategy: saveStrategy,
        save_steps: saveSteps,
        save_total_limit: a.save_total_limit as number | null,
        save_only_model: a.save_only_model as boolean,
        eval_strategy: evalStrategy,
        eval_steps: evalSteps,
        eval_delay: a.eval_delay as number,
        eval_on_start: a.eval_on_start as boolean,
        logging_strategy: loggingStrategy,
        logging_steps: loggingSteps,
        logging_first_step: a.logging_first_step as boolean,
        load_best_model_at_end: loadBest,
        metric_for_best_model: metric,
        greater_is_better: greater,
        num_train_epochs: a.num_train_epochs as number,
        max_steps: a.max_steps as number,
        per_device_train_batch_size: a.per_device_train_batch_size as number,
        per_device_eval_batch_size: a.per_device_eval_batch_size as number,
        gradient_accumulation_steps: a.gradient_accumulation_steps as number,
        ignore_data_skip: a.ignore_data_skip as boolean,
        restore_callback_states_from_checkpoint: a.restore_callback_states_from_checkpoint as boolean,
        // transformers' logger reports WARNING by default, so tqdm stays on
        disable_tqdm: (a.disable_tqdm as boolean | null) ?? false,
        learning_rate: a.learning_rate as number,
        do_eval: doEval,
      },
    },
  };
}

/** Python's float %: the result takes the divisor's sign. */
export function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}

/** `TrainingArguments(**input)`, throwing `TrainingArgumentsError` (every issue; transformers' first one named). */
export function parseTrainingArguments(input: TrainingArgumentsInput | unknown): ResolvedArgs {
  const r = resolveArgs(input);
  if (!r.ok) throw new TrainingArgumentsError(r.issues);
  return r.value.args;
}

// ---- Trainer.__init__ ----------------------------------------------------------------------

/** What `Trainer(...)` is given besides the arguments, as far as checkpointing cares. */
export interface TrainerSetup {
  /** an eval_dataset was passed */
  readonly hasEvalDataset: boolean;
}

/** The checks `Trainer.__init__` makes on the arguments, with its texts (null when it accepts them). */
export function trainerInitError(args: ResolvedArgs, setup: TrainerSetup): { readonly type: string; readonly message: string } | null {
  // the metric is checked first (the harness saw both errors at once)
  if ((args.save_strategy === 'best' || args.load_best_model_at_end) && args.metric_for_best_model === null)
    return { type: 'ValueError', message: "`args.metric_for_best_model` must be provided when using 'best' save_strategy or if `args.load_best_model_at_end` is set to `True`." };
  if (args.eval_strategy !== 'no' && !setup.hasEvalDataset)
    return {
      type: 'ValueError',
      message: `You have set \`args.eval_strategy\` to ${enumStr('eval_strategy', args.eval_strategy)} but you didn't pass an \`eval_dataset\` to \`Trainer\`. Either set \`args.eval_strategy\` to \`no\` or pass an \`eval_dataset\`. `,
    };
  return null;
}
