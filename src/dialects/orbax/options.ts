/**
 * `CheckpointManagerOptions` as Orbax spells them, from JSON/YAML (snake_case) or TypeScript
 * (camelCase), and Orbax's construction: `__post_init__`'s checks and read-only rewrites, then the
 * manager's own checks, then the default policies built from the legacy fields. Errors carry
 * Orbax's texts and the stage that raised them ("options" or "manager").
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { didYouMean } from '../../core/didYouMean.ts';
import {
  PreservationPolicyCodec,
  SaveDecisionPolicyCodec,
  ShouldSaveFnSpec,
  resolvePreservation,
  resolveSaveDecision,
  type PreservationPolicy,
  type SaveDecisionPolicy,
  type ShouldSaveFn,
} from './policies.ts';

const Int = t.refinement(t.number, Number.isInteger, 'integer');
const OptInt = t.union([Int, t.null]);

/** `best_fn` crosses a JSON file as the metric it looks up: `lambda metrics: metrics[metric]`. */
export const BestFnSpec = t.type({ metric: t.string });

const OPTION_CODECS = {
  save_interval_steps: Int,
  max_to_keep: OptInt,
  keep_time_interval: t.union([t.number, t.null]),
  keep_period: OptInt,
  best_fn: t.union([BestFnSpec, t.null]),
  // any value decodes: Orbax's own check rejects what is not 'min'/'max', with its text
  best_mode: t.unknown,
  keep_checkpoints_without_metrics: t.boolean,
  step_prefix: t.union([t.string, t.null]),
  step_format_fixed_length: OptInt,
  create: t.boolean,
  cleanup_tmp_directories: t.boolean,
  save_on_steps: t.union([t.array(Int), t.null]),
  todelete_subdir: t.union([t.string, t.null]),
  read_only: t.boolean,
  enable_async_checkpointing: t.boolean,
  should_save_fn: t.union([ShouldSaveFnSpec, t.Function, t.null]),
  save_decision_policy: t.union([SaveDecisionPolicyCodec, t.null]),
  preservation_policy: t.union([PreservationPolicyCodec, t.null]),
  prevent_write_metrics: t.boolean,
  enable_should_save_is_saving_in_progress_check: t.boolean,
  lightweight_initialize: t.boolean,
} as const;
type OptionName = keyof typeof OPTION_CODECS;

/** Orbax options this version does not model: named so that a pasted config fails clearly. */
const NOT_SUPPORTED = [
  'step_name_format',
  'single_host_load_and_broadcast',
  'todelete_full_path',
  'enable_background_delete',
  'num_deletion_threads',
  'async_options',
  'multiprocessing_options',
  'file_options',
  'atomicity_options',
  'save_root_metadata',
  'temporary_path_class',
  'enable_per_process_directory_creation',
];

const camel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const BY_NAME = new Map<string, OptionName>();
for (const k of Object.keys(OPTION_CODECS) as OptionName[]) {
  BY_NAME.set(k, k);
  BY_NAME.set(camel(k), k);
}

/** The options as decoded: every field optional, Orbax's names. */
export type OrbaxOptionsInput = { -readonly [K in OptionName]?: K extends 'should_save_fn' ? ShouldSaveFn | null : t.TypeOf<(typeof OPTION_CODECS)[K]> };

export interface OptionIssue {
  readonly field: string;
  readonly message: string;
}

/** Decode options from JSON/YAML or a TypeScript object; both spellings of each name accepted. */
export function decodeOrbaxOptions(input: unknown): E.Either<OptionIssue[], OrbaxOptionsInput> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return E.left([{ field: '(options)', message: `Orbax options must be an object of CheckpointManagerOptions fields, got ${JSON.stringify(input)}` }]);
  const out: Record<string, unknown> = {};
  const issues: OptionIssue[] = [];
  for (const [key, value] of Object.entries(input)) {
    const name = BY_NAME.get(key);
    if (name === undefined) {
      const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      if (NOT_SUPPORTED.includes(snake)) {
        issues.push({ field: key, message: `CheckpointManagerOptions.${snake} is not supported by the Orbax dialect yet (see docs/orbax.md)` });
        continue;
      }
      const hint = didYouMean(key, [...BY_NAME.keys()]);
      issues.push({ field: key, message: `unknown CheckpointManagerOptions field ${JSON.stringify(key)}${hint}` });
      continue;
    }
    if (name in out) {
      issues.push({ field: key, message: `${key} given twice (as ${name} and ${camel(name)})` });
      continue;
    }
    const r = OPTION_CODECS[name].decode(value);
    if (E.isLeft(r)) {
      issues.push({ field: name, message: `${name}: ${JSON.stringify(value)} is not valid (${PathReporter.report(r).slice(0, 1).join('; ')})` });
      continue;
    }
    out[name] = r.right;
  }
  return issues.length > 0 ? E.left(issues) : E.right(out as OrbaxOptionsInput);
}

// ---- construction --------------------------------------------------------------------------

/** A constructor that raised: Orbax's exception, and whether the options or the manager raised it. */
export interface InitError {
  readonly stage: 'options' | 'manager';
  readonly type: string;
  readonly message: string;
}

/** What the manager runs on once constructed. JSON-encodable unless should_save_fn is a function. */
export interface ResolvedOptions {
  readonly saveDecision: SaveDecisionPolicy;
  readonly preservation: PreservationPolicy;
  readonly bestFn: { readonly metric: string } | null;
  readonly bestMode: 'min' | 'max';
  readonly readOnly: boolean;
  readonly create: boolean;
  readonly async: boolean;
  readonly stepPrefix: string | null;
  readonly stepFormatFixedLength: number | null;
  readonly cleanupTmpDirectories: boolean;
  readonly todeleteSubdir: string | null;
  readonly preventWriteMetrics: boolean;
  readonly inProgressCheck: boolean;
  readonly lightweightInitialize: boolean;
}

export interface Constructed {
  readonly resolved: ResolvedOptions;
  /** the warnings `__post_init__` logs, in order */
  readonly warnings: readonly string[];
}

/** Orbax's `CheckpointManagerOptions(...)` then `CheckpointManager(...)` checks. */
export function constructOptions(o: OrbaxOptionsInput): E.Either<InitError, Constructed> {
  const warnings: string[] = [];
  const readOnly = o.read_only ?? false;
  const bestMode = o.best_mode === undefined ? 'max' : o.best_mode;
  if (bestMode !== 'min' && bestMode !== 'max')
    return E.left({ stage: 'options', type: 'ValueError', message: `\`CheckpointManagerOptions.best_mode\` must be one of None, 'min' or 'max'. Got ${pyStr(bestMode)}.` });
  const preservationInput = o.preservation_policy ?? null;
  let maxToKeep = o.max_to_keep ?? null;
  if (preservationInput === null && maxToKeep !== null && maxToKeep < 0)
    return E.left({ stage: 'options', type: 'ValueError', message: 'Setting of `max_to_keep` must be None or non-negative.' });
  let saveInterval = o.save_interval_steps ?? 1;
  let keepTime = o.keep_time_interval ?? null;
  let keepPeriod = o.keep_period ?? null;
  let create = o.create ?? true;
  let cleanup = o.cleanup_tmp_directories ?? false;
  let saveOnSteps = o.save_on_steps ?? null;
  let todelete = o.todelete_subdir ?? null;
  let shouldSaveFn = o.should_save_fn ?? null;
  const rewrite = (cond: boolean, text: string, apply: () => void): void => {
    if (readOnly && cond) {
      apply();
      warnings.push(`CheckpointManagerOptions.read_only=True, setting ${text}.`);
    }
  };
  rewrite(saveInterval > 0, 'save_interval_steps=0', () => (saveInterval = 0));
  rewrite(maxToKeep !== null, 'max_to_keep=None', () => (maxToKeep = null));
  rewrite(keepTime !== null, 'keep_time_interval=None', () => (keepTime = null));
  rewrite(keepPeriod !== null, 'keep_period=None', () => (keepPeriod = null));
  rewrite(create, 'create=False', () => (create = false));
  rewrite(cleanup, 'cleanup_tmp_directories=False', () => (cleanup = false));
  rewrite(saveOnSteps !== null && saveOnSteps.length > 0, 'save_on_steps=None', () => (saveOnSteps = null));
  rewrite(todelete !== null, 'todelete_subdir=None', () => (todelete = null));
  rewrite(shouldSaveFn !== null, 'should_save_fn=None', () => (shouldSaveFn = null));

  // the manager's check tests truthiness: 0 and a zero interval pass silently
  if (preservationInput !== null && ((keepTime !== null && keepTime !== 0) || (maxToKeep !== null && maxToKeep !== 0) || (keepPeriod !== null && keepPeriod !== 0)))
    return E.left({ stage: 'manager', type: 'ValueError', message: '`preservation_policy` and `delete options` are mutually exclusive - do not use together.' });

  const saveDecision: SaveDecisionPolicy = o.save_decision_policy
    ? resolveSaveDecision(o.save_decision_policy)
    : shouldSaveFn !== null
      ? { type: 'AnySavePolicy', policies: [{ type: '_ShouldSaveFnPolicy', fn: shouldSaveFn }, { type: 'PreemptionCheckpointingPolicy' }] }
      : {
          type: 'AnySavePolicy',
          policies: [
            { type: 'FixedIntervalPolicy', interval: saveInterval },
            { type: 'SpecificStepsPolicy', steps: [...new Set(saveOnSteps ?? [])] },
            { type: 'PreemptionCheckpointingPolicy' },
            { type: 'InitialSavePolicy' },
          ],
        };
  const bestFn = o.best_fn ?? null;
  const preservation: PreservationPolicy = preservationInput
    ? resolvePreservation(preservationInput)
    : {
        type: 'AnyPreservationPolicy',
        policies: [
          ...(keepPeriod !== null ? [{ type: 'EveryNSteps' as const, interval_steps: keepPeriod, exact_interval: true, max_to_keep: null }] : []),
          // Orbax: EveryNSeconds(int(total_seconds())) truncates fractional seconds
          ...(keepTime !== null ? [{ type: 'EveryNSeconds' as const, interval_secs: Math.trunc(keepTime) }] : []),
          bestFn !== null
            ? { type: 'BestN' as const, metric: bestFn.metric, reverse: bestMode === 'min', n: maxToKeep, keep_checkpoints_without_metrics: o.keep_checkpoints_without_metrics ?? true }
            : { type: 'LatestN' as const, n: maxToKeep },
        ],
      };
  return E.right({
    warnings,
    resolved: {
      saveDecision,
      preservation,
      bestFn,
      bestMode,
      readOnly,
      create,
      async: o.enable_async_checkpointing ?? true,
      stepPrefix: o.step_prefix ?? null,
      stepFormatFixedLength: o.step_format_fixed_length ?? null,
      cleanupTmpDirectories: cleanup,
      todeleteSubdir: todelete,
      preventWriteMetrics: o.prevent_write_metrics ?? false,
      inProgressCheck: o.enable_should_save_is_saving_in_progress_check ?? true,
      lightweightInitialize: o.lightweight_initialize ?? false,
    },
  });
}

/** Python's str() of a decoded JSON value, for Orbax's `Got {best_mode}.` */
function pyStr(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return JSON.stringify(v);
}
