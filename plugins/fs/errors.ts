/** errno -> StoreError, naming the key, the path and the cause in words. */
import { StoreError, type StoreErrorCode } from '../../src/core/store.ts';

const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a parent is a file, not a folder',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  ELOOP: 'too many levels of symbolic links',
  EFBIG: 'file too large',
};

export function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string' ? (e as { code: string }).code : undefined;
}

/** `op` is a verb phrase ('save', 'remove', ...); the message says what failed, where and why. */
export function fsError(op: string, key: string, path: string, e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const code = errnoOf(e);
  const kind: StoreErrorCode = code === 'ENOENT' ? 'not-found' : code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST' ? 'conflict' : 'io';
  const cause = code ? `${code} (${CAUSES[code] ?? (e as Error).message})` : String((e as Error)?.message ?? e);
  return new StoreError(kind, key, `cannot ${op} checkpoint ${key} at ${path}: ${cause}`, { cause: e });
}
