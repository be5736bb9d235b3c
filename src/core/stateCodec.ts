/**
 * The policy state as plain JSON and back (io-ts), for resume and for the decision log. Non-finite
 * scores are written as the strings "NaN", "Infinity", "-Infinity" (as in Lightning's traces).
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { VMap } from './vmap.ts';
import { PolicyConfigCodec } from './config.ts';
import type { FileNode } from './files.ts';
import type { PolicyState, ResolvedTrainer } from './state.ts';

export const STATE_FORMAT = 'ckpt-policy/state@1';

export { jsonNumber, JsonNumber, Nullable } from './jsonNumber.ts';
import { JsonNumber, Nullable } from './jsonNumber.ts';

/** The trainer facts as the state keeps them (all filled in); events carry any subset. */
export const TrainerCodec = t.type({
  defaultRootDir: t.string,
  loggers: t.array(t.type({ saveDir: Nullable(t.string), name: t.string, version: t.union([t.number, t.string]) })),
  ckptPath: Nullable(t.string),
  fastDevRun: t.union([t.boolean, t.number]),
  stateFn: t.keyof({ fit: null, validate: null, test: null, predict: null }),
  automaticOptimization: t.boolean,
  checkValEveryNEpoch: Nullable(t.number),
  valCheckInterval: Nullable(t.number),
  valCheckTimeInterval: Nullable(t.number),
  enableValidation: t.boolean,
});

const FileRow = t.union([t.tuple([t.string, t.literal('file')]), t.tuple([t.string, t.literal('dir')]), t.tuple([t.string, t.literal('symlink'), t.string])]);

const StateJson = t.type({
  format: t.literal(STATE_FORMAT),
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
export type StateJson = t.OutputOf<typeof StateJson>;

export function encodeState(s: PolicyState): StateJson {
  const files: Array<t.TypeOf<typeof FileRow>> = [];
  for (const [path, node] of s.files) files.push(node.kind === 'symlink' ? [path, 'symlink', node.target] : [path, node.kind]);
  return StateJson.encode({
    format: STATE_FORMAT,
    config: PolicyConfigCodec.encode(s.config),
    cwd: s.cwd,
    dirpath: s.dirpath,
    best_model_path: s.bestModelPath,
    best_model_score: s.bestModelScore,
    current_score: s.currentScore,
    best_k_models: s.bestKModels.entries(),
    kth_best_model_path: s.kthBestModelPath,
    kth_value: s.kthValue,
    last_model_path: s.lastModelPath,
    last_global_step_saved: s.lastGlobalStepSaved,
    last_checkpoint_saved: s.lastCheckpointSaved,
    defer_save_until_validation: s.deferSaveUntilValidation,
    last_time_checked: s.lastTimeChecked,
    trainer: s.trainer ? { ...s.trainer, loggers: [...s.trainer.loggers] } : null,
    files,
    warned: [...s.warned],
    extrema_tracked: s.extremaTracked,
  });
}

/** Decodes a state written by encodeState; errors name the field path and the value found. */
export function decodeState(u: unknown): E.Either<string[], PolicyState> {
  return pipe(
    StateJson.decode(u),
    E.mapLeft(describeErrors),
    E.chain((j) =>
      pipe(
        PolicyConfigCodec.decode(j.config),
        E.mapLeft((errs) => errs.map((e) => `config: ${e.message ?? 'invalid'}`)),
        E.map(
          (config): PolicyState => ({
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
            trainer: j.trainer as ResolvedTrainer | null,
            files: VMap.from<FileNode>(j.files.map((r) => [r[0], r[1] === 'symlink' ? { kind: 'symlink', target: r[2] } : { kind: r[1] }] as [string, FileNode])),
            warned: j.warned,
            extremaTracked: j.extrema_tracked,
          }),
        ),
      ),
    ),
  );
}

/** io-ts reporters pull in an install-time dependency; this is the small formatter we need. */
export function describeErrors(errors: t.Errors): string[] {
  return errors.map((e) => {
    // keys that only index the members of an intersection or union are not part of the field path
    const path = e.context
      .filter((c, i) => {
        const parent = e.context[i - 1]?.type as { _tag?: string } | undefined;
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
