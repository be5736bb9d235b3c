/**
 * Quoting what a file holds in a message without pasting raw bytes into the user's terminal, and
 * telling a binary file (or UTF-16 text) from the UTF-8 text the readers expect, from its first bytes.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

/** Control, format, private-use and unassigned characters, line/paragraph separators, and U+FFFD (bytes that were not UTF-8). */
const NON_PRINTING = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\u2028\u2029\uFFFD]/gu;

const escapeChar = (c: string) => {
  const cp = c.codePointAt(0)!;
  return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
};

/** `text` with every non-printing character written as a `\uXXXX` escape (for messages that embed other text). */
export function escapeNonPrinting(text: string): string {
  return text.replace(NON_PRINTING, escapeChar);
}

/** A JSON string of at most `max` characters of `text`, non-printing characters escaped; `...` after it when cut. */
export function quoteText(text: string, max = 40): string {
  const chars = Array.from(text); // whole code points: a cut never splits a surrogate pair
  const head = chars.length > max ? chars.slice(0, max).join('') : text;
  return JSON.stringify(head).replace(NON_PRINTING, escapeChar) + (chars.length > max ? '...' : '');
}

/** Like quoteText for names that are usually plain (column names): unquoted unless they need escaping or cutting. */
export function shortText(text: string, max = 40): string {
  return text.length <= max && escapeNonPrinting(text) === text && !text.includes('"') ? text : quoteText(text, max);
}

const SNIFF_BYTES = 4096;

/**
 * Why `bytes` (a file's first bytes) is not UTF-8 text, or null when it looks like text: a UTF-16
 * byte order mark, NUL bytes, or more than one in ten characters that are control characters or
 * not UTF-8 at all.
 */
export function notTextReason(bytes: Uint8Array): string | null {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) return 'UTF-16 text; save it as UTF-8';
  if (bytes.includes(0)) return 'binary data: NUL bytes';
  // stream: true so that a character cut at the end of the sample is not counted as invalid
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes, { stream: true });
  let odd = 0;
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    if (cp === 0xfffd || (cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d && cp !== 0x0c) || (cp >= 0x7f && cp < 0xa0)) odd++;
  }
  return odd * 10 > text.length ? 'binary data: control characters or bytes that are not UTF-8' : null;
}

/** A descriptor of `file` opened for reading, or null when it cannot be opened (the reader reports that itself). */
export function openOrNull(file: string): number | null {
  try {
    return openSync(file, 'r');
  } catch {
    return null;
  }
}

/** The first bytes of a file, or null when it cannot be read (the reader reports that itself). */
export function headBytes(file: string, n = SNIFF_BYTES): Uint8Array | null {
  const fd = openOrNull(file);
  if (fd === null) return null;
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } catch {
    return null; // a folder (EISDIR), say: the reader says what it is
  } finally {
    closeSync(fd);
  }
}

/**
 * `does not look like a <what> text file (binary data: NUL bytes); it starts with "..."`, or null
 * when the bytes look like text. `what` is e.g. "CSV" or "JSON lines".
 */
export function notTextProblem(bytes: Uint8Array | null, what: string): string | null {
  if (bytes === null) return null;
  const why = notTextReason(bytes);
  if (why === null) return null;
  const start = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 160));
  return `does not look like a ${what} text file (${why}); it starts with ${quoteText(start, 24)}`;
}

/** A Trainer facts file's text, or what is wrong with it (unreadable, or not text). */
export function readTrainerFile(file: string): string | { problem: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    return { problem: `cannot read the trainer file: ${(e as Error).message}` };
  }
  const notText = notTextProblem(bytes, 'JSON or YAML');
  return notText === null ? bytes.toString('utf8') : { problem: `${notText}; expected a trainer file (max_epochs, val_check_interval, ...)` };
}
