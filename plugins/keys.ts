/**
 * Checkpoint keys, shared by every plugin so that all stores accept and refuse the same keys and
 * list them in the same order.
 */
import { storeKey, type CheckpointPath, type StoreKey } from '../src/core/brands.ts';
import { StoreError } from '../src/core/store.ts';

/** Temporaries the fs plugin writes before renaming into place: `.<name>.ckpt-tmp-<pid>-<hex>`. */
export const TEMP_MARKER = '.ckpt-tmp-';
const TEMP_NAME = /^\..*\.ckpt-tmp-(\d+)-[0-9a-f]+$/;

/** The pid that wrote a temporary, or null when `name` (one path segment) is not a temporary. */
export function temporaryOwner(name: string): number | null {
  const m = TEMP_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/** The writer lease beside the checkpoints (`.ckpt-policy-lease` on S3, `.ckpt-policy-lease.<generation>` on disk): never a key, never listed. */
export const LEASE_NAME = '.ckpt-policy-lease';

/** Whether a top-level name belongs to the lease (so listings skip it and keys cannot clash with it). */
export function isLeaseName(name: string): boolean {
  return name === LEASE_NAME || name.startsWith(LEASE_NAME + '.');
}

/** UTF-8 without Buffer, so keys work the same in a web page (IndexedDB store). */
const utf8 = new TextEncoder();

/** S3's limit, applied everywhere so a key valid on one store is valid on all. */
const MAX_KEY_BYTES = 1024;
const ALLOWED = "keys are relative POSIX paths inside the store: no leading '/', no empty, '.' or '..' segment, no NUL, at most 1024 UTF-8 bytes";

/** Refuses (StoreError 'escape') any key that could leave the store's root or clash with a temporary. */
export function checkKey(key: string): string {
  const refuse = (why: string): never => {
    throw new StoreError('escape', key, `checkpoint key ${JSON.stringify(key)} is refused: ${why}; ${ALLOWED}`);
  };
  if (typeof key !== 'string' || key.length === 0) refuse('it is empty');
  if (key.includes('\0')) refuse('it contains a NUL character');
  if (key.startsWith('/')) refuse('it is an absolute path');
  if (utf8.encode(key).length > MAX_KEY_BYTES) refuse('it is longer than 1024 bytes');
  for (const segment of key.split('/')) {
    if (segment === '') refuse('it has an empty segment (a trailing or doubled "/")');
    if (segment === '.' || segment === '..') refuse(`it has a "${segment}" segment`);
    if (temporaryOwner(segment) !== null) refuse(`"${segment}" is reserved for temporaries (name contains "${TEMP_MARKER}")`);
  }
  if (isLeaseName(key.split('/')[0]!)) refuse(`"${LEASE_NAME}" is reserved for the writer lease`);
  return key;
}

/** A listing prefix: '' or any string that does not start with '/' or contain '..' segments. */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  if (prefix.startsWith('/') || prefix.includes('\0') || prefix.split('/').some((s) => s === '..' || s === '.')) {
    throw new StoreError('escape', prefix, `listing prefix ${JSON.stringify(prefix)} is refused: a prefix is the start of a key (no leading '/', no '.' or '..' segment)`);
  }
  return prefix;
}

/** Byte order of the UTF-8 encodings: the order S3 lists in, used by every plugin. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  // Not `a < b`: UTF-16 order differs from UTF-8's for characters beyond U+FFFF (IndexedDB keys sort in UTF-16 order).
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

/** Posix `relpath(target, dirname(link))`: the text of a relative symlink at `linkKey`. */
export function relativeLinkText(targetKey: string, linkKey: string): string {
  const from = linkKey.split('/').slice(0, -1);
  const to = targetKey.split('/');
  let common = 0;
  while (common < from.length && common < to.length - 1 && from[common] === to[common]) common++;
  return [...Array<string>(from.length - common).fill('..'), ...to.slice(common)].join('/');
}

/** Resolves a relative link text written at `linkKey` back to a key, or null if it leaves the root. */
export function resolveLinkText(linkKey: string, text: string): string | null {
  if (text.startsWith('/')) return null;
  const parts = linkKey.split('/').slice(0, -1);
  for (const seg of text.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.length === 0 ? null : parts.join('/');
}

/**
 * The key of a checkpoint path under a store's location, e.g. ('s3://b/run', 's3://b/run/last.ckpt')
 * -> 'last.ckpt'; the policy's effects carry full paths under its dirpath.
 */
export function keyForPath(location: string, path: CheckpointPath): StoreKey {
  const root = location.replace(/\/+$/, '');
  if (!path.startsWith(root + '/')) {
    throw new StoreError('escape', path, `checkpoint path ${JSON.stringify(path)} is not under the store location ${JSON.stringify(location)}; only paths inside the checkpoint directory can be stored`);
  }
  return storeKey(checkKey(path.slice(root.length + 1)));
}
