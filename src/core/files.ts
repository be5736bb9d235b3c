/**
 * What the policy knows about the storage: a persistent (structurally shared) map of paths to
 * files, symlinks and directories. Lightning asks the filesystem whether a name exists (for the
 * version counter) and what a directory holds (for the "not empty" warning); the pure core asks
 * this model instead. It starts from the listing that arrives with the setup event and follows the
 * core's own save / remove / link effects. The same model replays Lightning's traces in tests.
 *
 * Keys are normalized absolute paths (or URLs verbatim for non-local stores).
 */
import { t } from './deps.cts';
import { VMap } from './vmap.ts';
import { isLocalPath, pyDirname, pyJoin2, pyNormpath } from './paths.ts';

export type FileNode =
  | { readonly kind: 'file' }
  | { readonly kind: 'dir' }
  | { readonly kind: 'symlink'; readonly target: string };

/** One entry of a listing, as events carry it (a path as the user or a store names it). */
export const FileEntryCodec = t.readonly(
  t.intersection([
    t.type({ path: t.string, kind: t.keyof({ file: null, dir: null, symlink: null }) }),
    t.partial({
      /** raw symlink text, relative to the link's directory unless absolute */
      target: t.string,
    }),
  ]),
);
export type FileEntry = t.TypeOf<typeof FileEntryCodec>;

const FILE: FileNode = { kind: 'file' };
const DIR: FileNode = { kind: 'dir' };

export type FileTree = VMap<FileNode>;
export const emptyTree: FileTree = VMap.empty<FileNode>();

/** Normalizes a local path against the working directory; URLs are kept as written. */
export function fileKey(path: string, cwd: string): string {
  // an absolute path is local (a URL starts with its scheme); skips the scheme regex on the hot path
  // (normpath remembers the last few names it found already normal: a save keys each several times)
  if (path.charCodeAt(0) === 47) return pyNormpath(path);
  if (!isLocalPath(path)) return path;
  return pyNormpath(path.startsWith('/') ? path : pyJoin2(cwd, path));
}

function ancestors(key: string): string[] {
  const out: string[] = [];
  if (!key.startsWith('/')) return out;
  let d = pyDirname(key);
  while (d !== '' && d !== '/') {
    out.push(d);
    d = pyDirname(d);
  }
  return out;
}

function withParents(tree: FileTree, key: string): FileTree {
  if (!key.startsWith('/')) return tree;
  // walk up only until a folder the model already has (its own parents were added with it)
  let t = tree;
  for (let d = pyDirname(key); d !== '' && d !== '/'; d = pyDirname(d)) {
    if (t.get(d)?.kind === 'dir') break;
    t = t.set(d, DIR);
  }
  return t;
}

export function treeFromListing(entries: readonly FileEntry[], cwd: string): FileTree {
  const m = new Map<string, FileNode>();
  for (const e of entries) {
    const key = fileKey(e.path, cwd);
    m.set(key, e.kind === 'symlink' ? { kind: 'symlink', target: e.target ?? '' } : e.kind === 'dir' ? DIR : FILE);
    for (const d of ancestors(key)) if (!m.has(d)) m.set(d, DIR);
  }
  return VMap.from(m);
}

/** Follows symlinks (at most 40 hops, like the kernel); a dangling link does not exist. */
export function resolveNode(tree: FileTree, key: string): FileNode | undefined {
  let k = key;
  for (let hops = 0; hops < 40; hops++) {
    const node = tree.get(k);
    if (node === undefined || node.kind !== 'symlink') return node;
    k = pyNormpath(node.target.startsWith('/') ? node.target : pyJoin2(pyDirname(k), node.target));
  }
  return undefined;
}

/** fs.exists: follows symlinks, so a dangling symlink counts as absent. */
export function exists(tree: FileTree, key: string): boolean {
  return resolveNode(tree, key) !== undefined;
}

function removeSubtree(tree: FileTree, key: string): FileTree {
  const prefix = key + '/';
  return tree.delete(key).deleteWhere((_, k) => k.startsWith(prefix));
}

/**
 * A checkpoint written at `key`: replaces whatever was there (a symlink is replaced, not followed).
 * `notDir`: the caller has just seen that nothing exists there (so no folder is), saving a lookup.
 */
export function writeFile(tree: FileTree, key: string, notDir = false): FileTree {
  return withParents(!notDir && tree.get(key)?.kind === 'dir' ? removeSubtree(tree, key) : tree, key).set(key, FILE);
}

/** The entry at `key` when the path exists following symlinks (what Lightning's remove asks first); else undefined. */
export function existingNode(tree: FileTree, key: string): FileNode | undefined {
  const node = tree.get(key);
  return node === undefined || (node.kind === 'symlink' && !exists(tree, key)) ? undefined : node;
}

/** Lightning's remove: only when the path exists following symlinks; then the entry itself goes. */
export function removePath(tree: FileTree, key: string): FileTree {
  const node = existingNode(tree, key);
  return node === undefined ? tree : removeNode(tree, key, node);
}

/** Removes `node`, the existing entry at `key` (a folder with everything under it). */
export function removeNode(tree: FileTree, key: string, node: FileNode): FileTree {
  return node.kind === 'dir' ? removeSubtree(tree, key) : tree.delete(key);
}

/** save_last='link': whatever is at `key` is removed and a symlink with text `target` takes its place. */
export function writeSymlink(tree: FileTree, key: string, target: string): FileTree {
  return withParents(tree.get(key)?.kind === 'dir' ? removeSubtree(tree, key) : tree, key).set(key, { kind: 'symlink', target });
}

/** Does `dir` exist as a directory holding at least one entry? (`_is_dir(dirpath) and len(fs.ls(dirpath)) > 0`) */
export function isNonEmptyDir(tree: FileTree, dir: string): boolean {
  if (resolveNode(tree, dir)?.kind !== 'dir') return false;
  const prefix = dir === '/' ? '/' : dir + '/';
  return tree.some((_, k) => k.startsWith(prefix) && k !== dir);
}

/** Every file, symlink and empty directory below `root`, sorted: what a trace lists in files_after. */
export function listing(tree: FileTree, root: string): FileEntry[] {
  const prefix = root === '/' ? '/' : root + '/';
  const keys = [...tree.keys()].filter((k) => k.startsWith(prefix)).sort();
  const out: FileEntry[] = [];
  for (const k of keys) {
    const node = tree.get(k)!;
    if (node.kind === 'dir') {
      const childPrefix = k + '/';
      if (keys.some((o) => o.startsWith(childPrefix))) continue;
      out.push({ path: k, kind: 'dir' });
    } else if (node.kind === 'symlink') out.push({ path: k, kind: 'symlink', target: node.target });
    else out.push({ path: k, kind: 'file' });
  }
  return out;
}
