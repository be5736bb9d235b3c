/**
 * TensorBoard event files (`events.out.tfevents.*`) as metric records. Scalars come in two forms:
 * `simple_value` (torch's SummaryWriter, which Lightning's TensorBoardLogger uses) and a one-element
 * numeric tensor tagged by the `scalars` plugin (TensorFlow 2 writers). Step 0 is stored by leaving
 * the field out. Lightning writes one event per scalar, so the scalars of one `log_metrics` call are
 * regrouped: every call from the LightningModule carries an `epoch` scalar, appended last (older
 * writers may put it first: the first `epoch` seen tells which), and a record also ends when the
 * step changes or a tag repeats.
 */
import { readFrames, type Frame } from './tfrecord.ts';
import { ProtoError, WIRE, WireReader, WireWriter } from './protowire.ts';
import { handleBad, SourceError, type BadInputPolicy, type LogRecord, type Origin, type ProgressFn } from './records.ts';

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

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** The single number of a scalar tensor, or undefined when the tensor is not one numeric element. */
function tensorScalar(buf: Uint8Array): number | undefined {
  const r = new WireReader(buf);
  let dtype = 0;
  const values: number[] = [];
  let content: Uint8Array | null = null;
  let elements = 1;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE.varint) dtype = r.varint();
    else if (field === 2 && wire === WIRE.bytes) elements = shapeElements(r.bytes());
    else if (field === 4 && wire === WIRE.bytes) content = r.bytes();
    else if (field === 5) readRepeated(r, wire, values, (x) => x.float(), WIRE.fixed32);
    else if (field === 6) readRepeated(r, wire, values, (x) => x.double(), WIRE.fixed64);
    else if (field === 7 || field === 10) readRepeated(r, wire, values, (x) => x.int64(), WIRE.varint);
    else if (field === 13) readRepeated(r, wire, values, (x) => halfToFloat(x.varint()), WIRE.varint);
    else r.skip(wire);
  }
  if (elements !== 1) return undefined;
  if (![DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_HALF, DT_BFLOAT16].includes(dtype)) return undefined;
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
        return content.length === 2 ? new DataView(new Uint8Array([0, 0, content[0]!, content[1]!]).buffer).getFloat32(0, true) : undefined;
    }
  }
  return values.length === 1 ? values[0] : undefined;
}

function readRepeated(r: WireReader, wire: number, out: number[], one: (r: WireReader) => number, elementWire: number) {
  if (wire === WIRE.bytes && elementWire !== WIRE.bytes) {
    const sub = new WireReader(r.bytes());
    while (!sub.done) out.push(one(sub));
  } else if (wire === elementWire) out.push(one(r));
  else r.skip(wire);
}

/** Number of elements of a TensorShapeProto (1 for a scalar shape with no dims). */
function shapeElements(buf: Uint8Array): number {
  const r = new WireReader(buf);
  let n = 1;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 2 && wire === WIRE.bytes) {
      const d = new WireReader(r.bytes());
      let size = 0;
      while (!d.done) {
        const t = d.tag();
        if (t.field === 1 && t.wire === WIRE.varint) size = d.int64();
        else d.skip(t.wire);
      }
      n *= size;
    } else r.skip(wire);
  }
  return n;
}

function pluginName(buf: Uint8Array): string | null {
  const r = new WireReader(buf);
  let name: string | null = null;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE.bytes) {
      const p = new WireReader(r.bytes());
      while (!p.done) {
        const t = p.tag();
        if (t.field === 1 && t.wire === WIRE.bytes) name = p.string();
        else p.skip(t.wire);
      }
    } else r.skip(wire);
  }
  return name;
}

/** Decodes an Event message. Throws ProtoError on malformed bytes. */
export function decodeEvent(buf: Uint8Array): DecodedEvent {
  const r = new WireReader(buf);
  let wallTime = 0;
  let step = 0; // absent field = 0
  let fileVersion: string | null = null;
  const scalars: { tag: string; value: number }[] = [];
  const otherPluginTags: string[] = [];
  while (!r.done) {
    const key = r.key();
    if (key === 9) wallTime = r.double(); // 1: double
    else if (key === 16) step = r.int64(); // 2: int64
    else if (key === 26) fileVersion = r.string(); // 3: string
    else if (key === 42) {
      // 5: Summary { repeated Value value = 1 }
      const summaryEnd = r.enter();
      while (!r.done) {
        const k = r.key();
        if (k === 10) {
          const valueEnd = r.enter();
          decodeValue(r, scalars, otherPluginTags);
          r.leave(valueEnd);
        } else r.skip(k & 7);
      }
      r.leave(summaryEnd);
    } else r.skip(key & 7);
  }
  return { wallTime, step, fileVersion, scalars, otherPluginTags };
}

/** Summary.Value, read in place up to the reader's current end. */
function decodeValue(r: WireReader, scalars: { tag: string; value: number }[], other: string[]) {
  let tag = '';
  let simple: number | undefined;
  let tensor: Uint8Array | null = null;
  let plugin: string | null = null;
  while (!r.done) {
    const key = r.key();
    if (key === 10) tag = r.string(); // 1: tag
    else if (key === 21) simple = r.float(); // 2: simple_value (float)
    else if (key === 66) tensor = r.bytes(); // 8: tensor
    else if (key === 74) plugin = pluginName(r.bytes()); // 9: metadata
    else r.skip(key & 7);
  }
  if (simple !== undefined) {
    scalars.push({ tag, value: simple });
    return;
  }
  if (plugin !== null && plugin !== 'scalars') {
    other.push(tag);
    return;
  }
  if (tensor !== null) {
    const v = tensorScalar(tensor);
    if (v !== undefined) scalars.push({ tag, value: v });
  }
}

// ---- records ---------------------------------------------------------------------------------

export interface TfeventsReadOptions {
  readonly bad?: BadInputPolicy;
  readonly progress?: ProgressFn;
  /** called when the file ends inside a record (a run still being written) */
  readonly onTruncated?: (origin: Origin, have: number, need: number) => void;
}

/** Reads one event file as records of scalars written together, in file order, a batch per chunk. */
export async function* readTfeventsLog(file: string, opts: TfeventsReadOptions = {}): AsyncGenerator<LogRecord[]> {
  const otherTags = new Set<string>();
  // the record being assembled
  let step = -1;
  let epoch: number | null = null;
  let metrics = new Map<string, number>();
  let hasEpoch = false;
  let origin: Origin = { file, record: 0 };
  let open = false;
  /** where `epoch` sits in a call: learnt from the first one */
  let epochPlace: 'last' | 'first' | null = null;

  const flush = (out: LogRecord[]) => {
    if (open && (metrics.size > 0 || hasEpoch)) out.push({ step, epoch, metrics, origin });
    open = false;
    metrics = new Map();
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
      case 'record': {
        let ev: DecodedEvent;
        try {
          ev = decodeEvent(f.data);
        } catch (e) {
          if (!(e instanceof ProtoError)) throw e;
          handleBad(opts.bad, new SourceError({ file, record: f.index + 1 }, null, `not a valid Event message: ${e.message}`));
          return;
        }
        for (const t of ev.otherPluginTags) otherTags.add(t);
        for (const s of ev.scalars) {
          if (otherTags.has(s.tag)) continue;
          const isEpoch = s.tag === 'epoch';
          if (isEpoch && epochPlace === null) epochPlace = open && ev.step === step && metrics.size > 0 ? 'last' : 'first';
          const repeat = isEpoch ? hasEpoch : metrics.has(s.tag);
          const closedByEpoch = epochPlace === 'last' && hasEpoch;
          const opensWithEpoch = epochPlace === 'first' && isEpoch;
          if (open && (ev.step !== step || repeat || closedByEpoch || opensWithEpoch)) flush(out);
          if (!open) {
            open = true;
            step = ev.step;
            origin = { file, record: f.index + 1 };
          }
          if (s.tag === 'epoch') {
            if (!Number.isInteger(s.value) || s.value < 0) {
              handleBad(opts.bad, new SourceError({ file, record: f.index + 1 }, 'epoch', `expected a non-negative integer epoch, got ${s.value}`));
              continue;
            }
            epoch = s.value;
            hasEpoch = true;
          } else metrics.set(s.tag, s.value);
        }
        if (ev.step < 0) {
          handleBad(opts.bad, new SourceError({ file, record: f.index + 1 }, 'step', `expected a non-negative step, got ${ev.step}`));
        }
        return;
      }
    }
  };

  let sawVersion = false;
  let first = true;
  for await (const frames of readFrames(file, { onBytes: opts.progress })) {
    const out: LogRecord[] = [];
    for (const f of frames) {
      if (first && f.kind === 'record') {
        first = false;
        try {
          sawVersion = decodeEvent(f.data).fileVersion !== null;
        } catch {
          sawVersion = false;
        }
        if (!sawVersion) {
          throw new SourceError({ file, record: 1 }, 'file_version', 'the first record is not a file_version event ("brain.Event:2"); this does not look like a TensorBoard event file');
        }
      }
      onFrame(f, out);
    }
    if (out.length > 0) yield out;
  }
  if (first) throw new SourceError({ file, record: 1 }, null, 'no complete record: the file is empty or not a TFRecord file');
  const out: LogRecord[] = [];
  flush(out);
  if (out.length > 0) yield out;
}

const hex = (n: number) => '0x' + n.toString(16).padStart(8, '0');

// ---- writing (tests, benchmarks) ------------------------------------------------------------

/** An Event holding `file_version` (the first record of every event file). */
export function fileVersionEvent(wallTime = 0): Uint8Array {
  return new WireWriter().double(1, wallTime).string(3, 'brain.Event:2').finish();
}

/** An Event holding one scalar, as torch's SummaryWriter writes it (`simple_value`; step 0 left out). */
export function scalarEvent(tag: string, value: number, step: number, wallTime = 0, form: 'simple' | 'tensor' = 'simple'): Uint8Array {
  const v = new WireWriter().string(1, tag);
  if (form === 'simple') v.float(2, value);
  else {
    const plugin = new WireWriter().message(1, new WireWriter().string(1, 'scalars'));
    v.message(9, plugin);
    const tensor = new WireWriter().uint(1, DT_FLOAT).message(2, new WireWriter()).float(5, value);
    v.message(8, tensor);
  }
  const e = new WireWriter().double(1, wallTime);
  if (step !== 0) e.uint(2, step);
  return e.message(5, new WireWriter().message(1, v)).finish();
}
