/**
 * What the dialect knows of the filesystem: a listing, given in events, with directory mtimes
 * (transformers' rotation orders by them). Paths are relative to the working directory and
 * normalised; an absolute path under `cwd` is listed relative to it.
 */
import * as t from 'io-ts';
import { pyPathStr } from './paths.ts';

export const FileEntryCodec = t.intersection([
  t.type({ path: t.string, kind: t.keyof({ dir: null, file: null }) }),
  t.partial({ mtime: t.number }),
]);
export type FileEntry = t.TypeOf<typeof FileEntryCodec>;

/** The listing key of a path string transformers holds. */
export function listingKey(p: string, cwd: string): string {
  const n = pyPathStr(p);
  if (cwd !== '' && n.startsWith(cwd + '/')) return n.slice(cwd.length + 1);
  return n === '.' ? '' : n;
}

export function entryAt(files: readonly FileEntry[], p: string, cwd: string): FileEntry | undefined {
  const key = listingKey(p, cwd);
  return files.find((f) => f.path === key);
}

/** The entries directly inside directory `p` (name, entry). */
export function childrenOf(files: readonly FileEntry[], p: string, cwd: string): Array<{ name: string; entry: FileEntry }> {
  const key = listingKey(p, cwd);
  const prefix = key === '' ? '' : key + '/';
  const out: Array<{ name: string; entry: FileEntry }> = [];
  for (const f of files) {
    if (!f.path.startsWith(prefix)) continue;
    const rest = f.path.slice(prefix.length);
    if (rest !== '' && !rest.includes('/')) out.push({ name: rest, entry: f });
  }
  return out;
}
