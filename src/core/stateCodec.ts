/**
 * The policy state as plain JSON and back (io-ts), for resume and for the decision log. Non-finite
 * scores are written as the strings "NaN", "Infinity", "-Infinity" (as in Lightning's traces).
 */
import { t, E, pipe } from './deps.cts';
import { VMap } from './vmap.ts';
import { PolicyConfigCodec, type PolicyConfig } from './config.ts';
import { EMPTY_KEEP, keepSlices } from './rules/keep/members.ts';
import type { FileNode } from './files.ts';
import type { PolicyState } from './state.ts';
import { TrainerCodec } from './events.ts';

/** The trainer facts as the state keeps them (defined with the events that carry them). */
export { TrainerCodec };


export { jsonNumber, JsonNumber, Nullable } from './jsonNumber.ts';
import { JsonNumber, Nullable } from './jsonNumber.ts';

export const STATE_FORMAT = 'ckpt-policy/state@2';
/** The format before rules had slices of their own; still decoded. */
export const STATE_FORMAT_1 = 'ckpt-policy/state@1';

const FileRow = t.union([t.tuple([t.string, t.literal('file')]), t.tuple([t.string, t.literal('dir')]), t.tuple([t.string, t.literal('symlink'), t.string])]);

/** Format 1: Lightning's attributes and the private ones side by side. */
const StateJson1 = t.type({
  format: t.literal(STATE_FORMAT_1),
  config: t.unknown,
  cwd: t.string,
  dirpath: Nullable(t.string),
  best_model_path: t.string,
  best_model_score: Nullable(JsonNumber),
  current_score: Nullable(JsonNumber),
  best_k_models: t.array(t.tuple([t.string, JsonNumber])),
  kth_best_model_path: t.string,
  kth_value: JsonNumber,
  last_model_path: t.string,
  last_global_step_saved: t.number,
  last_checkpoint_saved: t.string,
  defer_save_until_validation: t.boolean,
  last_time_checked: Nullable(t.number),
  trainer: Nullable(TrainerCodec),
  files: t.array(FileRow),
  warned: t.array(t.string),
  extrema_tracked: t.boolean,
});
const Pairs = t.array(t.tuple([t.string, JsonNumber]));

/** Format 2: one slice per rule (src/core/rules), named as the rule modules are. */
const StateJson2 = t.type({
  format: t.literal(STATE_FORMAT),
  config: t.unknown,
  cwd: t.string,
  dirpath: Nullable(t.string),
  trainer: Nullable(TrainerCodec),
  files: t.array(FileRow),
  warned: t.array(t.string),
  rules: t.type({
    /** rules/keep/topK.ts: Lightning's public attributes */
    topK: t.type({
      best_model_path: t.string,
      best_model_score: Nullable(JsonNumber),
      current_score: Nullable(JsonNumber),
      best_k_models: Pairs,
      kth_best_model_path: t.string,
      kth_value: JsonNumber,
      extrema_tracked: t.boolean,
    }),
    /** rules/keep/last.ts */
    last: t.type({ last_model_path: t.string }),
    /** rules/write.ts */
    write: t.type({ last_global_step_saved: JsonNumber, last_checkpoint_saved: t.string }),
    /** rules/save/deferral.ts */
    deferral: t.type({ defer_save_until_validation: t.boolean }),
    /** rules/save/trainTimeInterval.ts */
    trainTimeInterval: t.type({ last_time_checked: Nullable(JsonNumber) }),
    /** rules/keep/members.ts: the keep_* members */
    keep: t.type({
      latest: t.array(t.string),
      every_n_steps: Pairs,
      every_n_seconds: t.type({ kept: Pairs, last_time: Nullable(JsonNumber) }),
      steps: Pairs,
    }),
  }),
});
export type StateJson = t.OutputOf<typeof StateJson2>;
type Json1 = t.TypeOf<typeof StateJson1>;
type Json2 = t.TypeOf<typeof StateJson2>;

export function encodeState(s: PolicyState): StateJson {
  const files: Array<t.TypeOf<typeof FileRow>> = [];
  for (const [path, node] of s.files) files.push(node.kind === 'symlink' ? [path, 'symlink', node.target] : [path, node.kind]);
  return StateJson2.encode({
    format: STATE_FORMAT,
    config: PolicyConfigCodec.encode(s.config),
    cwd: s.cwd,
    dirpath: s.dirpath,
    trainer: s.trainer ? { ...s.trainer, loggers: [...s.trainer.loggers] } : null,
    files,
    warned: [...s.warned],
    rules: {
      topK: {
        best_model_path: s.bestModelPath,
        best_model_score: s.bestModelScore,
        current_score: s.currentScore,
        best_k_models: s.bestKModels.entries(),
        kth_best_model_path: s.kthBestModelPath,
        kth_value: s.kthValue,
        extrema_tracked: s.extremaTracked,
      },
      last: { last_model_path: s.lastModelPath },
      write: { last_global_step_saved: s.lastGlobalStepSaved, last_checkpoint_saved: s.lastCheckpointSaved },
      deferral: { defer_save_until_validation: s.deferSaveUntilValidation },
      trainTimeInterval: { last_time_checked: s.lastTimeChecked },
      keep: {
        latest: [...s.keep.latest.paths],
        every_n_steps: s.keep.everyNSteps.kept.entries(),
        every_n_seconds: { kept: s.keep.everyNSeconds.kept.entries(), last_time: s.keep.everyNSeconds.lastTime },
        steps: s.keep.steps.kept.entries(),
      },
    },
  });
}

const files = (rows: Json1['files']) => VMap.from<FileNode>(rows.map((r) => [r[0], r[1] === 'symlink' ? { kind: 'symlink', target: r[2] } : { kind: r[1] }] as [string, FileNode]));

function fromJson1(j: Json1, config: PolicyConfig): PolicyState {
  return {
    config,
    cwd: j.cwd,
    dirpath: j.dirpath,
    bestModelPath: j.best_model_path,
    bestModelScore: j.best_model_score,
    currentScore: j.current_score,
    bestKModels: VMap.from(j.best_k_models),
    kthBestModelPath: j.kth_best_model_path,
    kthValue: j.kth_value,
    lastModelPath: j.last_model_path,
    lastGlobalStepSaved: j.last_global_step_saved,
    lastCheckpointSaved: j.last_checkpoint_saved,
    deferSaveUntilValidation: j.defer_save_until_validation,
    lastTimeChecked: j.last_time_checked,
    trainer: j.trainer,
    files: files(j.files),
    warned: j.warned,
    extremaTracked: j.extrema_tracked,
    keep: EMPTY_KEEP,
  };
}

function fromJson2(j: Json2, config: PolicyConfig): PolicyState {
  const r = j.rules;
  return {
    config,
    cwd: j.cwd,
    dirpath: j.dirpath,
    bestModelPath: r.topK.best_model_path,
    bestModelScore: r.topK.best_model_score,
    currentScore: r.topK.current_score,
    bestKModels: VMap.from(r.topK.best_k_models),
    kthBestModelPath: r.topK.kth_best_model_path,
    kthValue: r.topK.kth_value,
    lastModelPath: r.last.last_model_path,
    lastGlobalStepSaved: r.write.last_global_step_saved,
    lastCheckpointSaved: r.write.last_checkpoint_saved,
    deferSaveUntilValidation: r.deferral.defer_save_until_validation,
    lastTimeChecked: r.trainTimeInterval.last_time_checked,
    trainer: j.trainer,
    files: files(j.files),
    warned: j.warned,
    extremaTracked: r.topK.extrema_tracked,
    keep: keepSlices(
      { paths: r.keep.latest },
      { kept: VMap.from(r.keep.every_n_steps) },
      { kept: VMap.from(r.keep.every_n_seconds.kept), lastTime: r.keep.every_n_seconds.last_time },
      { kept: VMap.from(r.keep.steps) },
    ),
  };
}

/** Decodes a state written by encodeState (format 2) or by format 1; errors name the field path and the value found. */
export function decodeState(u: unknown): E.Either<string[], PolicyState> {
  const format = typeof u === 'object' && u !== null ? (u as { format?: unknown }).format : undefined;
  const withConfig = <J extends { config: unknown }>(j: J, build: (j: J, c: PolicyConfig) => PolicyState) =>
    pipe(
      PolicyConfigCodec.decode(j.config),
      E.mapLeft((errs) => errs.map((e) => `config: ${e.message ?? 'invalid'}`)),
      E.map((config) => build(j, config)),
    );
  if (format === STATE_FORMAT_1) return pipe(StateJson1.decode(u), E.mapLeft(describeErrors), E.chain((j) => withConfig(j, fromJson1)));
  return pipe(StateJson2.decode(u), E.mapLeft(describeErrors), E.chain((j) => withConfig(j, fromJson2)));
}

/** io-ts reporters pull in an install-time dependency; this is the small formatter we need. */
type Tagged = { readonly _tag?: string; readonly type?: Tagged };
/** t.readonly(x) validates in x's context, so an intersection inside it is told by x's tag. */
const withoutReadonly = (ty: Tagged | undefined): Tagged | undefined => (ty?._tag === 'ReadonlyType' ? withoutReadonly(ty.type) : ty);

export function describeErrors(errors: t.Errors): string[] {
  return errors.map((e) => {
    // keys that only index the members of an intersection or union are not part of the field path
    const path = e.context
      .filter((c, i) => {
        const parent = withoutReadonly(e.context[i - 1]?.type as Tagged | undefined);
        return c.key !== '' && parent?._tag !== 'IntersectionType' && parent?._tag !== 'UnionType';
      })
      .map((c) => c.key)
      .join('.');
    const expected = e.context[e.context.length - 1]?.type.name ?? 'a valid value';
    return `${path || '(root)'}: got ${JSON.stringify(e.value)}, expected ${e.message ?? expected}`;
  });
}

export const StateCodec = new t.Type<PolicyState, StateJson, unknown>(
  'PolicyState',
  (u): u is PolicyState => typeof u === 'object' && u !== null && 'bestKModels' in u,
  (u, c) => pipe(decodeState(u), E.fold((msgs) => t.failures(msgs.map((m) => ({ value: u, context: c, message: m }))), t.success)),
  encodeState,
);
