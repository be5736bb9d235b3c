/**
 * TensorBoard event files (`events.out.tfevents.*`) as metric records. Scalars come in two forms:
 * `simple_value` (torch's SummaryWriter, which Lightning's TensorBoardLogger uses) and a one-element
 * numeric tensor tagged by the `scalars` plugin (TensorFlow 2 writers). Step 0 is stored by leaving
 * the field out. Lightning writes one event per scalar, so the scalars of one `log_metrics` call are
 * regrouped: every call from the LightningModule carries an `epoch` scalar, appended last (older
 * writers may put it first: the first `epoch` seen tells which), and a record also ends when the
 * step changes or a tag repeats.
 *
 * The messages are read with protobufjs's wire-format Reader, in place and only for the fields used
 * here (numbered as in tensorflow/core/util/event.proto and framework/summary.proto, tensor.proto),
 * rather than decoded whole: a scalar event costs a few field reads and no message objects.
 */
import protobuf from 'protobufjs/minimal.js';
import { readFrameSpans, type Frame } from './tfrecord.ts';
import { handleBad, ReadRecord, SourceError, type BadInputPolicy, type LogRecord, type Origin, type ProgressFn } from './records.ts';

const { Reader, Writer } = protobuf;
type Reader = protobuf.Reader;

export interface Scalar {
  readonly tag: string;
  readonly step: number;
  readonly value: number;
  readonly wallTime: number;
}

/** What one event record holds that matters here. */
export interface DecodedEvent {
  readonly wallTime: number;
  readonly step: number;
  readonly fileVersion: string | null;
  readonly scalars: readonly { tag: string; value: number }[];
  /** tags seen with metadata of another plugin (images, text, hparams): never scalars */
  readonly otherPluginTags: readonly string[];
}

// DataType enum values (tensorflow/core/framework/types.proto)
const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_INT32 = 3;
const DT_INT64 = 9;
const DT_HALF = 19;
const DT_BFLOAT16 = 14;

/** Wire types (the low three bits of a field's key). */
const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

/** Malformed Event bytes. */
export class EventDecodeError extends Error {}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function bfloat16ToFloat(b: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, (b & 0xffff) << 16);
  return v.getFloat32(0);
}

/** An int64 as a number: protobufjs reads it as a Long (or as a number, without the `long` package). */
function int64(r: Reader): number {
  const v: protobuf.Long | number = r.int64();
  return typeof v === 'number' ? v : v.high * 2 ** 32 + (v.low >>> 0);
}

/** Bounds the reader to the length-delimited submessage at its position; returns the outer bound, to give to `leave`. */
function enter(r: Reader): number {
  const size = r.uint32();
  const outer = r.len;
  if (r.pos + size > outer) throw new RangeError(`a submessage of ${size} bytes where ${outer - r.pos} are left`);
  r.len = r.pos + size;
  return outer;
}

/** Leaves a submessage, skipping what was not read of it. */
function leave(r: Reader, outer: number): void {
  r.pos = r.len;
  r.len = outer;
}

/** The single number of a TensorProto that holds one numeric element, or undefined. */
function tensorScalar(r: Reader): number | undefined {
  let dtype = 0;
  let elements = 1;
  let content: Uint8Array | null = null;
  const values: number[] = [];
  /** half_val holds the bits of DT_HALF and DT_BFLOAT16 values */
  const halves: number[] = [];
  while (r.pos < r.len) {
    const key = r.uint32();
    const wire = key & 7;
    switch (key >>> 3) {
      case 1: // dtype
        if (wire === VARINT) dtype = r.int32();
        else r.skipType(wire);
        break;
      case 2: // tensor_shape
        if (wire === BYTES) {
          const outer = enter(r);
          elements = shapeElements(r);
          leave(r, outer);
        } else r.skipType(wire);
        break;
      case 4: // tensor_content
        if (wire === BYTES) content = r.bytes();
        else r.skipType(wire);
        break;
      case 5: // float_val
        if (wire === BYTES) r.floats(values);
        else if (wire === FIXED32) values.push(r.float());
        else r.skipType(wire);
        break;
      case 6: // double_val
        if (wire === BYTES) r.doubles(values);
        else if (wire === FIXED64) values.push(r.double());
        else r.skipType(wire);
        break;
      case 7: // int_val
        if (wire === BYTES) r.int32s(values);
        else if (wire === VARINT) values.push(r.int32());
        else r.skipType(wire);
        break;
      case 10: // int64_val
        if (wire === BYTES) {
          const outer = enter(r);
          while (r.pos < r.len) values.push(int64(r));
          leave(r, outer);
        } else if (wire === VARINT) values.push(int64(r));
        else r.skipType(wire);
        break;
      case 13: // half_val
        if (wire === BYTES) r.int32s(halves);
        else if (wire === VARINT) halves.push(r.int32());
        else r.skipType(wire);
        break;
      default:
        r.skipType(wire);
    }
  }
  if (elements !== 1) return undefined;
  if (content !== null && content.length > 0) {
    const v = new DataView(content.buffer, content.byteOffset, content.byteLength);
    switch (dtype) {
      case DT_FLOAT:
        return content.length === 4 ? v.getFloat32(0, true) : undefined;
      case DT_DOUBLE:
        return content.length === 8 ? v.getFloat64(0, true) : undefined;
      case DT_INT32:
        return content.length === 4 ? v.getInt32(0, true) : undefined;
      case DT_INT64:
        return content.length === 8 ? Number(v.getBigInt64(0, true)) : undefined;
      case DT_HALF:
        return content.length === 2 ? halfToFloat(v.getUint16(0, true)) : undefined;
      case DT_BFLOAT16:
        return content.length === 2 ? bfloat16ToFloat(v.getUint16(0, true)) : undefined;
      default:
        return undefined;
    }
  }
  if (dtype === DT_HALF) return halves.length === 1 ? halfToFloat(halves[0]!) : undefined;
  if (dtype === DT_BFLOAT16) return halves.length === 1 ? bfloat16ToFloat(halves[0]!) : undefined;
  if (dtype !== DT_FLOAT && dtype !== DT_DOUBLE && dtype !== DT_INT32 && dtype !== DT_INT64) return undefined;
  return values.length === 1 ? values[0] : undefined;
}

/** Number of elements of a TensorShapeProto (1 for a scalar shape with no dims). */
function shapeElements(r: Reader): number {
  let n = 1;
  while (r.pos < r.len) {
    const key = r.uint32();
    if (key === 18) {
      // 2: repeated Dim { int64 size = 1 }
      const outer = enter(r);
      let size = 0;
      while (r.pos < r.len) {
        const k = r.uint32();
        if (k === 8) size = int64(r);
        else r.skipType(k & 7);
      }
      leave(r, outer);
      n *= size;
    } else r.skipType(key & 7);
  }
  return n;
}

/** SummaryMetadata's plugin_data.plugin_name, or null. */
function pluginName(r: Reader): string | null {
  let name: string | null = null;
  while (r.pos < r.len) {
    const key = r.uint32();
    if (key === 10) {
      // 1: PluginData { string plugin_name = 1 }
      const outer = enter(r);
      while (r.pos < r.len) {
        const k = r.uint32();
        if (k === 10) name = r.string();
        else r.skipType(k & 7);
      }
      leave(r, outer);
    } else r.skipType(key & 7);
  }
  return name;
}

/** Decodes an Event message. Throws EventDecodeError on malformed bytes. */
export function decodeEvent(buf: Uint8Array): DecodedEvent {
  try {
    return readEvent(Reader.create(buf));
  } catch (e) {
    throw new EventDecodeError(e instanceof Error ? e.message : String(e));
  }
}

function readEvent(r: Reader): DecodedEvent {
  let wallTime = 0;
  let step = 0; // absent field = 0
  let fileVersion: string | null = null;
  const scalars: { tag: string; value: number }[] = [];
  const otherPluginTags: string[] = [];
  while (r.pos < r.len) {
    const key = r.uint32();
    if (key === 9) wallTime = r.double(); // 1: double wall_time
    else if (key === 16) step = int64(r); // 2: int64 step
    else if (key === 26) fileVersion = r.string(); // 3: string file_version
    else if (key === 42) {
      // 5: Summary summary { repeated Value value = 1 }
      const summaryEnd = enter(r);
      while (r.pos < r.len) {
        const k = r.uint32();
        if (k === 10) {
          const valueEnd = enter(r);
          readValue(r, scalars, otherPluginTags);
          leave(r, valueEnd);
        } else r.skipType(k & 7);
      }
      leave(r, summaryEnd);
    } else r.skipType(key & 7);
  }
  return { wallTime, step, fileVersion, scalars, otherPluginTags };
}

/**
 * Summary.Value, read in place up to the reader's bound. `simple_value` counts only when the field
 * is there: proto3 would read an absent one as 0.
 */
function readValue(r: Reader, scalars: { tag: string; value: number }[], other: string[]) {
  let tag = '';
  let simple: number | undefined;
  let tensor: number | undefined;
  let plugin: string | null = null;
  while (r.pos < r.len) {
    const key = r.uint32();
    if (key === 10) tag = r.string(); // 1: string tag
    else if (key === 21) simple = r.float(); // 2: float simple_value
    else if (key === 66) {
      // 8: TensorProto tensor
      const outer = enter(r);
      tensor = tensorScalar(r);
      leave(r, outer);
    } else if (key === 74) {
      // 9: SummaryMetadata metadata
      const outer = enter(r);
      plugin = pluginName(r);
      leave(r, outer);
    } else r.skipType(key & 7);
  }
  if (simple !== undefined) {
    scalars.push({ tag, value: simple });
    return;
  }
  if (plugin !== null && plugin !== 'scalars') {
    other.push(tag);
    return;
  }
  if (tensor !== undefined) scalars.push({ tag, value: tensor });
}

// ---- the common event, read without a Reader -------------------------------------------------

/** The one scalar of an event as torch's SummaryWriter writes it (filled in by `plainScalar`). */
interface PlainScalar {
  step: number;
  tag: string;
  value: number;
}

/** Where the varint `smallVarint` last read ends (a variable, not an object per call). */
let varintEnd = 0;

/** A varint of at most 7 bytes (below 2^49) at `pos`, its end in `varintEnd`; -1 when longer or cut short. */
function smallVarint(b: Uint8Array, pos: number, end: number): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 7 && pos + i < end; i++) {
    const byte = b[pos + i]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) {
      varintEnd = pos + i + 1;
      return v;
    }
    mul *= 128;
  }
  return -1;
}

/**
 * Tags met so far, by their bytes: a log repeats a few tags millions of times, so each is decoded
 * to a string once. Only ASCII tags, whose decoding is not in question. The entry last matched for
 * a tag's length and last byte is tried first: one comparison for each event, usually.
 */
class TagCache {
  private readonly bytes: Uint8Array[] = [];
  private readonly tags: string[] = [];
  private readonly slot = new Int8Array(64).fill(-1);

  get(b: Uint8Array, from: number, to: number): string | null {
    const n = to - from;
    const h = n === 0 ? 0 : (n * 7 + b[to - 1]!) & 63;
    const k = this.slot[h]!;
    if (k >= 0 && this.matches(k, b, from, n)) return this.tags[k]!;
    for (let j = 0; j < this.tags.length; j++) {
      if (j !== k && this.matches(j, b, from, n)) {
        this.slot[h] = j;
        return this.tags[j]!;
      }
    }
    let tag = '';
    for (let i = from; i < to; i++) {
      const c = b[i]!;
      if (c >= 0x80) return null;
      tag += String.fromCharCode(c);
    }
    if (this.tags.length < 64) {
      this.slot[h] = this.tags.length;
      this.bytes.push(b.slice(from, to));
      this.tags.push(tag);
    }
    return tag;
  }

  private matches(k: number, b: Uint8Array, from: number, n: number): boolean {
    const e = this.bytes[k]!;
    if (e.length !== n) return false;
    for (let i = 0; i < n; i++) if (e[i] !== b[from + i]) return false;
    return true;
  }
}

/**
 * An event of exactly `wall_time? step? summary { value { tag simple_value } }`, read in place
 * into `out` (`view` is over `b`'s bytes); false for anything else (a file_version, a tensor, metadata, several values, an
 * unknown field, bytes that do not parse), which `decodeEvent` then reads, with its messages.
 */
function plainScalar(b: Uint8Array, view: DataView, pos: number, end: number, tags: TagCache, out: PlainScalar): boolean {
  let step = 0;
  if (pos < end && b[pos] === 9) pos += 9; // 1: double wall_time (not used)
  if (pos < end && b[pos] === 16) {
    step = smallVarint(b, pos + 1, end);
    if (step < 0) return false;
    pos = varintEnd;
  }
  if (pos >= end || b[pos] !== 42) return false; // 5: Summary
  const summaryLen = smallVarint(b, pos + 1, end);
  if (summaryLen < 0 || varintEnd + summaryLen !== end) return false;
  pos = varintEnd;
  if (b[pos] !== 10) return false; // Summary.value
  const valueLen = smallVarint(b, pos + 1, end);
  if (valueLen < 0 || varintEnd + valueLen !== end) return false;
  pos = varintEnd;
  if (b[pos] !== 10) return false; // Value.tag
  const tagLen = smallVarint(b, pos + 1, end);
  if (tagLen < 0) return false;
  const tagEnd = varintEnd + tagLen;
  if (tagEnd + 5 !== end || b[tagEnd] !== 21) return false; // Value.simple_value, the last field
  const tag = tags.get(b, varintEnd, tagEnd);
  if (tag === null) return false;
  out.step = step;
  out.tag = tag;
  out.value = view.getFloat32(tagEnd + 1, true);
  return true;
}

// ---- records ---------------------------------------------------------------------------------

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface TfeventsReadOptions {
  readonly bad?: BadInputPolicy;
  readonly progress?: ProgressFn;
  /** called when the file ends inside a record (a run still being written) */
  readonly onTruncated?: (origin: Origin, have: number, need: number) => void;
}

/**
 * The most records in one batch. A 1 MiB chunk holds some 20,000 scalar events (10,000 records); a
 * batch that size outlives a young-generation collection before the simulation has consumed it,
 * and copying it was most of a read's garbage-collection time. Batches this small die young.
 */
const BATCH_RECORDS = 1024;

/** Reads one event file as records of scalars written together, in file order: a batch per chunk read, or per BATCH_RECORDS. */
export async function* readTfeventsLog(file: string, opts: TfeventsReadOptions = {}): AsyncGenerator<LogRecord[]> {
  const otherTags = new Set<string>();
  // the record being assembled
  let step = -1;
  let epoch: number | null = null;
  // the record's metrics, as ReadRecord holds them (a call logs each name once)
  let names: string[] = [];
  let values: number[] = [];
  /** the last record's names: a record logging the same names shares the array (the reconstruction memoises by it) */
  let lastNames: string[] = [];
  let hasEpoch = false;
  let origin: Origin = { file, record: 0 };
  let open = false;
  /** where `epoch` sits in a call: learnt from the first one */
  let epochPlace: 'last' | 'first' | null = null;

  const flush = (out: LogRecord[]) => {
    if (open && (names.length > 0 || hasEpoch)) {
      if (sameNames(names, lastNames)) names = lastNames;
      else lastNames = names;
      out.push(new ReadRecord(step, epoch, names, values, file, 0, origin));
    }
    open = false;
    names = [];
    values = [];
    epoch = null;
    hasEpoch = false;
  };

  const onFrame = (f: Frame, out: LogRecord[]) => {
    switch (f.kind) {
      case 'truncated':
        opts.onTruncated?.({ file, record: f.index + 1 }, f.have, f.need);
        return;
      case 'bad': {
        const o = { file, record: f.index + 1 };
        if (f.index === 0 && f.problem.kind === 'lengthCrc') {
          throw new SourceError(o, null, "not a TensorBoard event file: the first record's length CRC does not check (expected TFRecord framing, as in events.out.tfevents.* files)");
        }
        const p = f.problem;
        const what = p.kind === 'lengthCrc' ? 'length' : 'data';
        const err = new SourceError(o, null, `${what} CRC mismatch at byte ${p.offset} (stored ${hex(p.expected)}, computed ${hex(p.actual)}): the file is corrupt${p.kind === 'lengthCrc' ? '; records after this point cannot be framed' : ''}`);
        if (p.kind === 'lengthCrc') throw err; // no way to find the next record
        handleBad(opts.bad, err);
        return;
      }
      case 'record':
        onRecord(f.data, f.index, out);
        return;
    }
  };

  /** One scalar of the event at `index`, into the record being assembled (or a new one). */
  const onScalar = (tag: string, value: number, evStep: number, index: number, out: LogRecord[]) => {
    if (otherTags.size > 0 && otherTags.has(tag)) return;
    const isEpoch = tag === 'epoch';
    if (isEpoch && epochPlace === null) epochPlace = open && evStep === step && names.length > 0 ? 'last' : 'first';
    const repeat = isEpoch ? hasEpoch : names.includes(tag);
    const closedByEpoch = epochPlace === 'last' && hasEpoch;
    const opensWithEpoch = epochPlace === 'first' && isEpoch;
    if (open && (evStep !== step || repeat || closedByEpoch || opensWithEpoch)) flush(out);
    if (!open) {
      open = true;
      step = evStep;
      origin = { file, record: index + 1 };
    }
    if (isEpoch) {
      if (!Number.isInteger(value) || value < 0) {
        handleBad(opts.bad, new SourceError({ file, record: index + 1 }, 'epoch', `expected a non-negative integer epoch, got ${value}`));
        return;
      }
      epoch = value;
      hasEpoch = true;
    } else {
      names.push(tag);
      values.push(value);
    }
  };

  /** An event read whole (anything but the plain scalar events `plainScalar` reads). */
  const onRecord = (data: Uint8Array, index: number, out: LogRecord[]) => {
    let ev: DecodedEvent;
    try {
      ev = decodeEvent(data);
    } catch (e) {
      if (!(e instanceof EventDecodeError)) throw e;
      handleBad(opts.bad, new SourceError({ file, record: index + 1 }, null, `not a valid Event message: ${e.message}`));
      return;
    }
    for (const t of ev.otherPluginTags) otherTags.add(t);
    for (const s of ev.scalars) onScalar(s.tag, s.value, ev.step, index, out);
    if (ev.step < 0) {
      handleBad(opts.bad, new SourceError({ file, record: index + 1 }, 'step', `expected a non-negative step, got ${ev.step}`));
    }
  };

  let sawVersion = false;
  let first = true;
  const tags = new TagCache();
  const plain: PlainScalar = { step: 0, tag: '', value: 0 };
  let out: LogRecord[] = [];
  let spansBuf: Uint8Array | null = null;
  let view: DataView | null = null;
  for await (const spans of readFrameSpans(file, { onBytes: opts.progress })) {
    // a batch per chunk read: spans of one buffer come from one chunk
    if (spans.buf !== spansBuf) {
      if (out.length > 0) yield out;
      out = [];
      spansBuf = spans.buf;
      view = new DataView(spans.buf.buffer, spans.buf.byteOffset, spans.buf.byteLength);
    }
    const { buf, starts, ends, count, firstIndex } = spans;
    for (let i = 0; i < count; i++) {
      const index = firstIndex + i;
      if (first) {
        first = false;
        try {
          sawVersion = decodeEvent(buf.subarray(starts[i]!, ends[i]!)).fileVersion !== null;
        } catch {
          sawVersion = false;
        }
        if (!sawVersion) {
          throw new SourceError({ file, record: 1 }, 'file_version', 'the first record is not a file_version event ("brain.Event:2"); this does not look like a TensorBoard event file');
        }
      }
      if (plainScalar(buf, view!, starts[i]!, ends[i]!, tags, plain)) onScalar(plain.tag, plain.value, plain.step, index, out);
      else onRecord(buf.subarray(starts[i]!, ends[i]!), index, out);
      if (out.length >= BATCH_RECORDS) {
        yield out;
        out = [];
      }
    }
    if (spans.tail !== null) onFrame(spans.tail, out);
  }
  if (out.length > 0) yield out;
  out = [];
  if (first) throw new SourceError({ file, record: 1 }, null, 'no complete record: the file is empty or not a TFRecord file');
  flush(out);
  if (out.length > 0) yield out;
}

const hex = (n: number) => '0x' + n.toString(16).padStart(8, '0');

// ---- writing (tests, benchmarks) ------------------------------------------------------------

/** An Event holding `file_version` (the first record of every event file). */
export function fileVersionEvent(wallTime = 0): Uint8Array {
  return Writer.create().uint32(9).double(wallTime).uint32(26).string('brain.Event:2').finish();
}

/** An Event holding one scalar, as torch's SummaryWriter writes it (`simple_value`; step 0 left out). */
export function scalarEvent(tag: string, value: number, step: number, wallTime = 0, form: 'simple' | 'tensor' = 'simple'): Uint8Array {
  const w = Writer.create().uint32(9).double(wallTime);
  if (step !== 0) w.uint32(16).int64(step);
  w.uint32(42).fork().uint32(10).fork(); // summary { value {
  w.uint32(10).string(tag);
  if (form === 'simple') w.uint32(21).float(value);
  else {
    w.uint32(66).fork().uint32(8).int32(DT_FLOAT).uint32(18).fork().ldelim().uint32(45).float(value).ldelim(); // tensor { dtype, shape {}, float_val }
    w.uint32(74).fork().uint32(10).fork().uint32(10).string('scalars').ldelim().ldelim(); // metadata { plugin_data { plugin_name } }
  }
  return w.ldelim().ldelim().finish();
}
