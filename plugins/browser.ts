/**
 * Storage plugins for a web page: the same `openStore(location)` as plugins/index.ts, for the
 * stores a browser has:
 *   'indexeddb://name'  -> IndexedDB (the database `name`; survives reloads)
 *   'memory://name'     -> in-memory, for this page's lifetime
 * Folder paths, file:// and s3:// need Node and are refused with StoreError('unsupported').
 * Nothing here, directly or through its imports, touches node built-ins, Buffer or process.
 */
import { StoreError, type CheckpointStore } from '../src/core/store.ts';
import { indexedDbStore, type IndexedDbStoreOptions } from './indexeddb/index.ts';
import { tfjsMemoryStore } from './tfjs-memory/index.ts';

export * from '../src/core/store.ts';
export { indexedDbStore, type IndexedDbStoreOptions } from './indexeddb/index.ts';
export { tfjsMemoryStore } from './tfjs-memory/index.ts';
export { bytesPayload } from './payload/bytes.ts';
export { checkKey, compareKeys, keyForPath, relativeLinkText } from './keys.ts';
export { carryOut, type CarriedOut } from './effects.ts';

export interface BrowserOpenStoreOptions {
  /** for indexeddb:// locations: another IndexedDB implementation (default: the page's) */
  indexeddb?: Pick<IndexedDbStoreOptions, 'idb'>;
}

const SUPPORTED = 'in a web page the supported locations are indexeddb://name and memory://name';

/** memory://name opened twice is the same store, as in Node. */
const memoryStores = new Map<string, ReturnType<typeof tfjsMemoryStore>>();

export async function openStore(location: string, opts: BrowserOpenStoreOptions = {}): Promise<CheckpointStore> {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(location)?.[1]?.toLowerCase();
  switch (scheme) {
    case undefined:
      if (location === '') throw new StoreError('unsupported', location, `the checkpoint location is empty; ${SUPPORTED}`);
      throw new StoreError('unsupported', location, `${JSON.stringify(location)} is a folder path: folder stores need Node (the local filesystem); ${SUPPORTED} (as dirpath or the \`store\` option)`);
    case 'file':
    case 's3':
      throw new StoreError('unsupported', location, `${scheme}:// stores (in ${JSON.stringify(location)}) need Node; ${SUPPORTED}`);
    case 'indexeddb':
      return indexedDbStore({ name: location.slice('indexeddb://'.length) || 'default', ...opts.indexeddb });
    case 'memory': {
      const name = location.slice('memory://'.length) || 'default';
      let store = memoryStores.get(name);
      if (store === undefined) memoryStores.set(name, (store = tfjsMemoryStore({ name })));
      return store;
    }
    default:
      throw new StoreError('unsupported', location, `no storage plugin for ${scheme}:// (in ${JSON.stringify(location)}); ${SUPPORTED}`);
  }
}
