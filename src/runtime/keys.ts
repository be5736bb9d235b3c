/**
 * Effect paths <-> store keys. The reducer names checkpoints by absolute path under its resolved
 * dirpath (or by URL when dirpath is one); a store is rooted at that directory and speaks in keys
 * relative to it. The policy's own guard keeps every name inside dirpath, so a path that maps to no
 * key is a bug, reported as one.
 */
import { checkpointPath, storeKey, type CheckpointPath, type StoreKey } from '../core/brands.ts';
import type { FileEntry } from '../core/files.ts';
import { isLocalPath, pyAbspath, pyJoin } from '../core/paths.ts';
import type { StoredEntry } from '../core/store.ts';

/** The store key of a checkpoint path (an effect's `path`); throws when it is not under dirpath. */
export function keyOf(dirpath: string, path: CheckpointPath, cwd: string): StoreKey {
  if (isLocalPath(dirpath)) {
    const dir = pyAbspath(stripFileScheme(dirpath), cwd);
    const abs = pyAbspath(stripFileScheme(path), cwd);
    const prefix = dir === '/' ? '/' : dir + '/';
    if (abs.startsWith(prefix) && abs.length > prefix.length) return storeKey(abs.slice(prefix.length));
  } else {
    const dir = dirpath.replace(/\/+$/, '');
    if (path.startsWith(dir + '/')) {
      const key = path.slice(dir.length).replace(/^\/+/, '');
      if (key !== '' && !key.split('/').includes('..')) return storeKey(key);
    }
  }
  throw new Error(`ckpt-policy runtime: checkpoint path ${JSON.stringify(path)} is not inside the checkpoint directory ${JSON.stringify(dirpath)}`);
}

/** The checkpoint path of a store key under dirpath. */
export function pathOf(dirpath: string, key: StoreKey): CheckpointPath {
  return checkpointPath(isLocalPath(dirpath) ? pyJoin(dirpath, key) : dirpath.replace(/\/+$/, '') + '/' + key);
}

/** A store listing as the setup event's `files` (paths under dirpath). */
export function filesOf(dirpath: string, entries: readonly StoredEntry[]): FileEntry[] {
  return entries.map((e) => {
    // a listing's keys come from the store itself
    const path = pathOf(dirpath, storeKey(e.key));
    return e.kind === 'symlink' ? { path, kind: 'symlink', target: e.target ?? '' } : { path, kind: 'file' };
  });
}

function stripFileScheme(p: string): string {
  return p.replace(/^(file|local):\/\//i, '');
}
