/** Raw-bytes payloads: whatever another framework (or another process) serialised. */
import { readFile } from 'node:fs/promises';
import type { Payload } from '../../src/core/store.ts';

export function bytesPayload(data: Uint8Array): Payload {
  if (!(data instanceof Uint8Array)) throw new TypeError(`bytesPayload: expected a Uint8Array (a Buffer is one), got ${Object.prototype.toString.call(data)}`);
  return { kind: 'bytes', data };
}

/** A file another process wrote (torch.save, safetensors, ...), read whole as a bytes payload. */
export async function bytesPayloadFromFile(path: string): Promise<Payload> {
  const b = await readFile(path);
  return bytesPayload(new Uint8Array(b.buffer, b.byteOffset, b.length));
}
