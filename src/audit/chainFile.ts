/**
 * The append side of a decision log, whatever its segments hold (a Lightning run, a dialect
 * session): each record is sealed with its number, the previous record's hash and its own, and
 * written with one `writeSync` to a descriptor opened with O_APPEND, so a crash leaves at most a
 * torn last line. Opening an existing log continues its chain; a torn last line is cut off first
 * and its size handed to the next head (`tornBytes`).
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { sealRecord } from './canonical.ts';
import { decodeRecord, type RecordBody } from './format.ts';

export class ChainFile {
  private fd: number | null;
  private n: number;
  private prev: string | null;
  private dirty = false;
  private failure: Error | null = null;

  private constructor(
    readonly path: string,
    tail: { fd: number; n: number; prev: string | null; tornBytes: number },
  ) {
    this.fd = tail.fd;
    this.n = tail.n;
    this.prev = tail.prev;
    this.tornBytes = tail.tornBytes;
  }

  /** bytes of a torn last line cut off when the file was opened */
  readonly tornBytes: number;

  /** Opens (or creates) a log; refuses one whose last complete line is not a record. */
  static open(path: string): ChainFile {
    const fd = openSync(path, 'a+');
    try {
      return new ChainFile(path, { fd, ...readTail(fd, path) });
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Records in the file (the number of the last line). */
  get records(): number {
    return this.n;
  }

  /** The hash of the last record: kept elsewhere, it pins the whole log (`audit verify --expect-head`). */
  get lastHash(): string | null {
    return this.prev;
  }

  get isOpen(): boolean {
    return this.fd !== null;
  }

  /** an append failed: the file accepts no more records */
  get failed(): Error | null {
    return this.failure;
  }

  append(body: RecordBody): void {
    if (this.failure !== null) throw this.failure;
    if (this.fd === null) throw new Error(`decision log ${this.path} is closed`);
    const n = this.n + 1;
    const { line, hash } = sealRecord({ ...body, n, prev: this.prev });
    const buf = Buffer.from(line + '\n', 'utf8');
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    } catch (e) {
      // part of the line may be on disk: appending more would bury a torn line mid-log
      this.failure = new Error(`decision log ${this.path}: appending record ${n} failed (${(e as Error).message}); the log accepts no more records`, { cause: e });
      throw this.failure;
    }
    this.n = n;
    this.prev = hash;
    this.dirty = true;
  }

  sync(): void {
    if (this.fd === null || !this.dirty) return;
    this.dirty = false;
    fsyncSync(this.fd);
  }

  /** Closes the file (syncing it first when asked); throws the append failure, if there was one. Idempotent. */
  close(fsync: boolean): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    if (this.failure !== null) {
      closeSync(fd);
      throw this.failure;
    }
    try {
      if (fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** The last record's number and hash; cuts off a torn last line. */
function readTail(fd: number, path: string): { n: number; prev: string | null; tornBytes: number } {
  const size = fstatSync(fd).size;
  if (size === 0) return { n: 0, prev: null, tornBytes: 0 };
  const lastNl = lastIndexOfNewline(fd, size);
  // anything after the last newline was never finished: a crash mid-append
  const tornBytes = size - (lastNl + 1);
  if (tornBytes > 0) ftruncateSync(fd, lastNl + 1);
  if (lastNl < 0) return { n: 0, prev: null, tornBytes };
  const start = lastIndexOfNewline(fd, lastNl) + 1;
  const buf = Buffer.alloc(lastNl - start);
  readSync(fd, buf, 0, buf.length, start);
  const text = buf.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`cannot append to decision log ${path}: its last line is not JSON (${(e as Error).message}); check it with 'ckpt audit verify' or start a new log`);
  }
  const r = decodeRecord(parsed);
  if (E.isLeft(r)) throw new Error(`cannot append to decision log ${path}: its last line is not a decision log record (${r.left.slice(0, 3).join('; ')}); check it with 'ckpt audit verify' or start a new log`);
  return { n: r.right.n, prev: r.right.hash, tornBytes };
}

/** Offset of the last '\n' before `end`, or -1; reads backwards in chunks (a head can be large). */
function lastIndexOfNewline(fd: number, end: number): number {
  const chunk = 64 * 1024;
  let pos = end;
  while (pos > 0) {
    const from = Math.max(0, pos - chunk);
    const buf = Buffer.alloc(pos - from);
    readSync(fd, buf, 0, buf.length, from);
    const i = buf.lastIndexOf(0x0a);
    if (i >= 0) return from + i;
    pos = from;
  }
  return -1;
}
