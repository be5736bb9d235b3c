/**
 * How a payload becomes the one file / object that byte stores (fs, S3) hold, and back. Bytes are
 * stored as they are; tfjs artifacts as the container of container.ts. Reading decides by content:
 * a file that starts with the container magic is a tfjs checkpoint (so a container written by
 * another process reads back as tfjs too).
 */
import { StoreError, type Payload } from '../../src/core/store.ts';
import { ContainerError, decodeTfjsCheckpoint, encodeTfjsCheckpoint, isTfjsContainer, joinWeightData } from './container.ts';

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

/** A deep copy, so a store that keeps payloads in memory is not changed by the caller's later writes. */
export function clonePayload(payload: Payload): Payload {
  switch (payload.kind) {
    case 'bytes':
      return { kind: 'bytes', data: payload.data.slice() };
    case 'tfjs': {
      const { weightData, ...rest } = payload.artifacts;
      const copy = structuredClone(rest) as Record<string, unknown>;
      // One concatenated buffer, as fs and S3 return it after their round trip.
      copy.weightData = joinWeightData(weightData).slice().buffer;
      return { kind: 'tfjs', artifacts: copy };
    }
    default:
      return unknownKind(payload);
  }
}

/** Bytes held by a payload in memory (weights plus the JSON of everything else). */
export function payloadBytes(payload: Payload): number {
  switch (payload.kind) {
    case 'bytes':
      return payload.data.byteLength;
    case 'tfjs': {
      const { weightData, ...rest } = payload.artifacts;
      return joinWeightData(weightData).byteLength + Buffer.byteLength(JSON.stringify(rest, (_k, v: unknown) => (v instanceof ArrayBuffer ? `<${v.byteLength}>` : v)));
    }
    default:
      return unknownKind(payload);
  }
}

function unknownKind(payload: never): never {
  throw new StoreError('unsupported', '', `payload kind ${JSON.stringify((payload as { kind?: unknown }).kind)} is not supported; payloads are {kind: 'bytes'} or {kind: 'tfjs'}`);
}
