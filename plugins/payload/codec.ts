/**
 * How a payload becomes the one file / object that byte stores (fs, S3) hold, and back. Bytes are
 * stored as they are; tfjs artifacts as the container of container.ts. Reading decides by content:
 * a file that starts with the container magic is a tfjs checkpoint (so a container written by
 * another process reads back as tfjs too).
 */
import { StoreError, type Payload } from '../../src/core/store.ts';
import { unknownKind } from './clone.ts';
import { ContainerError, decodeTfjsCheckpoint, encodeTfjsCheckpoint, isTfjsContainer } from './container.ts';

export { clonePayload, payloadBytes } from './clone.ts';

export function payloadToBytes(payload: Payload): Uint8Array {
  switch (payload.kind) {
    case 'bytes':
      return payload.data;
    case 'tfjs':
      return encodeTfjsCheckpoint(payload.artifacts);
    default:
      return unknownKind(payload);
  }
}

export function bytesToPayload(key: string, bytes: Uint8Array): Payload {
  if (!isTfjsContainer(bytes)) return { kind: 'bytes', data: bytes };
  try {
    return { kind: 'tfjs', artifacts: decodeTfjsCheckpoint(bytes) };
  } catch (e) {
    if (e instanceof ContainerError) throw new StoreError('io', key, `checkpoint ${key} is a damaged tfjs checkpoint: ${e.message}`, { cause: e });
    throw e;
  }
}
