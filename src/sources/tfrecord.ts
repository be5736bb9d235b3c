/**
 * TFRecord framing, as TensorBoard event files use it: each record is
 *   uint64 length (little-endian) | masked CRC32C of those 8 bytes | data | masked CRC32C of data.
 * Read in large chunks (not three reads per record), the next one read while the last is used;
 * the CRC-32C is @node-rs/crc32's (hardware-accelerated, no dependencies of its own) for long
 * records, JavaScript's for short ones. A last record cut short is what a run still being written looks like: it is reported as a truncated
 * tail, not an error.
 */
import { open } from 'node:fs/promises';
import { crc32c } from '@node-rs/crc32';

const MASK_DELTA = 0xa282ead8;

/**
 * CRC-32C's tables for slicing by 8 (reflected polynomial 0x82f63b78): table k (at k * 256) is the
 * CRC of a byte followed by k zero bytes, so eight bytes fold into the CRC with eight independent
 * lookups instead of a chain of eight dependent ones (about twice as fast on a scalar event's 40 bytes).
 */
const TABLE = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const p = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = t[p & 0xff]! ^ (p >>> 8);
    }
  }
  return t;
})();

/**
 * Inputs shorter than this are summed here: a scalar event's two CRCs (of 8 bytes and of about
 * 40) cost less in JavaScript than the native call's own overhead.
 */
export const NATIVE_CRC_FROM = 256;

/** CRC-32C of `data`, here in JavaScript (the native binding's result, bit for bit). */
export function crc32cJs(data: Uint8Array): number {
  return crc32cJsRange(new DataView(data.buffer, data.byteOffset, data.byteLength), 0, data.length);
}

/** CRC-32C of bytes [from, to) of `v`, eight at a time as two little-endian words (a load each). */
function crc32cJsRange(v: DataView, from: number, to: number): number {
  const t = TABLE;
  let c = -1;
  let i = from;
  for (; i + 8 <= to; i += 8) {
    c ^= v.getInt32(i, true);
    const w = v.getInt32(i + 4, true);
    c = t[1792 + (c & 0xff)]! ^ t[1536 + ((c >>> 8) & 0xff)]! ^ t[1280 + ((c >>> 16) & 0xff)]! ^ t[1024 + (c >>> 24)]! ^ t[768 + (w & 0xff)]! ^ t[512 + ((w >>> 8) & 0xff)]! ^ t[256 + ((w >>> 16) & 0xff)]! ^ t[w >>> 24]!;
  }
  for (; i < to; i++) c = t[(c ^ v.getUint8(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** The masked CRC-32C of the 8 bytes of a record's length, from its two little-endian words. */
function maskedLengthCrc(lo: number, hi: number): number {
  const t = TABLE;
  const c = -1 ^ lo;
  const crc = ~(t[1792 + (c & 0xff)]! ^ t[1536 + ((c >>> 8) & 0xff)]! ^ t[1280 + ((c >>> 16) & 0xff)]! ^ t[1024 + (c >>> 24)]! ^ t[768 + (hi & 0xff)]! ^ t[512 + ((hi >>> 8) & 0xff)]! ^ t[256 + ((hi >>> 16) & 0xff)]! ^ t[hi >>> 24]!);
  return mask(crc);
}

const mask = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;

/** TensorFlow's masked CRC-32C (Castagnoli): the CRC rotated right by 15 bits, plus a constant. */
export function maskedCrc32c(data: Uint8Array): number {
  return maskedCrc32cRange(data, new DataView(data.buffer, data.byteOffset, data.byteLength), 0, data.length);
}

/** The masked CRC of `data[from, to)`; `view` is over the same bytes as `data`. */
function maskedCrc32cRange(data: Uint8Array, view: DataView, from: number, to: number): number {
  // a Buffer view of the same bytes (the native binding takes Buffers), not a copy
  return mask(to - from < NATIVE_CRC_FROM ? crc32cJsRange(view, from, to) : crc32c(Buffer.from(data.buffer, data.byteOffset + from, to - from)));
}

export type FrameProblem =
  /** the length field fails its CRC: the framing is lost, nothing after it can be read */
  | { readonly kind: 'lengthCrc'; readonly offset: number; readonly expected: number; readonly actual: number }
  /** the payload fails its CRC: that record is corrupt, the framing continues */
  | { readonly kind: 'dataCrc'; readonly offset: number; readonly expected: number; readonly actual: number };

export type Frame =
  | { readonly kind: 'record'; readonly data: Uint8Array; readonly index: number; readonly offset: number }
  | { readonly kind: 'bad'; readonly problem: FrameProblem; readonly index: number }
  /** the file ends inside a record (`have` of `need` bytes present) */
  | { readonly kind: 'truncated'; readonly index: number; readonly offset: number; readonly have: number; readonly need: number };

/**
 * The records of a run of good frames, as offsets into one buffer (no view or object per record),
 * then the frame that ended the run, if it was not a good one. `starts` and `ends` are reused for
 * the next spans: they hold until the next one is asked for.
 */
export interface FrameSpans {
  readonly buf: Uint8Array;
  /** where each record's data starts and ends in `buf`: the first `count` entries */
  readonly starts: ArrayLike<number>;
  readonly ends: ArrayLike<number>;
  readonly count: number;
  /** the index of the first record in the file (0-based) */
  readonly firstIndex: number;
  /** the file offset of buf[0] */
  readonly bufOffset: number;
  /** a corrupt frame or a truncated tail after the records */
  readonly tail: Exclude<Frame, { kind: 'record' }> | null;
}

/** Frames of one TFRecord file, a batch per chunk read. Stops after a length-CRC failure or a truncated tail. */
export async function* readFrames(file: string, opts: { chunkSize?: number; onBytes?: (read: number, total: number) => void } = {}): AsyncGenerator<Frame[]> {
  let frames: Frame[] = [];
  let buf: Uint8Array | null = null;
  for await (const s of readFrameSpans(file, opts)) {
    // a batch per chunk read, as before: spans of one buffer come from one chunk
    if (buf !== null && s.buf !== buf && frames.length > 0) {
      yield frames;
      frames = [];
    }
    buf = s.buf;
    for (let i = 0; i < s.count; i++) {
      frames.push({ kind: 'record', data: s.buf.subarray(s.starts[i]!, s.ends[i]!), index: s.firstIndex + i, offset: s.bufOffset + s.starts[i]! - 12 });
    }
    if (s.tail !== null) frames.push(s.tail);
  }
  if (frames.length > 0) yield frames;
}

/** The frames of one TFRecord file as spans, in file order. Stops after a length-CRC failure or a truncated tail. */
export async function* readFrameSpans(file: string, opts: { chunkSize?: number; onBytes?: (read: number, total: number) => void } = {}): AsyncGenerator<FrameSpans> {
  const fh = await open(file, 'r');
  /** the read of the next chunk, under way while the last one is framed and its records used */
  let next: Promise<{ chunk: Uint8Array; bytesRead: number }> | null = null;
  try {
    const total = (await fh.stat()).size;
    const chunkSize = opts.chunkSize ?? 1 << 20;
    const head = Math.min(HEAD, chunkSize);
    const readAt = (offset: number) => {
      const chunk = new Uint8Array(head + chunkSize);
      return fh.read(chunk, head, chunkSize, offset).then(({ bytesRead }) => ({ chunk, bytesRead }));
    };
    let buf: Uint8Array = new Uint8Array(0);
    let bufOffset = 0; // file offset of buf[0]
    let fileOffset = 0;
    let index = 0;
    let eof = false;
    let starts = new Uint32Array(0);
    let ends = new Uint32Array(0);
    next = readAt(0);
    while (true) {
      // fill: the unread rest of the last chunk, then the next chunk
      if (!eof) {
        const { chunk, bytesRead } = await next!;
        next = null;
        if (bytesRead === 0) eof = true;
        else {
          fileOffset += bytesRead;
          next = readAt(fileOffset);
          if (buf.length <= head) {
            // the rest goes in the room left before the chunk's bytes: no copy of the chunk
            chunk.set(buf, head - buf.length);
            buf = chunk.subarray(head - buf.length, head + bytesRead);
          } else buf = concat(buf, chunk.subarray(head, head + bytesRead));
          opts.onBytes?.(fileOffset, total);
        }
      }
      // a frame takes at least 16 bytes
      const most = Math.floor(buf.length / 16) + 1;
      if (starts.length < most) {
        starts = new Uint32Array(most);
        ends = new Uint32Array(most);
      }
      let count = 0;
      let first = index;
      let pos = 0;
      let stop = false;
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      const cut = (tail: FrameSpans['tail']): FrameSpans => {
        const out = { buf, starts, ends, count, firstIndex: first, bufOffset, tail };
        count = 0;
        first = index;
        return out;
      };
      while (buf.length - pos >= 12) {
        const lenLo = view.getUint32(pos, true);
        const lenHi = view.getUint32(pos + 4, true);
        const lenCrc = view.getUint32(pos + 8, true);
        const actual = maskedLengthCrc(lenLo, lenHi);
        if (actual !== lenCrc) {
          yield cut({ kind: 'bad', index, problem: { kind: 'lengthCrc', offset: bufOffset + pos, expected: lenCrc, actual } });
          stop = true;
          break;
        }
        const len = lenHi * 2 ** 32 + lenLo;
        const need = 12 + len + 4;
        if (buf.length - pos < need) break; // the rest of the record is in the next chunk
        const dataCrc = view.getUint32(pos + 12 + len, true);
        const actualData = maskedCrc32cRange(buf, view, pos + 12, pos + 12 + len);
        if (actualData !== dataCrc) {
          const bad = { kind: 'bad', index, problem: { kind: 'dataCrc', offset: bufOffset + pos, expected: dataCrc, actual: actualData } } as const;
          index++;
          yield cut(bad);
        } else {
          starts[count] = pos + 12;
          ends[count++] = pos + 12 + len;
          index++;
        }
        pos += need;
      }
      if (stop) return;
      let tail: FrameSpans['tail'] = null;
      if (eof && buf.length - pos > 0) {
        let need = 12;
        if (buf.length - pos >= 8) {
          const view = new DataView(buf.buffer, buf.byteOffset + pos);
          need = 12 + view.getUint32(4, true) * 2 ** 32 + view.getUint32(0, true) + 4;
        }
        tail = { kind: 'truncated', index, offset: bufOffset + pos, have: buf.length - pos, need };
        pos = buf.length;
      }
      if (count > 0 || tail !== null) yield cut(tail);
      // the unread rest, copied into the next chunk's buffer when it is read
      buf = buf.subarray(pos);
      bufOffset += pos;
      if (eof) return;
    }
  } finally {
    // a read still under way ends before the file is closed; its bytes are not wanted
    await next?.catch(() => undefined);
    await fh.close();
  }
}

/** Room kept before each chunk's bytes for the unread rest of the one before (a record cut by the chunk's end). */
const HEAD = 1 << 16;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Frames `payload` as one TFRecord (used to write event files in tests and benchmarks). */
export function frameRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length >>> 0, true);
  view.setUint32(4, Math.floor(payload.length / 2 ** 32), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(payload, 12);
  view.setUint32(12 + payload.length, maskedCrc32c(payload), true);
  return out;
}
