/**
 * JSON lines of loop events in the project's own format (src/events.ts), one LoopEvent per line.
 * Non-finite numbers are the strings "NaN", "Infinity" and "-Infinity". Each line is decoded with
 * an error that names the line and the field.
 */
import { createReadStream, statSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { LightningStateDict, LoopEvent, LoopView, TrainerFacts, LoggerFacts } from '../events.ts';
import type { FileEntry } from '../files.ts';
import { handleBad, SourceError, type BadInputPolicy, type ProgressFn } from './records.ts';

/** A decoding problem inside one event: the field path and what was expected there. */
export interface EventIssue {
  readonly field: string;
  readonly problem: string;
}

type D<T> = E.Either<EventIssue, T>;
type Obj = Record<string, unknown>;

const fail = <T>(field: string, problem: string): D<T> => E.left({ field, problem });
const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/** A number, or one of the strings JSON cannot otherwise carry. */
function num(v: unknown, field: string): D<number> {
  if (typeof v === 'number') return E.right(v);
  if (v === 'NaN') return E.right(NaN);
  if (v === 'Infinity') return E.right(Infinity);
  if (v === '-Infinity') return E.right(-Infinity);
  return fail(field, `expected a number (or "NaN", "Infinity", "-Infinity"), got ${show(v)}`);
}

function count(v: unknown, field: string): D<number> {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? E.right(v) : fail(field, `expected a non-negative integer, got ${show(v)}`);
}

function obj(v: unknown, field: string): D<Obj> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? E.right(v as Obj) : fail(field, `expected an object, got ${show(v)}`);
}

function bool(v: unknown, field: string): D<boolean> {
  return typeof v === 'boolean' ? E.right(v) : fail(field, `expected true or false, got ${show(v)}`);
}

function str(v: unknown, field: string): D<string> {
  return typeof v === 'string' ? E.right(v) : fail(field, `expected a string, got ${show(v)}`);
}

/** Runs decoders for the optional keys that are present; the first problem wins. */
function optional<T extends Obj>(o: Obj, base: string, spec: { [K in keyof T]: (v: unknown, field: string) => D<T[K]> }): D<Partial<T>> {
  const out: Partial<T> = {};
  for (const key of Object.keys(spec) as (keyof T & string)[]) {
    if (!(key in o) || o[key] === undefined) continue;
    const r = spec[key](o[key], `${base}.${key}`);
    if (E.isLeft(r)) return r;
    out[key] = r.right;
  }
  return E.right(out);
}

function metrics(v: unknown, field: string): D<Record<string, number>> {
  const o = obj(v, field);
  if (E.isLeft(o)) return o;
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(o.right)) {
    const n = num(x, `${field}.${k}`);
    if (E.isLeft(n)) return n;
    out[k] = n.right;
  }
  return E.right(out);
}

const orNull =
  <T>(d: (v: unknown, f: string) => D<T>) =>
  (v: unknown, f: string): D<T | null> =>
    v === null ? E.right(null) : d(v, f);

function view(v: unknown, field: string): D<LoopView> {
  const o = obj(v, field);
  if (E.isLeft(o)) return o;
  const epoch = count(o.right.epoch, `${field}.epoch`);
  if (E.isLeft(epoch)) return epoch;
  const globalStep = count(o.right.globalStep, `${field}.globalStep`);
  if (E.isLeft(globalStep)) return globalStep;
  const rest = optional<{ time: number; sanityChecking: boolean; isLastBatch: boolean; valLoopHasRun: boolean; numValBatches: number[]; metrics: Record<string, number> }>(o.right, field, {
    time: num,
    sanityChecking: bool,
    isLastBatch: bool,
    valLoopHasRun: bool,
    numValBatches: (x, f) => (Array.isArray(x) ? sequence(x.map((y, i) => count(y, `${f}[${i}]`))) : fail(f, `expected a list of integers, got ${show(x)}`)),
    metrics,
  });
  if (E.isLeft(rest)) return rest;
  return E.right({ epoch: epoch.right, globalStep: globalStep.right, ...rest.right });
}

function sequence<T>(xs: D<T>[]): D<T[]> {
  const out: T[] = [];
  for (const x of xs) {
    if (E.isLeft(x)) return x;
    out.push(x.right);
  }
  return E.right(out);
}

function logger(v: unknown, field: string): D<LoggerFacts> {
  const o = obj(v, field);
  if (E.isLeft(o)) return o;
  const saveDir = orNull(str)(o.right.saveDir ?? null, `${field}.saveDir`);
  if (E.isLeft(saveDir)) return saveDir;
  const name = str(o.right.name, `${field}.name`);
  if (E.isLeft(name)) return name;
  const version = o.right.version;
  if (typeof version !== 'string' && !(typeof version === 'number' && Number.isInteger(version))) return fail(`${field}.version`, `expected an integer or a string, got ${show(version)}`);
  return E.right({ saveDir: saveDir.right, name: name.right, version });
}

function trainer(v: unknown, field: string): D<TrainerFacts> {
  const o = obj(v, field);
  if (E.isLeft(o)) return o;
  const stateFns = ['fit', 'validate', 'test', 'predict'] as const;
  return optional<{ [K in keyof TrainerFacts]-?: NonNullable<TrainerFacts[K]> | null }>(o.right, field, {
    defaultRootDir: str,
    loggers: (x, f) => (Array.isArray(x) ? sequence(x.map((y, i) => logger(y, `${f}[${i}]`))) : fail(f, `expected a list of loggers, got ${show(x)}`)),
    ckptPath: orNull(str),
    fastDevRun: (x, f) => (typeof x === 'boolean' || (typeof x === 'number' && Number.isInteger(x)) ? E.right(x) : fail(f, `expected true, false or an integer, got ${show(x)}`)),
    stateFn: (x, f) => ((stateFns as readonly unknown[]).includes(x) ? E.right(x as (typeof stateFns)[number]) : fail(f, `expected one of ${stateFns.join(', ')}, got ${show(x)}`)),
    automaticOptimization: bool,
    checkValEveryNEpoch: orNull(count),
    valCheckInterval: orNull(num),
    valCheckTimeInterval: orNull(num),
    enableValidation: bool,
  }) as D<TrainerFacts>;
}

function files(v: unknown, field: string): D<FileEntry[]> {
  if (!Array.isArray(v)) return fail(field, `expected a list of {path, kind, target?}, got ${show(v)}`);
  const out: FileEntry[] = [];
  for (let i = 0; i < v.length; i++) {
    const f = `${field}[${i}]`;
    const o = obj(v[i], f);
    if (E.isLeft(o)) return o;
    const path = str(o.right.path, `${f}.path`);
    if (E.isLeft(path)) return path;
    const kind = o.right.kind;
    if (kind !== 'file' && kind !== 'dir' && kind !== 'symlink') return fail(`${f}.kind`, `expected "file", "dir" or "symlink", got ${show(kind)}`);
    const target = o.right.target;
    if (target !== undefined && typeof target !== 'string') return fail(`${f}.target`, `expected a string, got ${show(target)}`);
    out.push(target === undefined ? { path: path.right, kind } : { path: path.right, kind, target });
  }
  return E.right(out);
}

function stateDict(v: unknown, field: string): D<LightningStateDict> {
  const o = obj(v, field);
  if (E.isLeft(o)) return o;
  const bestPath = str(o.right.best_model_path, `${field}.best_model_path`);
  if (E.isLeft(bestPath)) return bestPath;
  const bestScore = orNull(num)(o.right.best_model_score ?? null, `${field}.best_model_score`);
  if (E.isLeft(bestScore)) return bestScore;
  const rest = optional<{ monitor: string | null; current_score: number | null; dirpath: string | null; kth_best_model_path: string; kth_value: number; last_model_path: string; best_k_models: Array<[string, number]> }>(o.right, field, {
    monitor: orNull(str),
    current_score: orNull(num),
    dirpath: orNull(str),
    kth_best_model_path: str,
    kth_value: num,
    last_model_path: str,
    best_k_models: (x, f) => {
      const entries = Array.isArray(x) ? x : typeof x === 'object' && x !== null ? Object.entries(x) : null;
      if (entries === null) return fail(f, `expected a list of [path, score] pairs or a {path: score} object, got ${show(x)}`);
      const out: Array<[string, number]> = [];
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string') return fail(`${f}[${i}]`, `expected a [path, score] pair, got ${show(e)}`);
        const s = num(e[1], `${f}[${i}][1]`);
        if (E.isLeft(s)) return s;
        out.push([e[0], s.right]);
      }
      return E.right(out);
    },
  });
  if (E.isLeft(rest)) return rest;
  return E.right({ best_model_path: bestPath.right, best_model_score: bestScore.right, ...rest.right });
}

const EVENT_TYPES = ['setup', 'stateLoaded', 'trainStarted', 'trainBatchEnded', 'validationEnded', 'trainEpochEnded', 'trainEnded', 'exceptionRaised', 'filesListed'] as const;

/** Decodes one LoopEvent from parsed JSON. */
export function decodeLoopEvent(v: unknown): D<LoopEvent> {
  const o = obj(v, '(event)');
  if (E.isLeft(o)) return o;
  const x = o.right;
  const type = x.type;
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    return fail('type', `expected one of ${EVENT_TYPES.join(', ')}, got ${show(type)}`);
  }
  const t = type as (typeof EVENT_TYPES)[number];
  switch (t) {
    case 'setup': {
      const rest = optional<{ stage: 'fit' | 'validate' | 'test' | 'predict'; trainer: TrainerFacts; files: FileEntry[]; view: LoopView }>(x, 'setup', {
        stage: (s, f) => (s === 'fit' || s === 'validate' || s === 'test' || s === 'predict' ? E.right(s) : fail(f, `expected fit, validate, test or predict, got ${show(s)}`)),
        trainer,
        files,
        view,
      });
      if (E.isLeft(rest)) return rest;
      return E.right({ type: 'setup', ...rest.right });
    }
    case 'stateLoaded': {
      const sd = stateDict(x.stateDict, 'stateDict');
      if (E.isLeft(sd)) return sd;
      const rest = optional<{ view: LoopView }>(x, 'stateLoaded', { view });
      if (E.isLeft(rest)) return rest;
      return E.right({ type: 'stateLoaded', stateDict: sd.right, ...rest.right });
    }
    case 'filesListed': {
      const fs = files(x.files, 'files');
      if (E.isLeft(fs)) return fs;
      return E.right({ type: 'filesListed', files: fs.right });
    }
    case 'exceptionRaised': {
      const ex = obj(x.exception, 'exception');
      if (E.isLeft(ex)) return ex;
      const et = str(ex.right.type, 'exception.type');
      if (E.isLeft(et)) return et;
      const em = str(ex.right.message ?? '', 'exception.message');
      if (E.isLeft(em)) return em;
      const vw = view(x.view, 'view');
      if (E.isLeft(vw)) return vw;
      return E.right({ type: 'exceptionRaised', exception: { type: et.right, message: em.right }, view: vw.right });
    }
    case 'trainBatchEnded': {
      const vw = view(x.view, 'view');
      if (E.isLeft(vw)) return vw;
      if (x.batchIdx !== undefined) {
        const b = count(x.batchIdx, 'batchIdx');
        if (E.isLeft(b)) return b;
        return E.right({ type: 'trainBatchEnded', batchIdx: b.right, view: vw.right });
      }
      return E.right({ type: 'trainBatchEnded', view: vw.right });
    }
    case 'trainStarted':
    case 'validationEnded':
    case 'trainEpochEnded':
    case 'trainEnded': {
      const vw = view(x.view, 'view');
      if (E.isLeft(vw)) return vw;
      return E.right({ type: t, view: vw.right });
    }
    default:
      return assertNever(t);
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected event type ${String(x)}`);
}

export interface JsonlReadOptions {
  readonly bad?: BadInputPolicy;
  readonly progress?: ProgressFn;
}

/** A decoded event and the line it came from. */
export interface LineEvent {
  readonly event: LoopEvent;
  readonly line: number;
}

/** Reads a JSONL file of loop events, a batch per chunk read. Blank lines are skipped. */
export async function* readJsonlEvents(file: string, opts: JsonlReadOptions = {}): AsyncGenerator<LineEvent[]> {
  let total = 0;
  try {
    total = statSync(file).size;
  } catch {
    total = 0;
  }
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 });
  let rest = '';
  let line = 0;
  let bytes = 0;
  const decodeLine = (text: string, out: LineEvent[]) => {
    line++;
    const t = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (t.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch (e) {
      handleBad(opts.bad, new SourceError({ file, line }, null, `not valid JSON (${(e as Error).message})`));
      return;
    }
    const r = decodeLoopEvent(parsed);
    if (E.isLeft(r)) handleBad(opts.bad, new SourceError({ file, line }, r.left.field, r.left.problem));
    else out.push({ event: r.right, line });
  };
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      bytes += Buffer.byteLength(chunk, 'utf8');
      const text = rest + chunk;
      const parts = text.split('\n');
      rest = parts.pop()!;
      const out: LineEvent[] = [];
      for (const p of parts) decodeLine(p, out);
      if (out.length > 0) yield out;
      opts.progress?.(bytes, total);
    }
    const out: LineEvent[] = [];
    if (rest !== '') decodeLine(rest, out);
    if (out.length > 0) yield out;
  } finally {
    stream.destroy();
  }
}

/** Writes one event as a JSON line, with non-finite numbers as strings. */
export function encodeLoopEvent(e: LoopEvent): string {
  return JSON.stringify(e, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v));
}
