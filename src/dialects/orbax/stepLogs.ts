/**
 * Logs of steps with metrics for `simulateOrbaxSteps`: a JSONL file of `{step, time?, metrics}` lines,
 * or a TensorBoard event file read by the project's reader (src/sources/tfevents.ts). Lines of the
 * same step in a row are one step (train and eval metrics are often logged apart); a step going
 * backwards is an error naming the line, because a resumed run's log must be cut at the resume first.
 */
import { open } from 'node:fs/promises';
import { readTfeventsLog, decodeEvent } from '../../sources/tfevents.ts';
import { readFrames } from '../../sources/tfrecord.ts';
import type { OrbaxStep } from './simulate.ts';

/** A malformed log: where, which field, what value, what is allowed. */
export class StepLogError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly field: string | null,
    readonly problem: string,
  ) {
    super(`${file}${line !== null ? `:${line}` : ''}: ${field !== null ? `${field}: ` : ''}${problem}`);
    this.name = 'StepLogError';
  }
}

/** Longest JSONL line read (a log line is a few hundred bytes; this bounds memory on a file without newlines). */
export const MAX_LINE_BYTES = 1 << 20;

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** Appends a step, merging it into the previous one when the step repeats. */
function push(out: OrbaxStep[], s: OrbaxStep, file: string, line: number | null): void {
  const last = out[out.length - 1];
  if (last !== undefined && s.step < last.step) throw new StepLogError(file, line, 'step', `${s.step} after step ${last.step}: steps must not decrease (cut a resumed run's log at the resume)`);
  if (last !== undefined && s.step === last.step) {
    const time = s.time ?? last.time;
    out[out.length - 1] = { step: s.step, ...(time !== undefined ? { time } : {}), metrics: { ...last.metrics, ...s.metrics } };
    return;
  }
  out.push(s);
}

function parseLine(text: string, file: string, line: number): OrbaxStep {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new StepLogError(file, line, null, `not JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new StepLogError(file, line, null, `expected an object {step, time?, metrics}, got ${text.slice(0, 80)}`);
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== 'step' && k !== 'time' && k !== 'metrics');
  if (extra.length > 0) throw new StepLogError(file, line, extra[0]!, `unknown field; allowed: step, time, metrics`);
  if (!Number.isSafeInteger(o['step'])) throw new StepLogError(file, line, 'step', `${JSON.stringify(o['step'])} is not valid: expected an integer`);
  const time = o['time'];
  if (time !== undefined && time !== null && (typeof time !== 'number' || !Number.isFinite(time))) throw new StepLogError(file, line, 'time', `${JSON.stringify(time)} is not valid: expected seconds as a finite number or null`);
  const m = o['metrics'] ?? {};
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new StepLogError(file, line, 'metrics', `${JSON.stringify(m)} is not valid: expected an object of numbers`);
  const metrics: Record<string, number> = {};
  for (const [k, x] of Object.entries(m)) {
    if (typeof x === 'number') metrics[k] = x;
    else if (typeof x === 'string' && x in NON_FINITE) metrics[k] = NON_FINITE[x]!;
    else throw new StepLogError(file, line, `metrics.${k}`, `${JSON.stringify(x)} is not valid: expected a number (or "NaN", "Infinity", "-Infinity")`);
  }
  return { step: o['step'] as number, ...(typeof time === 'number' ? { time } : {}), metrics };
}

/** Reads a JSONL file of `{step, time?, metrics}` lines; blank lines are skipped. */
export async function readOrbaxStepsJsonl(file: string): Promise<OrbaxStep[]> {
  const out: OrbaxStep[] = [];
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new StepLogError(file, null, null, `cannot be read (${e.code ?? e.message})`);
  });
  try {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const buf = Buffer.alloc(1 << 16);
    let pending = '';
    let line = 0;
    const take = (text: string) => {
      line++;
      if (text.trim() !== '') push(out, parseLine(text, file, line), file, line);
    };
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      let chunk: string;
      try {
        chunk = decoder.decode(buf.subarray(0, bytesRead), { stream: bytesRead > 0 });
      } catch {
        throw new StepLogError(file, line + 1, null, 'not UTF-8 text');
      }
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        take(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
      if (pending.length > MAX_LINE_BYTES) throw new StepLogError(file, line + 1, null, `line longer than ${MAX_LINE_BYTES} bytes: not a log of steps`);
      if (bytesRead === 0) break;
    }
    if (pending.trim() !== '') take(pending);
  } finally {
    await fh.close();
  }
  return out;
}

/**
 * Reads a TensorBoard event file: the scalars of each step as its metrics (the reader's grouping,
 * `epoch` left out), and as its time the latest wall time of that step's scalar events.
 */
export async function readOrbaxStepsTfevents(file: string): Promise<OrbaxStep[]> {
  const byStep: OrbaxStep[] = [];
  for await (const batch of readTfeventsLog(file)) for (const r of batch) push(byStep, { step: r.step, metrics: Object.fromEntries(r.metrics) }, file, r.origin.record ?? null);
  // wall times: a second streaming pass over the same frames (the records above do not carry them)
  const times = new Map<number, number>();
  for await (const frames of readFrames(file))
    for (const f of frames) {
      if (f.kind !== 'record') continue;
      let ev: ReturnType<typeof decodeEvent>;
      try {
        ev = decodeEvent(f.data);
      } catch {
        continue; // the first pass already reported or skipped it
      }
      if (ev.scalars.length > 0 && ev.wallTime > 0) times.set(ev.step, Math.max(times.get(ev.step) ?? 0, ev.wallTime));
    }
  return byStep.map((s) => (times.has(s.step) ? { ...s, time: times.get(s.step)! } : s));
}
