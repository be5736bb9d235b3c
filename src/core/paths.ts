/**
 * POSIX path arithmetic done the way Python's `os.path` and `pathlib` do it, on strings only.
 * The core never touches a filesystem: Lightning's `realpath`/`abspath` become lexical operations
 * against a working directory that arrives with the configuration.
 */

/** `scheme://...` paths (s3://, memory://, gs://) are not local files: fsspec hands them to another filesystem. */
const URL_SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

export function urlScheme(path: string): string | null {
  const m = URL_SCHEME.exec(path);
  return m ? m[1]!.toLowerCase() : null;
}

/** fsspec's `_is_local_file_protocol`: plain paths and file:// are local. */
export function isLocalPath(path: string): boolean {
  const scheme = urlScheme(path);
  return scheme === null || scheme === 'file' || scheme === 'local';
}

/** os.path.join for POSIX: an absolute component restarts the path. */
export function pyJoin(first: string, ...rest: string[]): string {
  let out = first;
  for (const part of rest) out = pyJoin2(out, part);
  return out;
}

/** os.path.join of two components (no rest array: the reducer joins a name per save). */
export function pyJoin2(first: string, second: string): string {
  if (second.charCodeAt(0) === 47) return second;
  if (first === '' || first.charCodeAt(first.length - 1) === 47) return first + second;
  return first + '/' + second;
}

/**
 * An absolute path with nothing to collapse: no '.', '..' or empty segment and no trailing slash
 * (normpath gives it back unchanged, pathlib splits it the same). The last few paths found plain
 * are remembered: a save asks about its new name and the one it displaces several times each.
 */
export function isPlainAbsolute(p: string): boolean {
  if (p === plain0 || p === plain1 || p === plain2 || p === plain3) return true;
  if (p.charCodeAt(0) !== 47 || p.charCodeAt(p.length - 1) === 47 || p.includes('//') || p.includes('/.')) return false;
  plain3 = plain2;
  plain2 = plain1;
  plain1 = plain0;
  plain0 = p;
  return true;
}
// a pure function's memo: '\0' is never a path
let plain0 = '\0';
let plain1 = '\0';
let plain2 = '\0';
let plain3 = '\0';

/** os.path.normpath for POSIX (Python keeps exactly two leading slashes; we fold them like one). */
export function pyNormpath(path: string): string {
  if (path === '') return '.';
  // fast path (the hot case: names the core built itself): nothing to collapse
  if (isPlainAbsolute(path)) return path;
  const absolute = path.startsWith('/');
  const parts: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!absolute) parts.push('..');
      continue;
    }
    parts.push(seg);
  }
  const joined = parts.join('/');
  return absolute ? '/' + joined : joined || '.';
}

/** os.path.abspath: join with the working directory, then normpath. */
export function pyAbspath(path: string, cwd: string): string {
  return pyNormpath(path.startsWith('/') ? path : pyJoin2(cwd, path));
}

/** os.path.dirname */
export function pyDirname(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '';
  // drop the trailing slashes of the head, unless it is all slashes (the root)
  let end = i;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  return end === 0 ? path.slice(0, i + 1) : path.slice(0, end);
}

/** os.path.relpath(path, start) for POSIX. */
export function pyRelpath(path: string, start: string, cwd: string): string {
  const a = pyAbspath(path, cwd).split('/').filter(Boolean);
  const b = pyAbspath(start || '.', cwd).split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const rel = [...Array<string>(b.length - i).fill('..'), ...a.slice(i)];
  return rel.length ? rel.join('/') : '.';
}

/**
 * pathlib's `Path(p).absolute()` as a list of segments: unlike abspath it keeps `..` (pathlib never
 * collapses it), only dropping empty and `.` segments. Lightning compares these for removals.
 */
export function pathlibAbsoluteParts(path: string, cwd: string): string[] {
  const full = path.startsWith('/') ? path : pyJoin2(cwd, path);
  return full.split('/').filter((s) => s !== '' && s !== '.');
}

/** `dirpath in Path(previous).absolute().parents` */
export function isStrictParent(dirParts: readonly string[], pathParts: readonly string[]): boolean {
  if (dirParts.length >= pathParts.length) return false;
  for (let i = 0; i < dirParts.length; i++) if (dirParts[i] !== pathParts[i]) return false;
  return true;
}

/** Is `path` (normalized absolute) inside `dir` (normalized absolute), or equal to it? */
export function isWithin(path: string, dir: string): boolean {
  if (dir === '/') return path.startsWith('/');
  return path === dir || path.startsWith(dir + '/');
}
