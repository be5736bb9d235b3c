/** Raw-bytes payloads: whatever another framework (or another process) serialised. Browser-safe. */
import type { Payload } from '../../src/core/store.ts';

export function bytesPayload(data: Uint8Array): Payload {
  if (!(data instanceof Uint8Array)) throw new TypeError(`bytesPayload: expected a Uint8Array (a Buffer is one), got ${Object.prototype.toString.call(data)}`);
  return { kind: 'bytes', data };
}
