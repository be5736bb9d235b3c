/**
 * The local-filesystem store. Every write is atomic (see atomic.ts); nothing outside the root is
 * ever written or removed: keys are checked lexically (keys.ts), and every folder on the way to a
 * checkpoint is checked on disk, so a symlinked folder or a link pointing outside is refused.
 */
import { lstat, mkdir, readFile, readdir, readlink, realpath, rm, stat, symlink, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, resolve as resolvePath, sep } from 'node:path';
import { checkKey, checkPrefix, compareKeys, isLeaseName, temporaryOwner } from '../keys.ts';
import { bytesToPayload, payloadToBytes } from '../payload/codec.ts';
import { StoreError, type CheckpointStore, type StoredEntry } from '../../src/core/store.ts';
import { cleanTemporaries, fsyncDir, replaceAtomically, temporaryName } from './atomic.ts';
import { errnoOf, fsError } from './errors.ts';
import { fsLeaseSlot } from './lease.ts';

export { cleanTemporaries, temporaryName } from './atomic.ts';

/** Where symlinks cannot be made (some network and FAT filesystems, Windows without privilege). */
const NO_SYMLINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EINVAL']);

export async function openFsStore(opts: { root: string; allowSymlinks?: boolean }): Promise<CheckpointStore & { cleanedTemporaries: string[] }> {
  const root = resolvePath(opts.root);
  try {
    await mkdir(root, { recursive: true });
  } catch (e) {
    throw fsError('create the folder for', '', root, e);
  }
  const realRoot = await realpath(root);
  const cleanedTemporaries = await cleanTemporaries(realRoot);
  const supportsSymlinks = opts.allowSymlinks !== false && (await canSymlink(realRoot));

  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + sep);
  const escape = (key: string, what: string, real: string) =>
    new StoreError('escape', key, `checkpoint ${key}: ${what} resolves to ${real}, outside the checkpoint folder ${root}; links and folders must stay inside it`);

  /**
   * The real folder that holds `key`, checked segment by segment: each must be a folder (or a
   * symlink to a folder inside root). With `create`, missing folders are made (metric names with
   * '/' make subfolders). Returns null when a folder is missing and `create` is false.
   */
  const folderOf = async (key: string, create: boolean): Promise<string | null> => {
    const segments = key.split('/').slice(0, -1);
    let current = realRoot;
    for (let i = 0; i < segments.length; i++) {
      const next = join(current, segments[i]!);
      const shown = segments.slice(0, i + 1).join('/');
      let info;
      try {
        info = await lstat(next);
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT') throw fsError('reach the folder of', key, next, e);
        if (!create) return null;
        try {
          await mkdir(next);
          await fsyncDir(current);
        } catch (e2) {
          if (errnoOf(e2) !== 'EEXIST') throw fsError('create the folder of', key, next, e2);
        }
        info = await lstat(next);
      }
      if (info.isSymbolicLink()) {
        const real = await realpath(next).catch((e) => {
          throw fsError('follow the folder link of', key, next, e);
        });
        if (!inside(real)) throw escape(key, `folder ${shown} is a symlink that`, real);
        if (!(await stat(real)).isDirectory()) throw new StoreError('conflict', key, `cannot use checkpoint ${key}: ${shown} is a file, not a folder`);
        current = real;
      } else if (info.isDirectory()) current = next;
      else throw new StoreError('conflict', key, `cannot use checkpoint ${key}: ${shown} is a checkpoint file, not a folder`);
    }
    return current;
  };

  const base = (key: string) => key.slice(key.lastIndexOf('/') + 1);

  /** The real file a key reads from (following links), checked to be inside root; null if absent or dangling. */
  const realFileOf = async (key: string): Promise<string | null> => {
    const folder = await folderOf(key, false);
    if (folder === null) return null;
    const path = join(folder, base(key));
    let real;
    try {
      real = await realpath(path);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return null;
      throw fsError('resolve', key, path, e);
    }
    if (!inside(real)) throw escape(key, 'the link', real);
    return real;
  };

  /** The folder to write `key` into, refusing to replace a folder with a file. */
  const writableFolderOf = async (op: string, key: string): Promise<string> => {
    const folder = (await folderOf(key, true))!;
    const path = join(folder, base(key));
    const info = await lstat(path).catch((e) => (errnoOf(e) === 'ENOENT' ? null : Promise.reject(fsError(op, key, path, e))));
    if (info?.isDirectory()) throw new StoreError('conflict', key, `cannot ${op} checkpoint ${key} at ${path}: a folder of checkpoints is there`);
    return folder;
  };

  const store: CheckpointStore & { cleanedTemporaries: string[] } = {
    kind: 'fs',
    location: root,
    supportsSymlinks,
    cleanedTemporaries,
    lease: fsLeaseSlot(realRoot, root),

    async save(key, payload) {
      checkKey(key);
      const folder = await writableFolderOf('save', key);
      const data = payloadToBytes(payload);
      try {
        await replaceAtomically(folder, base(key), { data });
      } catch (e) {
        throw fsError('save', key, join(folder, base(key)), e);
      }
    },

    async remove(key) {
      checkKey(key);
      const folder = await folderOf(key, false);
      if (folder === null) return;
      const path = join(folder, base(key));
      try {
        const info = await lstat(path);
        // A folder key (a sharded checkpoint) goes as a whole, as Lightning's fs.rm(recursive=True); rm never follows links.
        if (info.isDirectory()) await rm(path, { recursive: true });
        else await unlink(path);
        await fsyncDir(folder);
      } catch (e) {
        if (errnoOf(e) === 'ENOENT') return;
        throw fsError('remove', key, path, e);
      }
    },

    async link(targetKey, linkKey) {
      checkKey(targetKey);
      checkKey(linkKey);
      const target = await realFileOf(targetKey);
      if (target === null) throw new StoreError('not-found', targetKey, `cannot link ${linkKey} to ${targetKey}: ${targetKey} does not exist in ${root}`);
      const folder = await writableFolderOf('link', linkKey);
      const path = join(folder, base(linkKey));
      if (await resolvesThrough(join((await folderOf(targetKey, false))!, base(targetKey)), path)) {
        throw new StoreError('conflict', linkKey, `cannot link ${linkKey} to ${targetKey}: ${targetKey} resolves through ${linkKey}, so the link would replace what it points to`);
      }
      try {
        if (supportsSymlinks) {
          const targetPath = join((await folderOf(targetKey, false))!, base(targetKey));
          try {
            await replaceAtomically(folder, base(linkKey), { linkText: relative(folder, targetPath).split(sep).join('/') });
            return 'link';
          } catch (e) {
            if (!NO_SYMLINK.has(errnoOf(e) ?? '')) throw e;
          }
        }
        await replaceAtomically(folder, base(linkKey), { copyOf: target });
        return 'copy';
      } catch (e) {
        throw fsError(`link (to ${targetKey})`, linkKey, path, e);
      }
    },

    async exists(key) {
      checkKey(key);
      return (await realFileOf(key)) !== null;
    },

    async list(prefix = '') {
      checkPrefix(prefix);
      // Start at the deepest folder the prefix names entirely ('val/acc' -> 'val/').
      const startRel = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
      let start: string | null;
      try {
        // folderOf wants a key; any name inside the folder gives the folder itself.
        start = startRel === '' ? realRoot : await folderOf(startRel + 'x', false);
      } catch (e) {
        if (e instanceof StoreError && e.code === 'conflict') return [];
        throw e;
      }
      if (start === null) return [];
      const out: StoredEntry[] = [];
      const walk = async (dir: string, rel: string): Promise<void> => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (e) {
          if (errnoOf(e) === 'ENOENT') return;
          throw fsError('list', rel || prefix, dir, e);
        }
        for (const d of entries) {
          if (temporaryOwner(d.name) !== null || (rel === '' && isLeaseName(d.name))) continue;
          const key = rel + d.name;
          const path = join(dir, d.name);
          if (d.isDirectory()) {
            if (prefix.startsWith(key + '/') || (key + '/').startsWith(prefix)) await walk(path, key + '/');
            continue;
          }
          if (!key.startsWith(prefix)) continue;
          if (d.isFile()) {
            const size = await lstat(path).then((s) => s.size, () => undefined);
            if (size !== undefined) out.push({ key, kind: 'file', size });
          } else if (d.isSymbolicLink()) {
            const target = await readlink(path).catch(() => undefined);
            if (target === undefined) continue;
            const real = await realpath(path).catch(() => null);
            const size = real !== null && inside(real) ? await stat(real).then((s) => (s.isFile() ? s.size : undefined), () => undefined) : undefined;
            out.push(size === undefined ? { key, kind: 'symlink', target } : { key, kind: 'symlink', target, size });
          }
        }
      };
      await walk(start, startRel);
      return out.sort((a, b) => compareKeys(a.key, b.key));
    },

    async read(key) {
      checkKey(key);
      const real = await realFileOf(key);
      if (real === null) throw new StoreError('not-found', key, `checkpoint ${key} does not exist in ${root}`);
      let bytes;
      try {
        bytes = await readFile(real);
      } catch (e) {
        throw fsError('read', key, real, e);
      }
      return bytesToPayload(key, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    },
  };
  return store;
}

/** Whether following links from `start` passes through `path` (real folders compared, at most 40 hops). */
async function resolvesThrough(start: string, path: string): Promise<boolean> {
  let current = start;
  for (let hop = 0; hop <= 40; hop++) {
    const here = join(await realpath(dirname(current)), basename(current));
    if (here === path) return true;
    const info = await lstat(here).catch(() => null);
    if (info === null || !info.isSymbolicLink()) return false;
    current = resolvePath(dirname(here), await readlink(here));
  }
  return false;
}

/** Whether this folder's filesystem lets us make symlinks (probed once, with a temporary name). */
async function canSymlink(dir: string): Promise<boolean> {
  const probe = join(dir, temporaryName(`symlink-probe-${randomBytes(3).toString('hex')}`));
  try {
    await symlink('.', probe);
    await unlink(probe);
    return true;
  } catch {
    await unlink(probe).catch(() => undefined);
    return false;
  }
}

