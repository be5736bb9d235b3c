/**
 * Just enough of the protobuf wire format to read (and, for tests, write) TensorBoard's Event
 * messages: varints, fixed 32/64-bit fields and length-delimited fields. Hand-written because the
 * subset is tiny and protobufjs's Reader returns Long objects for int64, which costs on millions of
 * records. Field numbers follow tensorflow/core/util/event.proto and summary.proto.
 */

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export class ProtoError extends Error {}

/** A cursor over one message's bytes; `end` bounds the (sub)message being read. */
export class WireReader {
  pos = 0;
  end: number;
  private view: DataView | null = null;

  constructor(readonly buf: Uint8Array) {
    this.end = buf.length;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** An unsigned varint up to 2^53 (steps and lengths); larger values lose precision, never wrap. */
  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos]!;
    if (b < 0x80 && this.pos < this.end) {
      this.pos++;
      return b;
    }
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('varint runs past the end of the message');
      b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new ProtoError('varint longer than 10 bytes');
  }

  /** int64 as written by protobuf: negative values are 10-byte two's complement varints. */
  int64(): number {
    const v = this.varint();
    return v >= 2 ** 63 ? v - 2 ** 64 : v;
  }

  /** The next field's key: field number * 8 + wire type. */
  key(): number {
    return this.varint();
  }

  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t & 7 };
  }

  private dv(): DataView {
    return (this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  double(): number {
    this.need(8);
    const v = this.dv().getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4);
    const v = this.dv().getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  bytes(): Uint8Array {
    const len = this.varint();
    this.need(len);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** Enters a length-delimited submessage: returns the outer end, to give back to `leave`. */
  enter(): number {
    const len = this.varint();
    this.need(len);
    const outer = this.end;
    this.end = this.pos + len;
    return outer;
  }

  /** Leaves a submessage (skipping what was not read of it). */
  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  string(): string {
    const len = this.varint();
    this.need(len);
    const start = this.pos;
    this.pos += len;
    const b = this.buf;
    // short ASCII strings (tags) are far cheaper to build directly than through TextDecoder
    if (len <= 64) {
      let s = '';
      for (let i = start; i < start + len; i++) {
        const c = b[i]!;
        if (c >= 0x80) return DECODER.decode(b.subarray(start, start + len));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return DECODER.decode(b.subarray(start, start + len));
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE.varint:
        this.varint();
        return;
      case WIRE.fixed64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE.bytes:
        this.bytes();
        return;
      case WIRE.fixed32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtoError(`unsupported wire type ${wire}`);
    }
  }

  private need(n: number) {
    if (this.pos + n > this.end) throw new ProtoError(`field needs ${n} bytes, ${this.end - this.pos} left`);
  }
}

const DECODER = new TextDecoder('utf-8', { fatal: false });
const ENCODER = new TextEncoder();

/** A minimal protobuf writer (tests and benchmarks write event files with it). */
export class WireWriter {
  private parts: number[] = [];

  varint(v: number): this {
    let x = v;
    if (x < 0) throw new ProtoError('negative varints are not written here');
    while (x >= 128) {
      this.parts.push((x % 128) | 0x80);
      x = Math.floor(x / 128);
    }
    this.parts.push(x);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  double(field: number, v: number): this {
    this.tag(field, WIRE.fixed64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.parts.push(...b);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, WIRE.fixed32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(...b);
    return this;
  }

  uint(field: number, v: number): this {
    return this.tag(field, WIRE.varint).varint(v);
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE.bytes).varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, ENCODER.encode(s));
  }

  message(field: number, w: WireWriter): this {
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
