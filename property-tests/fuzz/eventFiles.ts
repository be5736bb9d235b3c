/**
 * Seeded mutations of real TensorBoard event files: raw byte flips and truncation (the CRCs catch
 * them), and records re-framed with valid CRCs so the reader's checks past the framing are reached:
 * huge, negative and NaN values and steps, bad epochs, garbage payloads, wrong length fields,
 * swapped, duplicated and dropped records.
 */
import { decodeEvent, scalarEvent } from '../../src/sources/tfevents.ts';
import { frameRecord, maskedCrc32c } from '../../src/sources/tfrecord.ts';

/** The payloads of the first `max` well-framed records (a real file's prefix is a valid event file). */
export function payloads(buf: Uint8Array, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let pos = 0; pos + 12 <= buf.length && out.length < max; ) {
    const len = view.getUint32(pos, true) + view.getUint32(pos + 4, true) * 2 ** 32;
    if (pos + 16 + len > buf.length) break;
    out.push(buf.subarray(pos + 12, pos + 12 + len));
    pos += 16 + len;
  }
  return out;
}

/** The scalar tags the payloads hold (for a policy that monitors one of them). */
export function scalarTags(ps: readonly Uint8Array[]): string[] {
  const tags = new Set<string>();
  for (const p of ps) for (const s of decodeEvent(p).scalars) if (s.tag !== 'epoch') tags.add(s.tag);
  return [...tags];
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const VALUES = [NaN, Infinity, -Infinity, 1e39, -1e39, 3.4e38, -1, -0, 1e-45, 0];
const STEPS = [-1, -1e12, 1e11, 2 ** 53 + 2, 0, 350257938432, 2 ** 63];

/** A frame with a valid length CRC around a length that does not match the payload. */
function wrongLength(payload: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(12 + payload.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, len >>> 0, true);
  view.setUint32(4, Math.floor(len / 2 ** 32) >>> 0, true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(payload, 12);
  view.setUint32(12 + payload.length, maskedCrc32c(payload), true);
  return out;
}

export function mutateEvents(ps0: readonly Uint8Array[], r: () => number): Uint8Array {
  const ps = [...ps0];
  const frames: (Uint8Array | null)[] = [];
  const at = () => Math.floor(r() * ps.length);
  const scalarAt = () => {
    for (let k = 0; k < 8; k++) {
      const i = at();
      let ev;
      try {
        ev = decodeEvent(ps[i]!);
      } catch {
        continue; // a payload an earlier mutation replaced with garbage
      }
      if (ev.scalars.length > 0) return { i, ev, s: ev.scalars[0]! };
    }
    return null;
  };
  let raw: 'flip' | 'truncate' | null = null;
  const lengths = new Map<number, number>();
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n && ps.length > 1; k++) {
    switch (pick(r, ['flip', 'truncate', 'value', 'step', 'epoch', 'tensor', 'garbage', 'length', 'swap', 'dup', 'drop'] as const)) {
      case 'flip':
      case 'truncate':
        raw = raw ?? pick(r, ['flip', 'truncate'] as const);
        break;
      case 'value': {
        const x = scalarAt();
        if (x) ps[x.i] = scalarEvent(x.s.tag, pick(r, VALUES), x.ev.step, x.ev.wallTime);
        break;
      }
      case 'step': {
        const x = scalarAt();
        if (x) ps[x.i] = scalarEvent(x.s.tag, x.s.value, pick(r, STEPS), pick(r, [x.ev.wallTime, NaN, -1, 1e300]));
        break;
      }
      case 'epoch': {
        const x = scalarAt();
        if (x) ps[x.i] = scalarEvent('epoch', pick(r, [-1, 0.5, 1e11, NaN, 2 ** 31, 3]), x.ev.step, x.ev.wallTime);
        break;
      }
      case 'tensor': {
        const x = scalarAt();
        if (x) ps[x.i] = scalarEvent(x.s.tag, pick(r, VALUES), x.ev.step, x.ev.wallTime, 'tensor');
        break;
      }
      case 'garbage': {
        const g = new Uint8Array(Math.floor(r() * 64));
        for (let b = 0; b < g.length; b++) g[b] = Math.floor(r() * 256);
        ps[1 + Math.floor(r() * (ps.length - 1))] = g;
        break;
      }
      case 'length':
        lengths.set(at(), pick(r, [0, 1, 2 ** 32, 2 ** 40, 2 ** 53, 1 << 30, Math.floor(r() * 200)]));
        break;
      case 'swap': {
        const i = at();
        const j = at();
        [ps[i], ps[j]] = [ps[j]!, ps[i]!];
        break;
      }
      case 'dup': {
        const i = at();
        ps.splice(i, 0, ps[i]!);
        break;
      }
      case 'drop':
        ps.splice(pick(r, [0, at()]), 1);
        break;
    }
  }
  for (const [i, p] of ps.entries()) frames.push(lengths.has(i) ? wrongLength(p, lengths.get(i)!) : frameRecord(p));
  const total = frames.reduce((a, f) => a + f!.length, 0);
  let out = new Uint8Array(total);
  let o = 0;
  for (const f of frames) {
    out.set(f!, o);
    o += f!.length;
  }
  if (raw === 'flip') for (let k = 0; k < 1 + r() * 4; k++) out[Math.floor(r() * out.length)]! ^= 1 << Math.floor(r() * 8);
  if (raw === 'truncate') out = out.subarray(0, Math.floor(r() * out.length));
  return out;
}
