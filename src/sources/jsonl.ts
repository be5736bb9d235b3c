/**
 * JSON lines of loop events in the project's own format (src/events.ts), one LoopEvent per line.
 * Non-finite numbers are the strings "NaN", "Infinity" and "-Infinity". Each line is decoded with
 * an error that names the line and the field.
 */
import { createReadStream, statSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { decodeEvent, encodeEvent } from '../core/eventCodec.ts';
import type { LoopEvent } from '../core/events.ts';
import { handleBad, SourceError, type BadInputPolicy, type ProgressFn } from './records.ts';
import { escapeNonPrinting, headBytes, notTextProblem } from './text.ts';

/** One event from its JSON form (src/eventCodec.ts), the first problem as a field and what was wrong. */
export function decodeLoopEvent(v: unknown): E.Either<{ readonly field: string | null; readonly problem: string }, LoopEvent> {
  return pipe(
    decodeEvent(v),
    E.mapLeft((messages) => {
      const first = messages[0] ?? 'not a loop event';
      const m = /^([^\s:]+): (.*)$/s.exec(first);
      return m ? { field: m[1]!, problem: m[2]! } : { field: null, problem: first };
    }),
  );
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
  const notText = notTextProblem(headBytes(file), 'JSON lines');
  if (notText !== null) throw new SourceError({ file }, null, `${notText}; expected one loop event (JSON) per line`);
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
      handleBad(opts.bad, new SourceError({ file, line }, null, `not valid JSON (${escapeNonPrinting((e as Error).message)})`));
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

/** Writes one event as a JSON line (NaN, infinities and -0 as strings). */
export function encodeLoopEvent(e: LoopEvent): string {
  return JSON.stringify(encodeEvent(e));
}
