/**
 * Reading a decision log back: lines in order (streamed from a file, or from bytes fetched from a
 * bucket), each parsed, decoded and checked against the hash chain. Problems are values naming
 * the record (line) number, the field, what was expected and what was found; a last line without
 * its newline is a torn write, reported apart from tampering.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { sha256Hex, unsealLine } from './canonical.ts';
import { decodeRecord, LOG_FORMATS, type LogRecord } from './format.ts';
import { escapeNonPrinting, quoteText } from '../sources/text.ts';

export type LogSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'bytes'; readonly name: string; readonly data: Uint8Array };

export function sourceName(s: LogSource): string {
  return s.kind === 'file' ? s.path : s.name;
}

export interface RawLine {
  readonly line: number;
  readonly text: string;
  /** false for a last line with no newline after it */
  readonly terminated: boolean;
}

/** The lines of a source, streamed in 1 MiB reads (a log can outgrow memory). */
export function* readLines(source: LogSource): Generator<RawLine> {
  let line = 0;
  let carry: Buffer = Buffer.alloc(0);
  const emit = function* (buf: Buffer): Generator<RawLine> {
    let from = 0;
    for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, from)) {
      yield { line: ++line, text: buf.subarray(from, i).toString('utf8'), terminated: true };
      from = i + 1;
    }
    carry = Buffer.from(buf.subarray(from));
  };
  if (source.kind === 'bytes') {
    yield* emit(Buffer.from(source.data.buffer, source.data.byteOffset, source.data.byteLength));
  } else {
    const fd = openSync(source.path, 'r');
    try {
      const chunk = Buffer.alloc(1 << 20);
      for (let got = readSync(fd, chunk); got > 0; got = readSync(fd, chunk)) {
        yield* emit(Buffer.concat([carry, chunk.subarray(0, got)]));
      }
    } finally {
      closeSync(fd);
    }
  }
  if (carry.length > 0) yield { line: ++line, text: carry.toString('utf8'), terminated: false };
}

/** A problem with the log's integrity: where, and what was expected and found. */
export interface ChainProblem {
  readonly record: number;
  readonly kind: 'json' | 'shape' | 'hash' | 'prev' | 'number' | 'format';
  readonly message: string;
  /** the line is not even shaped like a record (not JSON, or no "hash" field at its end) */
  readonly unsealed?: true;
}

export type LogItem =
  | { readonly kind: 'record'; readonly record: LogRecord; readonly raw: Record<string, unknown> }
  /** the record could not be used; the chain continues from its recorded hash when it has one */
  | { readonly kind: 'problem'; readonly problem: ChainProblem }
  /** a last line without a newline: a write the process did not finish */
  | { readonly kind: 'torn'; readonly record: number; readonly bytes: number };

const short = (h: unknown) => (typeof h === 'string' ? h.slice(0, 12) : JSON.stringify(h));

/**
 * Every line checked: JSON, the record shape, its own hash, the link to the record before, its
 * number. The chain check continues after a problem from that record's own hash, so one edit is
 * reported once and a removal or swap is reported where it happened.
 */
export function* readLog(source: LogSource): Generator<LogItem> {
  let prevHash: string | null = null;
  for (const l of readLines(source)) {
    if (!l.terminated) {
      yield { kind: 'torn', record: l.line, bytes: Buffer.byteLength(l.text, 'utf8') };
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(l.text);
    } catch (e) {
      yield { kind: 'problem', problem: { record: l.line, kind: 'json', message: `record ${l.line}: not valid JSON (${escapeNonPrinting((e as Error).message)})`, unsealed: true } };
      prevHash = null;
      continue;
    }
    const expectedPrev = prevHash;
    const raw = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
    prevHash = typeof raw.hash === 'string' ? raw.hash : null;
    const sealed = unsealLine(l.text);
    if (sealed === null) {
      yield { kind: 'problem', problem: { record: l.line, kind: 'hash', message: `record ${l.line}: hash: expected a "hash" field (64 hex digits) at the end of the line, found ${raw.hash === undefined ? 'none' : typeof raw.hash === 'string' ? quoteText(raw.hash, 70) : String(JSON.stringify(raw.hash)).slice(0, 70)}`, unsealed: true } };
      continue;
    }
    const computed = sha256Hex(sealed.body);
    if (sealed.hash !== computed) {
      yield {
        kind: 'problem',
        problem: { record: l.line, kind: 'hash', message: `record ${l.line}: hash: expected ${short(computed)}… (recomputed from the record), found ${short(sealed.hash)}…: the record was changed after it was written` },
      };
      continue;
    }
    if (raw.prev !== expectedPrev) {
      yield {
        kind: 'problem',
        problem: {
          record: l.line,
          kind: 'prev',
          message:
            `record ${l.line}: prev: expected ${expectedPrev === null ? 'null' : short(expectedPrev) + '…'} (the hash of record ${l.line - 1}), found ${raw.prev === null ? 'null' : short(raw.prev) + '…'}: ` +
            'a record before it was removed, inserted or moved',
        },
      };
      continue;
    }
    if (raw.n !== l.line) {
      yield { kind: 'problem', problem: { record: l.line, kind: 'number', message: `record ${l.line}: n: expected ${l.line} (its line), found ${JSON.stringify(raw.n)}: records were removed or moved` } };
      continue;
    }
    if (raw.type === 'head' && !(LOG_FORMATS as readonly unknown[]).includes(raw.format)) {
      yield { kind: 'problem', problem: { record: l.line, kind: 'format', message: `record ${l.line}: format: expected ${LOG_FORMATS.map((f) => JSON.stringify(f)).join(' or ')}, found ${JSON.stringify(raw.format)} (written by another version of the tool?)` } };
      continue;
    }
    const decoded = decodeRecord(raw);
    if (E.isLeft(decoded)) {
      yield { kind: 'problem', problem: { record: l.line, kind: 'shape', message: `record ${l.line}: ${decoded.left.slice(0, 3).join('; ')}` } };
      continue;
    }
    yield { kind: 'record', record: decoded.right, raw };
  }
}
