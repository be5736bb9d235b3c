/**
 * The writer lease on a local filesystem. A filesystem has exclusive create (link(2) fails with
 * EEXIST) but no compare-and-swap of a file's content, so each version of the record is its own
 * file, `.ckpt-policy-lease.<generation>`, and writing version g+1 is the swap: of two writers that
 * both saw generation g, exactly one creates g+1. The newest generation is the record; older ones
 * are removed by whoever wrote the newest, which is never removed (a release writes a new one).
 * Each generation is written to a temporary, fsynced, then linked into place: it is never partial.
 */
import { link, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LeaseSlot } from '../../src/core/store.ts';
import { LEASE_NAME } from '../keys.ts';
import { fsyncDir, temporaryName } from './atomic.ts';
import { errnoOf } from './errors.ts';

const GENERATION = /^\.ckpt-policy-lease\.(\d+)$/;

export function fsLeaseSlot(realRoot: string, shownRoot: string): LeaseSlot {
  const fileOf = (g: number) => join(realRoot, `${LEASE_NAME}.${g}`);

  const generations = async (): Promise<number[]> => {
    const names = await readdir(realRoot);
    return names.map((n) => GENERATION.exec(n)?.[1]).filter((g): g is string => g !== undefined).map(Number).sort((a, b) => a - b);
  };

  /** Creates generation g exclusively; false when it is already there. */
  const put = async (g: number, text: string): Promise<boolean> => {
    const tmp = join(realRoot, temporaryName(`${LEASE_NAME}.${g}`));
    try {
      const fh = await open(tmp, 'wx');
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await link(tmp, fileOf(g));
    } catch (e) {
      if (errnoOf(e) === 'EEXIST') return false;
      throw e;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    await fsyncDir(realRoot);
    return true;
  };

  const read = async (): Promise<{ text: string; version: string } | null> => {
    // the newest may be superseded and removed between the listing and the read: look again
    for (;;) {
      const gens = await generations();
      const g = gens.at(-1);
      if (g === undefined) return null;
      try {
        return { text: await readFile(fileOf(g), 'utf8'), version: String(g) };
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT') throw e;
      }
    }
  };

  /** After writing g: the swap held only if nothing newer exists; then the older generations go. */
  const settle = async (g: number): Promise<string | null> => {
    const gens = await generations();
    if (gens.at(-1)! > g) {
      await unlink(fileOf(g)).catch(() => undefined);
      return null;
    }
    for (const old of gens) if (old < g) await unlink(fileOf(old)).catch(() => undefined);
    return String(g);
  };

  return {
    where: join(shownRoot, `${LEASE_NAME}.*`),
    read,
    async create(text) {
      if ((await generations()).length > 0) return null;
      return (await put(1, text)) ? settle(1) : null;
    },
    async replace(text, version) {
      const g = Number(version) + 1;
      if (!Number.isSafeInteger(g)) return null;
      return (await put(g, text)) ? settle(g) : null;
    },
  };
}
