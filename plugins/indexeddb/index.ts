/**
 * A store in the browser's IndexedDB, for TensorFlow.js training in a web page: checkpoints
 * survive reloads and restarts of the page. One database per location (`indexeddb://name` is the
 * database `name`) with two object stores keyed by checkpoint key: `payloads` (what was saved,
 * tfjs artifacts as they are: IndexedDB's structured clone keeps their ArrayBuffers) and `entries`
 * (sizes, so listing never loads weights).
 *
 * Every operation is one IndexedDB transaction, so a save (payload, size and the folder checks) is
 * atomic: a reader sees the old checkpoint or the new one, never a part. Writes ask for strict
 * durability, so a resolved save is on disk. There are no links: `link` copies (supportsSymlinks
 * false). Keys, their order and the errors are those of the other stores (plugins/keys.ts).
 *
 * Browser-safe: no node built-ins, no Buffer.
 */
import { checkKey, checkPrefix, compareKeys } from '../keys.ts';
import { payloadBytes } from '../payload/clone.ts';
import { joinWeightData, ownBuffer } from '../payload/weights.ts';
import { StoreError, type CheckpointStore, type Payload, type StoredEntry } from '../../src/core/store.ts';
import { globalIdb, type IdbDatabase, type IdbError, type IdbFactory, type IdbKeyRangeStatic, type IdbObjectStore, type IdbRequest, type IdbTransaction } from './idb.ts';

export type { IdbFactory, IdbKeyRangeStatic } from './idb.ts';

const PAYLOADS = 'payloads';
const ENTRIES = 'entries';

export interface IndexedDbStoreOptions {
  /** the database name (the `name` of indexeddb://name); default 'default' */
  readonly name?: string;
  /** another IndexedDB implementation (default: the page's `indexedDB` and `IDBKeyRange`) */
  readonly idb?: { readonly factory: IdbFactory; readonly keyRange: IdbKeyRangeStatic };
}

/** What `entries` holds per checkpoint. */
interface EntryRow {
  readonly size: number;
}

/** One transaction's object stores, and how the body ends it. */
interface Tx {
  readonly payloads: IdbObjectStore;
  readonly entries: IdbObjectStore;
  /** aborts the transaction; the operation rejects with `e` (the first failure wins) */
  fail(e: unknown): void;
  readonly failed: boolean;
  /** `f(result)` when the request succeeds; an exception in `f` fails the transaction */
  on<T>(req: IdbRequest<T>, f: (result: T) => void): void;
}

export function indexedDbStore(opts: IndexedDbStoreOptions = {}): CheckpointStore {
  const name = opts.name ?? 'default';
  const location = `indexeddb://${name}`;
  const idb = opts.idb ?? globalIdb();
  if (idb === null) {
    throw new StoreError('unsupported', location, `${location}: IndexedDB is not available here (web pages and workers have it, Node does not); in Node use a folder, s3:// or memory://`);
  }
  const { factory, keyRange } = idb;

  let connection: Promise<IdbDatabase> | null = null;
  /** why the store can no longer be used (closed, or the database went away), or null */
  let unusable: string | null = null;

  const ioError = (what: string, key: string, cause: unknown) => {
    const e = cause as Partial<IdbError> | null;
    const why = e && typeof e.name === 'string' ? `${e.name}: ${e.message ?? ''}` : String(cause);
    return new StoreError('io', key, `cannot ${what} in ${location}: ${why}`, { cause });
  };

  const open = (): Promise<IdbDatabase> => {
    if (unusable !== null) return Promise.reject(new StoreError('io', location, `${location} ${unusable}`));
    connection ??= new Promise<IdbDatabase>((resolve, reject) => {
      // No version: an existing database opens as it is (never upgraded, so never blocked); a new one is created.
      const req = factory.open(name);
      req.onupgradeneeded = () => {
        const db = req.result;
        for (const s of [PAYLOADS, ENTRIES]) if (!db.objectStoreNames.contains(s)) db.createObjectStore(s);
      };
      req.onsuccess = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(PAYLOADS) || !db.objectStoreNames.contains(ENTRIES)) {
          db.close();
          reject(new StoreError('conflict', location, `${location}: the IndexedDB database ${JSON.stringify(name)} exists and is not a checkpoint store (it lacks the object stores "${PAYLOADS}" and "${ENTRIES}"); give another name`));
          return;
        }
        // Another page deleting or upgrading the database must not wait for us; later calls say why they fail.
        db.onversionchange = () => {
          db.close();
          unusable = 'was deleted or upgraded by another page or tab';
        };
        db.onclose = () => {
          unusable ??= 'was closed by the browser (storage cleared, or a disk error)';
        };
        resolve(db);
      };
      req.onerror = () => reject(ioError('open the database', location, req.error));
    });
    // A failed open is retried by the next call rather than remembered.
    connection.catch(() => (connection = null));
    return connection;
  };

  /** Runs `body` in one transaction over both object stores; resolves with what `done` got once it committed. */
  const transact = async <T>(mode: 'readonly' | 'readwrite', what: string, key: string, body: (tx: Tx, done: (v: T) => void) => void): Promise<T> => {
    const db = await open();
    return new Promise<T>((resolve, reject) => {
      let raw: IdbTransaction;
      try {
        raw = db.transaction([PAYLOADS, ENTRIES], mode, mode === 'readwrite' ? { durability: 'strict' } : undefined);
      } catch (e) {
        // a connection the browser closed under us (onclose/onversionchange) says why
        reject(unusable !== null ? new StoreError('io', key, `cannot ${what}: ${location} ${unusable}`) : ioError(what, key, e));
        return;
      }
      let failure: unknown = null;
      let value: T | undefined;
      const tx: Tx = {
        payloads: raw.objectStore(PAYLOADS),
        entries: raw.objectStore(ENTRIES),
        get failed() {
          return failure !== null;
        },
        fail(e) {
          if (failure !== null) return;
          failure = e instanceof StoreError ? e : ioError(what, key, e);
          try {
            raw.abort();
          } catch {
            // already finishing; oncomplete reports the failure
          }
        },
        on(req, f) {
          req.onsuccess = () => {
            if (failure !== null) return;
            try {
              f(req.result);
            } catch (e) {
              tx.fail(e);
            }
          };
        },
      };
      raw.oncomplete = () => (failure !== null ? reject(failure) : resolve(value as T));
      raw.onabort = () => reject(failure ?? ioError(what, key, raw.error));
      try {
        body(tx, (v) => (value = v));
      } catch (e) {
        tx.fail(e);
      }
    });
  };

  /** A key can't be both a checkpoint and a folder of checkpoints, as on a filesystem; `then` runs when it is neither. */
  const checkNoClash = (tx: Tx, op: string, key: string, then: () => void) => {
    const parts = key.split('/');
    const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
    let pending = parents.length + 1;
    const checked = () => {
      if (--pending === 0 && !tx.failed) then();
    };
    for (const parent of parents) {
      tx.on(tx.entries.getKey(parent), (found) => {
        if (found !== undefined) tx.fail(new StoreError('conflict', key, `cannot ${op} ${key} in ${location}: ${parent} is a checkpoint, not a folder`));
        checked();
      });
    }
    // every key under `key/` sorts between `key/` and `key0` ('0' follows '/')
    tx.on(tx.entries.getKey(keyRange.bound(key + '/', key + '0', false, true)), (found) => {
      if (found !== undefined) tx.fail(new StoreError('conflict', key, `cannot ${op} ${key} in ${location}: it is a folder holding ${String(found)}`));
      checked();
    });
  };

  /** Stores the payload's value; structured clone refusing it (a function in the metadata) is the caller's error, not I/O. */
  const put = (tx: Tx, key: string, value: Payload, size: number) => {
    try {
      tx.payloads.put(value, key);
    } catch (e) {
      const err = e as Partial<IdbError>;
      if (err?.name === 'DataCloneError') {
        throw new StoreError('unsupported', key, `cannot save ${key} in ${location}: the payload holds a value IndexedDB cannot store (${err.message ?? 'DataCloneError'}); payloads are bytes or tfjs artifacts of plain data and ArrayBuffers`, { cause: e });
      }
      throw e;
    }
    tx.entries.put({ size } satisfies EntryRow, key);
  };

  return {
    kind: 'indexeddb',
    location,
    supportsSymlinks: false,

    async save(key, payload) {
      checkKey(key);
      const value = storable(payload);
      const size = payloadBytes(value);
      await transact<void>('readwrite', `save ${key}`, key, (tx) => checkNoClash(tx, 'save', key, () => put(tx, key, value, size)));
    },

    async remove(key) {
      checkKey(key);
      // A folder key goes as a whole, as the fs store's `rm -r`.
      await transact<void>('readwrite', `remove ${key}`, key, (tx) => {
        const under = keyRange.bound(key + '/', key + '0', false, true);
        for (const s of [tx.payloads, tx.entries]) {
          s.delete(key);
          s.delete(under);
        }
      });
    },

    async link(targetKey, linkKey) {
      checkKey(targetKey);
      checkKey(linkKey);
      if (targetKey === linkKey) throw new StoreError('conflict', linkKey, `cannot link ${linkKey} to ${targetKey} in ${location}: ${targetKey} resolves through ${linkKey}, so the link would replace what it points to`);
      await transact<void>('readwrite', `link ${linkKey} to ${targetKey}`, linkKey, (tx) => {
        tx.on(tx.payloads.get(targetKey), (value) => {
          if (value === undefined) {
            tx.fail(new StoreError('not-found', targetKey, `cannot link ${linkKey} to ${targetKey} in ${location}: ${targetKey} does not exist`));
            return;
          }
          tx.on(tx.entries.get(targetKey), (row) => checkNoClash(tx, 'link', linkKey, () => put(tx, linkKey, value as Payload, (row as EntryRow | undefined)?.size ?? 0)));
        });
      });
      return 'copy';
    },

    async exists(key) {
      checkKey(key);
      return transact<boolean>('readonly', `look up ${key}`, key, (tx, done) => tx.on(tx.entries.getKey(key), (found) => done(found !== undefined)));
    },

    async list(prefix = '') {
      checkPrefix(prefix);
      const out = await transact<StoredEntry[]>('readonly', prefix === '' ? 'list' : `list ${prefix}`, prefix || location, (tx, done) => {
        const found: StoredEntry[] = [];
        done(found);
        // keys with the prefix are contiguous in IndexedDB's (UTF-16) order, starting at the prefix
        const cursor = tx.entries.openCursor(prefix === '' ? undefined : keyRange.lowerBound(prefix));
        tx.on(cursor, (c) => {
          if (c === null || typeof c.key !== 'string' || !c.key.startsWith(prefix)) return;
          found.push({ key: c.key, kind: 'file', size: (c.value as EntryRow).size });
          c.continue();
        });
      });
      return out.sort((a, b) => compareKeys(a.key, b.key));
    },

    async read(key) {
      checkKey(key);
      // each read is a fresh structured clone: the caller cannot change what is stored
      const value = await transact<unknown>('readonly', `read ${key}`, key, (tx, done) => tx.on(tx.payloads.get(key), done));
      if (value === undefined) throw new StoreError('not-found', key, `checkpoint ${key} does not exist in ${location}`);
      const kind = (value as { kind?: unknown }).kind;
      if (kind !== 'bytes' && kind !== 'tfjs') throw new StoreError('io', key, `checkpoint ${key} in ${location} is not a payload ckpt-policy wrote (kind ${JSON.stringify(kind)})`);
      return value as Payload;
    },

    async close() {
      unusable ??= 'is closed';
      const c = connection;
      connection = null;
      if (c !== null) (await c.catch(() => null))?.close();
    },
  };
}

/**
 * The payload as IndexedDB should hold it: tfjs weights as one buffer (as every store returns them)
 * and bytes without the rest of a larger buffer they may view (structured clone copies whole
 * buffers). No other copy: `put` clones synchronously, so later changes by the caller do not reach
 * the store.
 */
function storable(payload: Payload): Payload {
  switch (payload.kind) {
    case 'bytes':
      return { kind: 'bytes', data: payload.data.byteLength === payload.data.buffer.byteLength ? payload.data : payload.data.slice() };
    case 'tfjs':
      return { kind: 'tfjs', artifacts: { ...payload.artifacts, weightData: ownBuffer(joinWeightData(payload.artifacts.weightData)) } };
    default:
      // payloadBytes raises the error naming the kinds that exist
      payloadBytes(payload);
      return payload;
  }
}
