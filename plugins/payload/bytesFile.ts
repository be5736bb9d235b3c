/** Node only: a bytes payload read from a file. */
import { readFile } from 'node:fs/promises';
import type { Payload } from '../../src/core/store.ts';
import { bytesPayload } from './bytes.ts';

/** A file another process wrote (torch.save, safetensors, ...), read whole as a bytes payload. */
export async function bytesPayloadFromFile(path: string): Promise<Payload> {
  const b = await readFile(path);
  return bytesPayload(new Uint8Array(b.buffer, b.byteOffset, b.length));
}
