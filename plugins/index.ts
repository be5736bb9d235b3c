/**
 * Storage plugins behind one contract (src/core/store.ts). `openStore(location)` picks the plugin
 * from the location as a user writes it, so switching storage is changing that one string:
 *   '/abs/dir', 'rel/dir', 'file:///abs/dir'  -> local filesystem
 *   's3://bucket/prefix'                      -> S3 (or an S3-compatible server)
 *   'memory://name'                           -> in-memory (tfjs artifacts kept as they are)
 *   'indexeddb://name'                        -> IndexedDB, in a browser (the package's browser build)
 * The S3 plugin, and the AWS SDK under it, is loaded only when an s3:// location is opened.
 */
import { fileURLToPath } from 'node:url';
import { openFsStore } from './fs/index.ts';
import type { S3ClientOptions, S3Settings } from './s3/options.ts';
import { parseS3Location } from './s3/location.ts';
import { StoreError, type CheckpointStore } from '../src/core/store.ts';
import { tfjsMemoryStore } from './tfjs-memory/index.ts';
import { loadPeer } from '../src/peer.ts';

export * from '../src/core/store.ts';
export { openFsStore } from './fs/index.ts';
export { parseS3Location, formatS3Location, type S3Location } from './s3/location.ts';
export type { S3ClientOptions, S3Settings } from './s3/options.ts';
export { tfjsMemoryStore } from './tfjs-memory/index.ts';
export { bytesPayload } from './payload/bytes.ts';
export { bytesPayloadFromFile } from './payload/bytesFile.ts';
export { encodeTfjsCheckpoint, decodeTfjsCheckpoint, exportTfjsModelDir, readTfjsModelDir, isTfjsContainer, ContainerError, CONTAINER_MAGIC, CONTAINER_VERSION } from './payload/container.ts';
export { payloadToBytes, bytesToPayload } from './payload/codec.ts';
export { checkKey, compareKeys, keyForPath, relativeLinkText } from './keys.ts';
export { carryOut, type CarriedOut } from './effects.ts';

export interface OpenStoreOptions {
  /** for s3:// locations; bucket and prefix come from the location */
  s3?: S3ClientOptions & S3Settings;
  /** for local paths */
  fs?: { allowSymlinks?: boolean };
}

/** memory://name opened twice is the same store, as a folder opened twice is the same folder. */
const memoryStores = new Map<string, ReturnType<typeof tfjsMemoryStore>>();

export async function openStore(location: string, opts: OpenStoreOptions = {}): Promise<CheckpointStore> {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(location)?.[1]?.toLowerCase();
  switch (scheme) {
    case undefined:
      if (location === '') throw new StoreError('unsupported', location, 'the checkpoint location is empty; give a folder path, file:///path, s3://bucket/prefix or memory://name');
      return openFsStore({ root: location, ...opts.fs });
    case 'file':
      return openFsStore({ root: fileURLToPath(location), ...opts.fs });
    case 's3': {
      const { bucket, prefix } = parseS3Location(location);
      const { s3Store } = await loadPeer(() => import('./s3/index.ts'), ['@aws-sdk/client-s3@3', '@aws-sdk/lib-storage@3'], `the S3 store (${location})`);
      return s3Store({ ...opts.s3, bucket, prefix });
    }
    case 'memory': {
      const name = location.slice('memory://'.length) || 'default';
      let store = memoryStores.get(name);
      if (store === undefined) memoryStores.set(name, (store = tfjsMemoryStore({ name })));
      return store;
    }
    case 'indexeddb':
      throw new StoreError('unsupported', location, `indexeddb:// is a browser store; in Node use a folder path, file://, s3:// or memory://`);
    default:
      throw new StoreError('unsupported', location, `no storage plugin for ${scheme}:// (in ${JSON.stringify(location)}); supported: a folder path, file://, s3://, memory:// (and indexeddb:// in a browser)`);
  }
}
