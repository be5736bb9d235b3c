/**
 * The part of the IndexedDB API the store uses, typed structurally: the project compiles without
 * the DOM lib (it is a Node project first), and these few members are all the store relies on.
 */

export interface IdbError {
  readonly name: string;
  readonly message: string;
}

export interface IdbRequest<T> {
  readonly result: T;
  readonly error: IdbError | null;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}

export interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  readonly transaction: IdbTransaction | null;
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}

export interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
}

export interface IdbKeyRangeStatic {
  bound(lower: string, upper: string, lowerOpen?: boolean, upperOpen?: boolean): unknown;
  lowerBound(lower: string, open?: boolean): unknown;
}

export interface IdbDatabase {
  readonly objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): IdbObjectStore;
  transaction(stores: string[], mode: 'readonly' | 'readwrite', options?: { durability?: 'default' | 'strict' | 'relaxed' }): IdbTransaction;
  close(): void;
  onversionchange: (() => void) | null;
  onclose: (() => void) | null;
}

export interface IdbTransaction {
  readonly error: IdbError | null;
  objectStore(name: string): IdbObjectStore;
  abort(): void;
  oncomplete: (() => void) | null;
  onabort: (() => void) | null;
  onerror: (() => void) | null;
}

export interface IdbCursorWithValue {
  readonly key: unknown;
  readonly value: unknown;
  continue(): void;
}

export interface IdbObjectStore {
  get(key: string): IdbRequest<unknown>;
  getKey(query: string | unknown): IdbRequest<unknown>;
  put(value: unknown, key: string): IdbRequest<unknown>;
  delete(query: string | unknown): IdbRequest<undefined>;
  openCursor(query?: unknown): IdbRequest<IdbCursorWithValue | null>;
}

/** The page's (or worker's) IndexedDB, or null where there is none (Node). */
export function globalIdb(): { factory: IdbFactory; keyRange: IdbKeyRangeStatic } | null {
  const g = globalThis as { indexedDB?: IdbFactory; IDBKeyRange?: IdbKeyRangeStatic };
  return g.indexedDB && g.IDBKeyRange ? { factory: g.indexedDB, keyRange: g.IDBKeyRange } : null;
}
