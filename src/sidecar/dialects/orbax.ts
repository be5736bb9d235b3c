/**
 * Orbax's CheckpointManager behind the sidecar. init: `{"type":"init","options":{CheckpointManagerOptions},
 * "t":now, "entries":[listing], "directory":"ckpt", "root":"/data/run", "clock":{...}, "fixes":{...}}`
 * (all but options and t optional). Inputs: the manager's calls (`call`: save, should_save,
 * wait_until_finished, reload, best_step, latest_step, delete, close, crash) with their time `t`;
 * answers carry the call's `output` (result, decision, preservation, ops, kept, logs, ...).
 *
 * The dialect has no state codec: like Orbax, a restarted manager resumes from the directory, so
 * resume is an init line with the listing in `entries`. The clock defaults to synchronous writes
 * taking no time (`{"save_seconds":0}`): the loop carries out a save's ops before its next call.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { decodeOrbaxOptions } from '../../dialects/orbax/options.ts';
import { decodeFixes } from '../../dialects/orbax/fixes.ts';
import { reduce, start, type Call, type ManagerState } from '../../dialects/orbax/manager.ts';
import { ClockCodec, DirEntryCodec, OrbaxCallCodec } from './orbaxCodecs.ts';
import { DialectError, decodeOrThrow, keysOf, membersByTag, refuseUnknownKeys, type Dialect } from './dialect.ts';

const MEMBERS = membersByTag(OrbaxCallCodec, 'call');
const InitCodec = t.intersection([
  t.type({ t: t.refinement(t.number, Number.isFinite, 'a finite time in seconds') }),
  t.partial({ clock: ClockCodec, entries: t.array(DirEntryCodec), directory: t.string, root: t.string }),
]);

export const orbaxDialect: Dialect<ManagerState> = {
  name: 'orbax',
  tagKey: 'call',
  inputTags: [...MEMBERS.keys()],
  init(line) {
    refuseUnknownKeys(line, ['type', 'options', 't', 'clock', 'entries', 'directory', 'root', 'fixes'], 'init message');
    const options = decodeOrbaxOptions(line.options);
    if (E.isLeft(options)) throw new DialectError('config', options.left.map((i) => i.message).join('; '));
    const fixes = decodeFixes(line.fixes);
    if (E.isLeft(fixes)) throw new DialectError('shape', `init message ${fixes.left}`);
    const m = decodeOrThrow(InitCodec, line, 'init message');
    const [state, out] = start({
      options: line.options,
      clock: m.clock ?? { save_seconds: 0 },
      t: m.t,
      entries: m.entries ?? [],
      fixes: fixes.right,
      ...(m.directory !== undefined ? { directory: m.directory } : {}),
      ...(m.root !== undefined ? { rootLabel: m.root } : {}),
    });
    if (state === null) {
      const e = out.error!;
      throw new DialectError('config', `${e.stage === 'manager' ? 'CheckpointManager' : 'CheckpointManagerOptions'}(...) raised ${e.type}: ${e.message}`, { type: e.type, message: e.message });
    }
    return [state, { output: out }];
  },
  step(state, line) {
    const member = MEMBERS.get(line.call as string)!;
    refuseUnknownKeys(line, keysOf(member), `${line.call as string} call`);
    const call = decodeOrThrow(member, line, `${line.call as string} call`) as Call;
    const [next, output] = reduce(state, call);
    return [next, { output }];
  },
  state: null,
};
