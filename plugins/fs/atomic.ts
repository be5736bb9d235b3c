/**
 * Crash-safe writes on a local filesystem: a temporary in the same folder (so rename stays on one
 * filesystem and is atomic), written, fsynced, renamed over the checkpoint name, then the folder
 * fsynced so the rename itself survives a power cut. A reader sees the old file or the new one.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, open, readdir, rename, rm, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_MARKER, temporaryOwner } from '../keys.ts';
import { errnoOf } from './errors.ts';

/** Temporaries this process is writing now: a concurrent open of the same root must not clean them. */
const inFlight = new Set<string>();

/** `.<name>.ckpt-tmp-<pid>-<hex>`: hidden, recognisable, and naming its writer. */
export function temporaryName(base: string): string {
  // Stay under NAME_MAX (255) however long the checkpoint name is.
  const stem = base.length > 180 ? base.slice(0, 180) : base;
  return `.${stem}${TEMP_MARKER}${process.pid}-${randomBytes(6).toString('hex')}`;
}

export type Content = { readonly data: Uint8Array } | { readonly copyOf: string } | { readonly linkText: string };

/** Puts `content` at `dir/base` atomically; on failure removes the temporary and rethrows. */
export async function replaceAtomically(dir: string, base: string, content: Content): Promise<void> {
  const tmp = join(dir, temporaryName(base));
  inFlight.add(tmp);
  try {
    if ('linkText' in content) await symlink(content.linkText, tmp);
    else {
      if ('copyOf' in content) await copyFile(content.copyOf, tmp);
      let fh: FileHandle | undefined;
      try {
        fh = await open(tmp, 'data' in content ? 'wx' : 'r+');
        if ('data' in content) await fh.writeFile(content.data);
        await fh.sync();
      } finally {
        await fh?.close();
      }
    }
    await rename(tmp, join(dir, base));
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  } finally {
    inFlight.delete(tmp);
  }
  await fsyncDir(dir);
}

/** Makes a folder's entries (a rename, a new file, a removal) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    // Some filesystems cannot fsync a folder; the rename is still atomic there.
    if (errnoOf(e) !== 'EINVAL' && errnoOf(e) !== 'ENOTSUP' && errnoOf(e) !== 'EISDIR') throw e;
  } finally {
    await fh.close();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoOf(e) === 'EPERM';
  }
}

/**
 * Removes temporaries left by writers that are gone (a crash, a kill), anywhere under `root`,
 * without following symlinked folders. Temporaries of a live process (another writer on the same
 * folder) are left alone. Returns the removed ones as paths relative to root.
 */
export async function cleanTemporaries(root: string): Promise<string[]> {
  const cleaned: string[] = [];
  const walk = async (dir: string, rel: string) => {
    let names;
    try {
      names = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return;
      throw e;
    }
    let removed = false;
    for (const d of names) {
      const path = join(dir, d.name);
      const owner = temporaryOwner(d.name);
      if (owner !== null) {
        const mine = owner === process.pid;
        if (mine ? inFlight.has(path) : processAlive(owner)) continue;
        await rm(path, { force: true, recursive: true });
        cleaned.push(rel + d.name);
        removed = true;
      } else if (d.isDirectory()) await walk(path, `${rel}${d.name}/`);
    }
    if (removed) await fsyncDir(dir);
  };
  await walk(root, '');
  return cleaned.sort();
}
