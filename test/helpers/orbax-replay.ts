/**
 * Replays a recorded Orbax scenario's call stream through the runtime (OrbaxCheckpointManager on a
 * real store) and compares, after every call, its answer and its kept steps with the recorded ones,
 * the committed step folders in the store with the kept steps (sync writes), and at each process end
 * the committed steps and their metrics with the recorded directory. The recorded injected write
 * failures become a store that rejects that step's commit marker.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StoreError, type CheckpointStore, type Payload } from '../../src/core/store.ts';
import { buildName, parseStepName, TMP_SUFFIX, type DirEntry } from '../../src/dialects/orbax/directory.ts';
import { parseOrbaxScenarios, type OrbaxScenario } from '../../src/dialects/orbax/replay.ts';
import { OrbaxCheckpointManager, OrbaxError, MARKER, METRICS_KEY } from '../../src/dialects/orbax/runtime/index.ts';
import { markerText, metricsText, parseMarker, parseMetrics } from '../../src/dialects/orbax/runtime/layout.ts';

export const ORBAX_FIXTURES = fileURLToPath(new URL('../fixtures/conformance/orbax-0.12.4', import.meta.url));

export function loadOrbaxScenarios(): OrbaxScenario[] {
  return readdirSync(ORBAX_FIXTURES)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => parseOrbaxScenarios(readFileSync(join(ORBAX_FIXTURES, f), 'utf8'), f));
}

type Phase = OrbaxScenario['phases'][number];
type Rec = Record<string, unknown>;

/** Why the runtime cannot replay a scenario as recorded, or null when it can. */
export function notReplayable(s: OrbaxScenario): string | null {
  for (const e of s.preexisting) {
    if (!e.path.startsWith(`${s.directory}/`)) continue;
    const name = e.path.slice(s.directory.length + 1);
    if (e.kind === 'dir' && (e.files ?? []).length === 0) return `${e.path}: an empty folder (a store has none)`;
    if (e.kind === 'dir' && !name.includes(TMP_SUFFIX) && e.commit_time === undefined && (e.files ?? []).length > 0 && !name.includes('/')) {
      if (/\d/.test(name)) return `${e.path}: a step folder without a commit time (Orbax falls back to its mtime)`;
    }
  }
  for (const p of s.phases) {
    const async = (p.options['enable_async_checkpointing'] ?? true) !== false;
    if (!('save_seconds' in p.clock)) {
      if (p.events.some((e) => e['fail_write'] !== undefined)) return 'an async write failure is raised by the runtime at the next call, not by the save';
      if (p.end?.['call'] === 'crash') return 'a crash with a real async write in flight: the runtime cannot stop it';
    }
    const modelled = 'save_seconds' in p.clock ? p.clock.save_seconds > 0 : p.clock.async_blocking_seconds > 0 || p.clock.async_write_seconds > 0;
    if (modelled && readsClock(p.options)) return 'a clock-reading policy under modelled write durations (the runtime writes in real time)';
    if (modelled && p.events.some((e) => e['call'] === 'reload')) return 'a reload during a modelled in-flight write (the runtime\'s write has finished)';
    void async;
  }
  return null;
}

/** Options whose decisions depend on how long writes take: time-based retention, continuous checkpointing. */
function readsClock(o: Rec): boolean {
  const text = JSON.stringify(o);
  return (o['keep_time_interval'] ?? null) !== null || /"(EveryNSeconds|LatestDuration|ContinuousCheckpointingPolicy)"/.test(text);
}

const enc = new TextEncoder();
const bytes = (s: string): Payload => ({ kind: 'bytes', data: enc.encode(s) });

/** The scenario's pre-existing entries as store keys: committed steps get the commit marker. */
export async function seed(store: CheckpointStore, s: OrbaxScenario): Promise<void> {
  for (const e of s.preexisting) {
    if (!e.path.startsWith(`${s.directory}/`)) continue;
    const key = e.path.slice(s.directory.length + 1);
    if (e.kind === 'file') {
      await store.save(key, bytes(e.text ?? ''));
      continue;
    }
    for (const f of e.files ?? []) {
      if (f === MARKER || f === METRICS_KEY) continue;
      await store.save(`${key}/${f}`, bytes('placeholder'));
    }
    if (e.metrics !== undefined && e.metrics !== null) await store.save(`${key}/${METRICS_KEY}`, bytes(metricsText(e.metrics)));
    if (e.metrics_text !== undefined) await store.save(`${key}/${METRICS_KEY}`, bytes(e.metrics_text));
    if (e.commit_time !== undefined && (e.files ?? []).includes(MARKER)) await store.save(`${key}/${MARKER}`, bytes(markerText(e.init_time ?? e.commit_time, e.commit_time, [])));
  }
}

/** A store whose next save under `prefix` rejects (the recorded `fail_write`). */
export function failingStore(inner: CheckpointStore): CheckpointStore & { failNext(key: string, message: string): void } {
  let fail: { key: string; message: string } | null = null;
  return {
    kind: inner.kind,
    location: inner.location,
    supportsSymlinks: inner.supportsSymlinks,
    ...(inner.lease !== undefined ? { lease: inner.lease } : {}),
    failNext(key, message) {
      fail = { key, message };
    },
    async save(key, payload) {
      if (fail !== null && key === fail.key) {
        const m = fail.message;
        fail = null;
        throw new StoreError('io', key, m);
      }
      return inner.save(key, payload);
    },
    remove: (k) => inner.remove(k),
    link: (a, b) => inner.link(a, b),
    exists: (k) => inner.exists(k),
    list: (p) => inner.list(p),
    read: (k) => inner.read(k),
  };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The top-level folders of the store that hold a commit marker. */
export async function committedNames(store: CheckpointStore): Promise<string[]> {
  return (await store.list()).filter((e) => e.key.endsWith(`/${MARKER}`) && e.key.indexOf('/') === e.key.length - MARKER.length - 1).map((e) => e.key.slice(0, -MARKER.length - 1));
}

/** Committed steps in the store under a phase's name format, with their metrics. */
export async function committed(store: CheckpointStore, p: Phase): Promise<Map<number, unknown>> {
  const fmt = { prefix: (p.options['step_prefix'] as string | undefined) ?? null, fixedLength: (p.options['step_format_fixed_length'] as number | undefined) ?? null };
  const out = new Map<number, unknown>();
  for (const e of await store.list()) {
    if (!e.key.endsWith(`/${MARKER}`)) continue;
    const name = e.key.slice(0, -MARKER.length - 1);
    if (name.includes('/')) continue;
    const step = parseStepName(fmt, name);
    const m = parseMarker(new TextDecoder().decode(((await store.read(e.key)) as { data: Uint8Array }).data));
    if (step === null || m === null) continue;
    const mk = `${name}/${METRICS_KEY}`;
    out.set(step, (await store.exists(mk)) ? parseMetrics(new TextDecoder().decode(((await store.read(mk)) as { data: Uint8Array }).data)) : null);
  }
  return out;
}

function recordedCommitted(files: readonly DirEntry[], p: Phase, dir: string): Map<number, unknown> {
  const fmt = { prefix: (p.options['step_prefix'] as string | undefined) ?? null, fixedLength: (p.options['step_format_fixed_length'] as number | undefined) ?? null };
  const out = new Map<number, unknown>();
  for (const e of files) {
    if (e.kind !== 'dir' || !e.path.startsWith(`${dir}/`) || e.commit_time === undefined) continue;
    const step = parseStepName(fmt, e.path.slice(dir.length + 1));
    if (step !== null) out.set(step, e.metrics ?? null);
  }
  return out;
}

const sorted = (m: Map<number, unknown>) => [...m.entries()].sort((a, b) => a[0] - b[0]);

/**
 * null when the runtime agrees with the recording at every call, else the first difference.
 * `openStore` gives the same store again for each phase (a restart rereads it).
 */
export async function replayThroughRuntime(s: OrbaxScenario, store: CheckpointStore): Promise<string | null> {
  const fs = failingStore(store);
  await seed(store, s);
  for (const [pi, p] of s.phases.entries()) {
    const where = `${s.id} phase ${pi}`;
    let t = p.clock.start;
    const sync = 'save_seconds' in p.clock;
    let m: OrbaxCheckpointManager;
    try {
      m = await OrbaxCheckpointManager.open({ store: fs, options: p.options, now: () => t, log: () => undefined, takeOver: true });
    } catch (e) {
      const want = p.init['error'] as { type: string } | null;
      if (want === null) return `${where} init: raised ${String(e)}`;
      const type = e instanceof OrbaxError ? e.type : (e as Error).name;
      if (want.type !== type && !(want.type === 'OptionsError')) return `${where} init: expected ${want.type}, raised ${String(e)}`;
      continue;
    }
    if (p.init['error'] !== null) return `${where} init: expected ${JSON.stringify(p.init['error'])}, opened`;
    if (!same(m.all_steps(), p.init['kept'])) return `${where} init: kept ${JSON.stringify(m.all_steps())}, recorded ${JSON.stringify(p.init['kept'])}`;
    const fmt = { prefix: (p.options['step_prefix'] as string | undefined) ?? null, fixedLength: (p.options['step_format_fixed_length'] as number | undefined) ?? null };
    const calls: Rec[] = [...p.events, ...(p.end ? [p.end] : [])];
    for (const [i, e] of calls.entries()) {
      t = e['t'] as number;
      const call = e['call'] as string;
      const label = `${where} call ${i} (${call}${e['step'] !== undefined ? ` ${String(e['step'])}` : ''})`;
      if (e['fail_write'] !== undefined) fs.failNext(`${buildName(fmt, e['step'] as number)}/${MARKER}`, e['fail_write'] as string);
      let result: unknown = null;
      let error: string | undefined;
      try {
        switch (call) {
          case 'save':
            result = await m.save(e['step'] as number, { default: new Uint8Array([1, 2, 3]) }, { metrics: e['metrics'] as never, force: e['force'] === true, preempt: e['preempt'] === true });
            break;
          case 'should_save':
            result = await m.should_save(e['step'] as number, { preempt: e['preempt'] === true });
            break;
          case 'best_step':
            result = await m.best_step();
            break;
          case 'latest_step':
            result = m.latest_step();
            break;
          case 'delete':
            await m.delete(e['step'] as number);
            break;
          case 'reload':
            await m.reload();
            break;
          case 'wait_until_finished':
            await m.wait_until_finished();
            break;
          case 'close':
            await m.close();
            break;
          case 'crash':
            break;
          default:
            return `${label}: unknown call`;
        }
      } catch (x) {
        if (!(x instanceof OrbaxError)) return `${label}: raised ${String(x)}`;
        error = x.type;
      }
      const wantErr = (e['error'] as { type: string } | undefined)?.type;
      if (wantErr !== error) return `${label}: error ${String(error)}, recorded ${String(wantErr)}`;
      if (e['result'] !== undefined && wantErr === undefined && !same(result, e['result'])) return `${label}: result ${JSON.stringify(result)}, recorded ${JSON.stringify(e['result'])}`;
      if (call !== 'close' && call !== 'crash' && !same(m.all_steps(), e['kept'])) return `${label}: kept ${JSON.stringify(m.all_steps())}, recorded ${JSON.stringify(e['kept'])}`;
      if (sync && call !== 'crash') {
        // every kept step is committed in the store, and no other step of the format is
        const kept = new Set((e['kept'] as number[]).map((x) => buildName(fmt, x)));
        const disk = (await committedNames(store)).filter((n) => kept.has(n) || parseStepName(fmt, n) !== null).sort();
        if (!same(disk, [...kept].sort())) return `${label}: committed in the store ${JSON.stringify(disk)}, kept ${JSON.stringify([...kept].sort())}`;
      }
    }
    const want = sorted(recordedCommitted(p.files_after, p, s.directory));
    const have = sorted(await committed(store, p));
    if (!same(have, want)) return `${where} end: committed ${JSON.stringify(have)}, recorded ${JSON.stringify(want)}`;
  }
  return null;
}
