/** tfjs weight buffers, browser-safe (no node built-ins): shared by the container, the stores and capture. */
import type { TfjsArtifacts } from '../../src/core/store.ts';

/** tfjs' weightData may be one buffer or shards; the layouts here keep one concatenated buffer. */
export function joinWeightData(data: TfjsArtifacts['weightData']): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (!Array.isArray(data)) return new Uint8Array(data as ArrayBuffer);
  const total = data.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out;
}

/** `bytes` as an ArrayBuffer of exactly its length (the buffer itself when the view covers it all). */
export function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
}
