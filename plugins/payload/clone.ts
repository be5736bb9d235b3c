/**
 * Payloads held in memory (memory:// and IndexedDB stores): copies and sizes. Browser-safe: no node
 * built-ins and no Buffer, unlike the byte encoding of codec.ts / container.ts.
 */
import { StoreError, type Payload } from '../../src/core/store.ts';
import { joinWeightData } from './weights.ts';

const utf8 = new TextEncoder();

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
      return joinWeightData(weightData).byteLength + utf8.encode(JSON.stringify(rest, (_k, v: unknown) => (v instanceof ArrayBuffer ? `<${v.byteLength}>` : v))).length;
    }
    default:
      return unknownKind(payload);
  }
}

export function unknownKind(payload: never): never {
  throw new StoreError('unsupported', '', `payload kind ${JSON.stringify((payload as { kind?: unknown }).kind)} is not supported; payloads are {kind: 'bytes'} or {kind: 'tfjs'}`);
}
