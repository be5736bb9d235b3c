/**
 * Replays the transformers conformance traces (test/fixtures/conformance/transformers-5.1.0): each
 * phase's arguments through `resolveArgs`/`init`, each record's facts through `reduce`, effects
 * carried out on a small model of the filesystem (directory mtimes as POSIX keeps them), and every
 * decision compared: resolved arguments and errors, control flags, new-best results, ops in order
 * (save, sort, rmtree, load with times), TrainerState after every record, files after each phase.
 */
import { isDeepStrictEqual } from 'node:util';
import { resolveArgs } from './args.ts';
import { listingKey, type FileEntry } from './files.ts';
import { init } from './reduce.ts';
import { settle } from './settle.ts';
import type { HfEffect, HfEvent, TrainerStateFile } from './types.ts';

const ROOT = '<root>';

type Json = any; // trace records are checked field by field below

/** The working directory as a mutable model: path → entry, mtimes set as POSIX does. */
class World {
  readonly entries = new Map<string, { kind: 'dir' | 'file'; mtime: number }>();
  readonly states = new Map<string, TrainerStateFile>();
  constructor(readonly frozen: number | null) {}
  listing(): FileEntry[] {
    return [...this.entries].map(([path, e]) => (e.kind === 'dir' ? { path, kind: e.kind, mtime: e.mtime } : { path, kind: e.kind }));
  }
  /** a frozen filesystem reports one mtime for whatever it writes (pre-existing folders keep theirs) */
  private stamp(t: number): number {
    return this.frozen ?? t;
  }
  private touchParent(p: string, t: number): void {
    const i = p.lastIndexOf('/');
    if (i < 0) return;
    const parent = this.entries.get(p.slice(0, i));
    if (parent) parent.mtime = this.stamp(t);
  }
  /** os.makedirs: the folders it created, outermost first */
  mkdirs(p: string, t: number): string[] {
    const parts = p.split('/');
    const created: string[] = [];
    for (let i = 1; i <= parts.length; i++) {
      const q = parts.slice(0, i).join('/');
      if (this.entries.has(q)) continue;
      this.entries.set(q, { kind: 'dir', mtime: this.stamp(t) });
      this.touchParent(q, t);
      created.push(q);
    }
    return created;
  }
  writeFile(p: string, t: number): void {
    if (this.entries.has(p)) return; // overwriting changes no directory mtime
    this.entries.set(p, { kind: 'file', mtime: this.stamp(t) });
    this.touchParent(p, t);
  }
  rmtree(p: string, t: number): boolean {
    if (!this.entries.has(p)) return false;
    for (const k of [...this.entries.keys()]) if (k === p || k.startsWith(p + '/')) this.entries.delete(k);
    for (const k of [...this.states.keys()]) if (k.startsWith(p + '/')) this.states.delete(k);
    this.touchParent(p, t);
    return true;
  }
  filesAfter(): Json[] {
    return [...this.entries]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, e]) => (e.kind === 'dir' ? { path, kind: 'dir', mtime: e.mtime } : { path, kind: 'file' }));
  }
}

const rel = (p: string): string => listingKey(p, ROOT);
const show = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
const num = (v: unknown): unknown => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);
const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b) || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));

class Difference extends Error {}
function expectSame(what: string, ours: unknown, theirs: unknown): void {
  if (!isDeepStrictEqual(JSON.parse(show(ours) ?? 'null'), JSON.parse(show(theirs) ?? 'null'))) throw new Difference(`${what}:\n  ours:         ${show(ours)}\n  transformers: ${show(theirs)}`);
}

/** The trace record's TrainerState, read as transformers would read the checkpoint's trainer_state.json. */
function stateFromRecord(rec: Json, legacy: boolean): TrainerStateFile {
  const st = rec.state ?? {};
  return {
    global_step: rec.global_step,
    epoch: rec.epoch,
    best_metric: num(st.best_metric) as number | null,
    best_global_step: st.best_global_step ?? null,
    best_model_checkpoint: st.best_model_checkpoint ?? null,
    logging_steps: rec.plan.logging_steps,
    eval_steps: rec.plan.eval_steps,
    save_steps: rec.plan.save_steps,
    ...(legacy ? {} : { stateful_callbacks: { TrainerControl: { args: {}, attributes: {} } } }),
  };
}

/** Replay one scenario; null when every decision agrees, else the first difference. */
export function replayTransformersScenario(sc: Json): string | null {
  try {
    replay(sc);
    return null;
  } catch (e) {
    if (e instanceof Difference) return e.message;
    throw e;
  }
}

function replay(sc: Json): void {
  const frozen = sc.filesystem?.mtime === 'frozen' ? (sc.filesystem.frozen_value as number) : null;
  const world = new World(frozen);
  for (const p of sc.preexisting ?? []) {
    world.entries.set(p.path, { kind: p.kind, mtime: p.mtime ?? 0 });
  }
  // preexisting trainer_state.json files are described only by the record that reads them
  const legacy = /legacy trainer_state\.json/.test(sc.description ?? '');
  sc.phases.forEach((ph: Json, i: number) => {
    const where = (s: string) => `phase ${i}: ${s}`;
    const r = resolveArgs(ph.args);
    if (!r.ok) {
      expectSame(where('TrainingArguments error'), r.issues[0]!.transformers ?? { message: r.issues[0]!.message }, ph.args_error);
      return;
    }
    expectSame(where('TrainingArguments error'), null, ph.args_error);
    expectSame(where('resolved arguments'), r.value.args, ph.resolved_args);
    const es = (ph.callbacks ?? []).find((c: Json) => c.name === 'EarlyStoppingCallback');
    const initTime = ph.init?.ops?.[0]?.time ?? ph.events?.[0]?.time ?? 0;
    let [state, fx] = init(r.value.args, {
      cwd: ROOT,
      files: world.listing(),
      trainBatches: ph.data?.train_batches ?? 1,
      hasEvalDataset: ph.data?.eval_samples != null,
      earlyStopping: es ? { patience: es.kwargs.early_stopping_patience ?? 1, threshold: es.kwargs.early_stopping_threshold ?? 0 } : null,
    });
    const initOps: Json[] = [];
    let initError: Json = null;
    for (const f of fx) {
      if (f.type === 'mkdir') {
        for (const q of world.mkdirs(rel(f.path), initTime)) initOps.push({ op: 'mkdir', path: q, time: initTime });
      } else if (f.type === 'error') initError = { type: f.errorType, message: f.message };
    }
    expectSame(where('Trainer(...) error'), initError, ph.init_error);
    expectSame(where('Trainer(...) ops'), initOps, ph.init?.ops ?? []);
    if (initError) return;

    let expectedState: Json = null;
    for (const [ri, rec] of (ph.events as Json[]).entries()) {
      const at = (s: string) => where(`record ${ri} (${rec.event}, global_step ${rec.global_step}): ${s}`);
      const out = { ops: [] as Json[], control: null as string[] | null, newBest: undefined as boolean | undefined, evaluated: false, error: null as Json };
      let saveIndex = 0;
      let saveTime = rec.time;
      const saveOps = (rec.ops as Json[]).filter((o) => o.op === 'save');
      // run one event and the effects it leads to, answering each request as the world does
      const run = (ev: HfEvent): void => {
        // carryOut reads the state each effect came from
        state = settle(state, ev, (f, now) => ((state = now), carryOut(f)));
      };
      let pendingSave: Json = null;
      const carryOut = (f: HfEffect): HfEvent | null => {
        switch (f.type) {
          case 'control':
            out.control = [...f.flags];
            return null;
          case 'evaluate':
            // the eval_on_start evaluation is a record of its own
            if (f.hook === 'start' && rec.event === 'train_begin') return null;
            if (!rec.eval) throw new Difference(at(`we evaluated, transformers did not`));
            out.evaluated = true;
            return { type: 'evaluated', metrics: Object.fromEntries(Object.entries(rec.eval.metrics).map(([k, v]) => [k, num(v) as number])) };
          case 'bestMetric':
            out.newBest = f.newBest;
            return null;
          case 'save': {
            const theirs = saveOps[saveIndex++];
            if (!theirs) throw new Difference(at(`we saved ${rel(f.path)}, transformers did not save`));
            saveTime = theirs.time;
            const p = rel(f.path);
            const blocked = world.entries.get(p)?.kind === 'file';
            pendingSave = { op: 'save', path: p, time: saveTime, files: [] as string[] };
            out.ops.push(pendingSave);
            if (blocked) return { type: 'checkpointSaveFailed', path: f.path, error: { type: 'FileExistsError', message: `[Errno 17] File exists: '${f.path}'` } };
            world.mkdirs(p, saveTime);
            for (const n of f.files) world.writeFile(`${p}/${n}`, saveTime);
            pendingSave.files = [...f.files].sort();
            return { type: 'checkpointSaved', path: f.path, time: saveTime, files: world.listing() };
          }
          case 'writeTrainerState': {
            const p = rel(f.path);
            world.writeFile(p, saveTime);
            world.states.set(p, f.state);
            if (pendingSave) pendingSave.files = [...pendingSave.files, 'trainer_state.json'].sort();
            return null;
          }
          case 'sort':
            out.ops.push({ op: 'sort', use_mtime: f.useMtime, time: saveTime, result: f.result.map(rel) });
            return null;
          case 'remove':
            out.ops.push({ op: 'rmtree', path: rel(f.path), time: saveTime, existed: world.rmtree(rel(f.path), saveTime) });
            return null;
          case 'load':
            out.ops.push({ op: 'load', path: rel(f.path), time: rec.time });
            return null;
          case 'readTrainerState': {
            const p = rel(f.path);
            return { type: 'trainerStateRead', state: world.states.get(p) ?? stateFromRecord(rec, legacy) };
          }
          case 'mkdir':
            for (const q of world.mkdirs(rel(f.path), rec.time)) out.ops.push({ op: 'mkdir', path: q, time: rec.time });
            return null;
          case 'log':
            return null;
          case 'error':
            out.error = { type: f.errorType, message: f.message };
            return null;
          default:
            return assertNever(f);
        }
      };
      const interrupted = ph.outcome === 'interrupted' && ri === ph.events.length - 1 && rec.error;
      switch (rec.event) {
        case 'train_begin':
          run({ type: 'trainBegan', time: rec.time, files: world.listing(), resumeFromCheckpoint: ph.resume_from_checkpoint ?? null });
          break;
        case 'evaluate':
          if (state.waiting !== 'evaluation') throw new Difference(at('transformers evaluated on start, we did not ask for it'));
          run({ type: 'evaluated', metrics: rec.eval.metrics });
          out.evaluated = true;
          break;
        case 'step_end':
          if (interrupted && rec.global_step === state.globalStep) break; // killed inside the step
          run({ type: 'stepEnded', globalStep: rec.global_step, epoch: rec.epoch, time: rec.time });
          break;
        case 'epoch_end':
          run({ type: 'epochEnded', globalStep: rec.global_step, epoch: rec.epoch, time: rec.time });
          break;
        case 'train_end':
          saveTime = rec.time;
          run({ type: 'trainEnded', time: rec.time, files: world.listing() });
          break;
        default:
          throw new Difference(at(`unknown record ${rec.event}`));
      }
      if (rec.control !== undefined) expectSame(at('control'), out.control, rec.control);
      if (rec.event !== 'evaluate') expectSame(at('evaluated'), out.evaluated, rec.eval !== undefined);
      if (rec.event !== 'evaluate') expectSame(at('new_best'), out.newBest, rec.eval?.new_best);
      expectSame(at('ops'), out.ops, rec.ops);
      expectSame(at('error'), out.error, interrupted ? null : rec.error ?? null);
      if (rec.state) expectedState = rec.state;
      expectSame(
        at('state'),
        { best_metric: state.bestMetric, best_global_step: state.bestGlobalStep, best_model_checkpoint: state.bestModelCheckpoint },
        { ...expectedState, best_metric: num(expectedState.best_metric) },
      );
      expectSame(at('global_step, epoch'), [state.globalStep, state.epoch], [rec.global_step, rec.epoch]);
      if (rec.event === 'train_begin' && rec.plan && !rec.error) expectSame(at('plan'), state.plan, { maxSteps: rec.plan.max_steps, numTrainEpochs: rec.plan.num_train_epochs, loggingSteps: rec.plan.logging_steps, evalSteps: rec.plan.eval_steps, saveSteps: rec.plan.save_steps });
      if (out.error) break;
    }
    if (ph.files_after) expectSame(where('files after the phase'), world.filesAfter(), ph.files_after);
  });
}

function assertNever(x: never): never {
  throw new Error(`unhandled effect ${JSON.stringify(x)}`);
}

/** Per scenario of a *.jsonl file: its id and its first difference (null when it passes). */
export function replayTransformersFile(text: string, file: string): Array<{ readonly id: string; readonly failure: string | null }> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      let sc: Json;
      try {
        sc = JSON.parse(line);
      } catch (e) {
        return { id: `${file}:${i + 1}`, failure: `not JSON: ${(e as Error).message}` };
      }
      try {
        return { id: String(sc.id), failure: replayTransformersScenario(sc) };
      } catch (e) {
        return { id: String(sc.id), failure: `replay crashed: ${(e as Error).stack}` };
      }
    });
}
