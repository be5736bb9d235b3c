/**
 * Sizes and SHA-256 checksums of what a store wrote, for `audit storage`: a store wrapper that
 * hashes each save's bytes (exactly the bytes byte stores keep) and tells the decision log, which
 * adds them to the save's outcome record.
 */
import { payloadToBytes } from '../../plugins/payload/codec.ts';
import type { CheckpointStore, Payload } from '../core/store.ts';
import { sha256Hex } from './canonical.ts';
import type { Digest } from './writer.ts';

/** Stores that keep a payload as the one blob payloadToBytes makes. */
const BYTE_STORES = new Set(['fs', 's3']);

export function withDigests(store: CheckpointStore, log: { noteStored(key: string, digest: Digest): void }): CheckpointStore {
  const byteStore = BYTE_STORES.has(store.kind);
  return {
    kind: store.kind,
    location: store.location,
    supportsSymlinks: store.supportsSymlinks,
    async save(key: string, payload: Payload) {
      const data = payloadToBytes(payload);
      const digest = { size: data.byteLength, sha256: sha256Hex(data) };
      // byte stores get the encoded blob, so a tfjs payload is encoded once
      await store.save(key, byteStore ? { kind: 'bytes', data } : payload);
      log.noteStored(key, digest);
    },
    remove: (key) => store.remove(key),
    link: (targetKey, linkKey) => store.link(targetKey, linkKey),
    exists: (key) => store.exists(key),
    list: (prefix) => store.list(prefix),
    read: (key) => store.read(key),
    close: async () => store.close?.(),
  };
}
