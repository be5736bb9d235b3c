/**
 * Replays one recorded Orbax scenario through the dialect and reports the first difference:
 * per phase the constructor (error, loaded checkpoints, kept), per call every recorded field
 * (result, error, decision, retention, ops in order, added, kept, in_progress, checkpoints,
 * logs, t_end), and the directory after the process.
 */
import type { DirEntry } from './directory.ts';
import { sortEntries } from './directory.ts';
import { reduce, start, type Call, type CallOutput, type Clock, type ManagerState } from './manager.ts';

interface TracePhase {
  options: Record<string, unknown>;
  directory: string;
  clock: { start: number } & Clock;
  init: Record<string, unknown>;
  events: Array<Record<string, unknown>>;
  end?: Record<string, unknown>;
  files_after: DirEntry[];
}
export interface OrbaxScenario {
  id: string;
  directory: string;
  preexisting: DirEntry[];
  phases: TracePhase[];
}

export function parseOrbaxScenarios(text: string, file: string): OrbaxScenario[] {
  return text
    .split('\n')
    .map((l, i) => [l, i] as const)
    .filter(([l]) => l.trim() !== '')
    .map(([l, i]) => {
      try {
        return JSON.parse(l) as OrbaxScenario;
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not a JSON scenario (${(e as Error).message})`);
      }
    });
}

const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));

/** JSON equality where -0.0 and 0 are the same number (the traces write both). */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const CALL_FIELDS = ['result', 'error', 'decision', 'preservation', 'ops', 'added', 'kept', 'in_progress', 'checkpoints', 'logs', 't_end'] as const;

function compareCall(expected: Record<string, unknown>, got: CallOutput): string | null {
  for (const f of CALL_FIELDS) {
    let want = expected[f];
    let have: unknown = got[f];
    if (f === 'logs') {
      want = want ?? [];
      have = have ?? [];
    }
    if (f === 'checkpoints' && want === undefined) continue;
    if (f === 'result' && want === undefined) continue;
    if (!same(want, have)) return `${f}: expected ${show(want)}, got ${show(have)}`;
  }
  return null;
}

/** The directory as the traces list it: what we can model of each entry. */
function dirView(entries: readonly DirEntry[]): unknown[] {
  return sortEntries(entries)
    .filter((e) => !(e.path === 'ckpt' && entries.some((x) => x.path.startsWith('ckpt/'))))
    .map((e) => ({ path: e.path, kind: e.kind, ...(e.kind === 'dir' ? { files: e.files ?? [] } : {}), ...(e.commit_time !== undefined ? { commit_time: e.commit_time } : {}), ...(e.metrics !== undefined ? { metrics: e.metrics } : {}) }));
}

/** null when the scenario agrees, else where it first differs. */
export function replayOrbaxScenario(s: OrbaxScenario): string | null {
  let entries: DirEntry[] = s.preexisting.map((e) => ({ ...e }));
  let missingLogged = false;
  for (const [pi, p] of s.phases.entries()) {
    const where = `phase ${pi}`;
    const [state0, init] = start({ options: p.options, clock: p.clock, t: p.clock.start, entries, directory: p.directory, missingMetricsLogged: false });
    void missingLogged;
    const wantErr = p.init['error'] as { stage: string; type: string; message: string } | null;
    if (wantErr !== null || init.error !== null) {
      if (!same(wantErr, init.error)) return `${where} init: error: expected ${show(wantErr)}, got ${show(init.error)}`;
      continue;
    }
    for (const f of ['ops', 'kept', 'in_progress', 'checkpoints', 'logs'] as const) {
      const want = p.init[f] ?? (f === 'logs' ? [] : undefined);
      if (!same(want, init[f])) return `${where} init: ${f}: expected ${show(want)}, got ${show(init[f])}`;
    }
    let state: ManagerState = state0!;
    const calls = [...p.events, ...(p.end ? [p.end] : [])];
    for (const [i, e] of calls.entries()) {
      const call = { ...e } as unknown as Call;
      const [next, out] = reduce(state, call);
      state = next;
      const diff = compareCall(e, out);
      if (diff !== null) return `${where} call ${i} (${String(e['call'])}${e['step'] !== undefined ? ` step ${String(e['step'])}` : ''}): ${diff}`;
    }
    entries = [...state.entries];
    missingLogged = state.missingMetricsLogged;
    const want = dirView(p.files_after);
    const have = dirView(entries);
    if (!same(want, have)) return `${where} files_after: expected ${show(want)}, got ${show(have)}`;
  }
  return null;
}
