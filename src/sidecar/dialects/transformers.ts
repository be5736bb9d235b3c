/**
 * Hugging Face Trainer behind the sidecar. init: `{"type":"init","options":{TrainingArguments},
 * "setup":{"trainBatches":N,"hasEvalDataset":true,"cwd":"","files":[...],"earlyStopping":{...}},
 * "fixes":{"saveNewBest":true,"limitOneKeepsBest":true}}` (fixes optional, off by default).
 * Inputs: the dialect's events (`type`: trainBegan, trainerStateRead, stepEnded, epochEnded,
 * evaluated, checkpointSaved, checkpointSaveFailed, trainEnded); answers carry `effects` (HfEffect)
 * and `state` (HfStateCodec, plus `fixes` when any is on, so a resumed session keeps them).
 *
 * The reducer trusts its caller to answer each effect that awaits one (readTrainerState, evaluate,
 * save) before the loop goes on; the sidecar checks that order, from the state's `waiting`.
 */
import * as t from 'io-ts';
import { resolveArgs } from '../../dialects/transformers/args.ts';
import * as E from 'fp-ts/lib/Either.js';
import { decodeHfFixes, reduceWithFixes, type HfFixes } from '../../dialects/transformers/fixes.ts';
import { init } from '../../dialects/transformers/reduce.ts';
import { HfStateCodec, type HfEvent, type HfState } from '../../dialects/transformers/types.ts';
import { HfEventCodec, TrainerSetupCodec } from './transformersCodecs.ts';
import { DialectError, decodeOrThrow, keysOf, membersByTag, refuseUnknownKeys, type Dialect } from './dialect.ts';

const MEMBERS = membersByTag(HfEventCodec, 'type');

/** Which events the Trainer can send while the state waits on something. */
const NEXT: { readonly [W in HfState['waiting']]: { readonly events: readonly HfEvent['type'][]; readonly why: string } } = {
  trainBegin: { events: ['trainBegan'], why: 'train() has not begun' },
  trainerState: { events: ['trainerStateRead'], why: 'a readTrainerState effect awaits the trainer_state.json it names (state null when there is none)' },
  none: { events: ['stepEnded', 'epochEnded', 'trainEnded'], why: 'training is under way' },
  evaluation: { events: ['evaluated'], why: 'an evaluate effect awaits the metrics evaluate() returned' },
  save: { events: ['checkpointSaved', 'checkpointSaveFailed'], why: 'a save effect awaits its outcome' },
  ended: { events: [], why: 'training ended (send an init line for a new Trainer)' },
  failed: { events: [], why: 'the Trainer raised (its error effect ends training; send an init line for a new Trainer)' },
};

/** The Trainer's state and the opt-in fixes the init line chose (they apply to every later line). */
export interface TrainerSession {
  readonly hf: HfState;
  readonly fixes: HfFixes;
}

function fixesOf(u: unknown): HfFixes {
  const r = decodeHfFixes(u);
  if (E.isLeft(r)) throw new DialectError('config', r.left);
  return r.right;
}

export const transformersDialect: Dialect<TrainerSession> = {
  name: 'transformers',
  tagKey: 'type',
  inputTags: [...MEMBERS.keys()],
  init(line) {
    refuseUnknownKeys(line, ['type', 'options', 'setup', 'fixes'], 'init message');
    const fixes = fixesOf(line.fixes);
    const r = resolveArgs(line.options);
    if (!r.ok) {
      const first = r.issues.find((i) => i.transformers)?.transformers;
      throw new DialectError('config', r.issues.map((i) => i.message).join('; '), first);
    }
    if (line.setup === undefined) throw new DialectError('shape', 'init message: setup: got undefined, expected {"trainBatches": N, "hasEvalDataset": true|false} (and optionally cwd, files, earlyStopping)');
    const setup = decodeOrThrow(TrainerSetupCodec, line.setup, 'init message setup');
    const [state, effects] = init(r.value.args, { cwd: '', files: [], ...setup });
    const raised = effects.find((e) => e.type === 'error');
    if (raised !== undefined) throw new DialectError('config', `Trainer(...) raised ${raised.errorType}: ${raised.message}`, { type: raised.errorType, message: raised.message });
    return [{ hf: state, fixes }, { effects }];
  },
  step({ hf: state, fixes }, line) {
    const tag = line.type as HfEvent['type'];
    const member = MEMBERS.get(tag)!;
    refuseUnknownKeys(line, keysOf(member), `${tag} event`);
    const event = decodeOrThrow(member, line, `${tag} event`) as HfEvent;
    const next = NEXT[state.waiting];
    if (!next.events.includes(tag)) {
      throw new DialectError('order', `${tag} is not expected now: ${next.why}${next.events.length > 0 ? `; expected ${next.events.join(' or ')}` : ''}`);
    }
    const [s, effects] = reduceWithFixes(state, event, fixes);
    return [{ hf: s, fixes }, { effects }];
  },
  state: {
    encode: ({ hf, fixes }) => {
      const state = HfStateCodec.encode(hf);
      return Object.values(fixes).some(Boolean) ? { ...state, fixes } : state;
    },
    decode: (u) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return { hf: decodeOrThrow(HfStateCodec, u, 'resume message state'), fixes: {} };
      const { fixes, ...state } = u as Record<string, unknown>;
      return { hf: decodeOrThrow(HfStateCodec, state, 'resume message state'), fixes: fixesOf(fixes) };
    },
  },
};
