/**
 * Store mode of `ckpt serve --stdio --dialect orbax --store LOCATION`: the sidecar is the JAX
 * loop's CheckpointManager. The loop writes a step's items to files and sends their paths; the
 * sidecar decides (Orbax's rules), writes the step's folder in the store, commits it, and deletes
 * what retention removed (src/dialects/orbax/runtime/). One answer per line:
 *
 *   {"type":"init","options":{CheckpointManagerOptions},"fixes":{...}}       → kept, logs
 *   {"call":"save","step":N,"metrics":{...},"force":b,"preempt":b,"items":{"state":"/tmp/x.msgpack"}}
 *   {"call":"should_save"|"delete","step":N}, {"call":"restore","step":N,"to":"/dir"} (writes the items there)
 *   {"call":"all_steps"|"latest_step"|"best_step"|"is_saving_in_progress"|"wait_until_finished"|"reload"|"close"}
 *
 * Every call may carry `t` (seconds since the epoch) for the manager's clock; without it the
 * sidecar's clock is used. Answers carry `result`, `kept` (all_steps, errors included), Orbax's `logs` and `outputs`
 * (the pure manager's answers this line caused). An item file is read only when the step is written.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as t from 'io-ts';
import type { CheckpointStore } from '../../core/store.ts';
import { StoreError } from '../../core/store.ts';
import { describeCause, LeaseLostError, WriterLeaseError } from '../../runtime/errors.ts';
import type { Call, CallOutput, LogLine } from '../../dialects/orbax/manager.ts';
import { OrbaxCheckpointManager, OrbaxError, OrbaxInputError, type Items } from '../../dialects/orbax/runtime/index.ts';
import { LineError, parseLenient } from '../protocol.ts';
import { DialectError, decodeOrThrow, keysOf, membersByTag, refuseUnknownKeys, type Out } from './dialect.ts';

const Int = t.refinement(t.number, Number.isInteger, 'an integer');
const Seconds = t.refinement(t.number, Number.isFinite, 'a finite time in seconds');
const MetricsCodec = t.union([t.record(t.string, t.union([t.number, t.string, t.null])), t.null]);
const FilePath = t.refinement(t.string, (s) => s.length > 0, 'a file path');

const StoreCallCodec = t.union([
  t.intersection([
    t.type({ call: t.literal('save'), step: Int }),
    t.partial({ metrics: MetricsCodec, force: t.boolean, preempt: t.boolean, items: t.record(t.string, FilePath), t: Seconds }),
  ]),
  t.intersection([t.type({ call: t.literal('should_save'), step: Int }), t.partial({ preempt: t.boolean, t: Seconds })]),
  t.intersection([t.type({ call: t.literal('delete'), step: Int }), t.partial({ t: Seconds })]),
  t.intersection([t.type({ call: t.literal('restore'), step: Int, to: FilePath }), t.partial({ t: Seconds })]),
  t.intersection([
    t.type({
      call: t.keyof(
        { all_steps: null, latest_step: null, best_step: null, is_saving_in_progress: null, wait_until_finished: null, reload: null, close: null },
        'one of all_steps, latest_step, best_step, is_saving_in_progress, wait_until_finished, reload, close',
      ),
    }),
    t.partial({ t: Seconds }),
  ]),
]);
type StoreCall = t.TypeOf<typeof StoreCallCodec>;
const MEMBERS = membersByTag(StoreCallCodec, 'call');
const CALLS = [...MEMBERS.keys()];
const InitCodec = t.intersection([t.type({ type: t.literal('init') }), t.partial({ options: t.unknown, fixes: t.unknown, t: Seconds })]);

export interface OrbaxStoreOptions {
  readonly openStore: () => Promise<CheckpointStore>;
  readonly takeOver?: boolean;
  readonly ttlMs?: number;
  /** a problem no line can be answered with (the input ended with a write failing) */
  readonly report?: (message: string) => void;
}

/** Serves until the input ends (then closes the manager: in-flight writes commit); returns the lines answered with an error. */
export async function serveOrbaxStore(input: AsyncIterator<string>, write: (o: Out) => void, opts: OrbaxStoreOptions): Promise<number> {
  let store: CheckpointStore | null = null;
  let manager: OrbaxCheckpointManager | null = null;
  let closed = false;
  let lineT: number | undefined;
  let logs: LogLine[] = [];
  let outputs: Array<{ call: string; background?: true; output: CallOutput }> = [];
  const clock = () => lineT ?? Date.now() / 1000;
  let lineNo = 0;
  let errors = 0;

  const init = async (o: Record<string, unknown>): Promise<Out> => {
    refuseUnknownKeys(o, ['type', 'options', 'fixes', 't'], 'init message');
    const m = decodeOrThrow(InitCodec, o, 'init message');
    if (manager !== null || closed) throw new DialectError('order', 'init: the manager is open already (one init per sidecar; close ends it)');
    lineT = m.t;
    store ??= await opts.openStore();
    manager = await OrbaxCheckpointManager.open({
      store,
      options: m.options ?? {},
      fixes: m.fixes,
      now: clock,
      log: (l) => logs.push(l),
      onCall: (c: Call, output, background) => outputs.push({ call: c.call, ...(background ? { background: true as const } : {}), output }),
      ...(opts.takeOver !== undefined ? { takeOver: opts.takeOver } : {}),
      ...(opts.ttlMs !== undefined ? { leaseTtlMs: opts.ttlMs } : {}),
    });
    return { type: 'init', location: store.location, kept: manager.all_steps() };
  };

  const call = async (m: OrbaxCheckpointManager, c: StoreCall): Promise<Out> => {
    lineT = c.t;
    let result: unknown = null;
    const extra: Out = {};
    switch (c.call) {
      case 'save': {
        const items: Record<string, () => Promise<Uint8Array>> = {};
        for (const [name, path] of Object.entries(c.items ?? {})) items[name] = () => readItem(name, path);
        result = await m.save(c.step, items as Items, { ...(c.metrics !== undefined ? { metrics: c.metrics } : {}), ...(c.force !== undefined ? { force: c.force } : {}), ...(c.preempt !== undefined ? { preempt: c.preempt } : {}) });
        break;
      }
      case 'should_save':
        result = await m.should_save(c.step, c.preempt !== undefined ? { preempt: c.preempt } : {});
        break;
      case 'delete':
        await m.delete(c.step);
        break;
      case 'restore': {
        const items = await m.restore(c.step);
        await mkdir(c.to, { recursive: true });
        const files: Record<string, string> = {};
        for (const [name, p] of Object.entries(items)) {
          if (p.kind !== 'bytes') throw new DialectError('shape', `restore: item ${name} of step ${c.step} is not bytes`);
          files[name] = join(c.to, name);
          await writeFile(files[name]!, p.data);
        }
        extra.files = files;
        break;
      }
      case 'all_steps':
        result = m.all_steps();
        break;
      case 'latest_step':
        result = m.latest_step();
        break;
      case 'best_step':
        result = await m.best_step();
        break;
      case 'is_saving_in_progress':
        result = await m.is_saving_in_progress();
        break;
      case 'wait_until_finished':
        await m.wait_until_finished();
        break;
      case 'reload':
        await m.reload();
        break;
      case 'close':
        closed = true;
        manager = null;
        await m.close();
        break;
    }
    return { call: c.call, result, kept: m.all_steps(), ...extra };
  };

  const handle = async (text: string): Promise<Out> => {
    const u = parseLenient(text);
    if (typeof u !== 'object' || u === null || Array.isArray(u)) throw new LineError('shape', `expected a JSON object with call (one of ${CALLS.join(', ')}) or type "init", got ${JSON.stringify(u)}`);
    const o = u as Record<string, unknown>;
    if (o.type === 'init') return init(o);
    const tag = o.call;
    const member = typeof tag === 'string' ? MEMBERS.get(tag) : undefined;
    if (member === undefined) throw new LineError('shape', `call=${JSON.stringify(tag)} is not allowed: expected call (one of ${CALLS.join(', ')}) or type "init"`);
    refuseUnknownKeys(o, keysOf(member), `${String(tag)} call`);
    const c = decodeOrThrow(member, o, `${String(tag)} call`) as StoreCall;
    if (manager === null) throw new DialectError('order', closed ? `${String(tag)} after close: the manager is closed` : `${String(tag)} before init: send {"type":"init","options":{...}} first`);
    return call(manager, c);
  };

  for (;;) {
    const r = await input.next();
    if (r.done) break;
    if (r.value.trim() === '') continue;
    lineNo++;
    logs = [];
    outputs = [];
    let answer: Out;
    try {
      answer = { line: lineNo, ok: true, ...(await handle(r.value)) };
    } catch (e) {
      errors++;
      // the kept steps after a refused call too: a failed save shows that nothing was removed
      const m = manager as OrbaxCheckpointManager | null;
      answer = { line: lineNo, ok: false, error: errorOf(e), ...(m !== null ? { kept: m.all_steps() } : {}) };
    }
    write({ ...answer, logs, outputs });
  }
  // assigned in the handlers above (TypeScript does not follow that)
  const open = manager as OrbaxCheckpointManager | null;
  const opened = store as CheckpointStore | null;
  try {
    await open?.close();
  } catch (e) {
    opts.report?.(`the input ended; closing the manager failed: ${errorOf(e).message}`);
  } finally {
    await opened?.close?.();
  }
  return errors;
}

async function readItem(name: string, path: string): Promise<Uint8Array> {
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  } catch (e) {
    throw new Error(`item ${name}: cannot read ${JSON.stringify(path)} (${describeCause(e)})`);
  }
}

function errorOf(e: unknown): { kind: string; message: string; raised?: { type: string; message: string } } {
  if (e instanceof OrbaxError) return { kind: 'raised', message: e.message, raised: { type: e.type, message: e.pyMessage } };
  if (e instanceof OrbaxInputError) return { kind: 'shape', message: e.message };
  if (e instanceof LineError || e instanceof DialectError) return { kind: e.kind, message: e.message };
  if (e instanceof WriterLeaseError || e instanceof LeaseLostError) return { kind: 'lease', message: e.message };
  if (e instanceof StoreError) return { kind: 'store', message: e.message };
  return { kind: 'internal', message: describeCause(e) };
}
