/**
 * Names and writes: the template and version counter that turn a candidate into a path, the
 * save / remove / link effects with their effect on the file model, and Lightning's removal guard.
 * The writer owns one slice, the record of the last write (`lastGlobalStepSaved`,
 * `lastCheckpointSaved`), which the skip rule and the last checkpoint read.
 */
import { checkpointPath } from '../brands.ts';
import type { Reason } from '../effects.ts';
import { exists, existingNode, fileKey, removeNode, removePath, writeFile, writeSymlink, type FileNode } from '../files.ts';
import { PyFormatError, pyStrRepr } from '../format/pyformat.ts';
import { formatCheckpointName, type NameOptions } from '../format/template.ts';
import type { PolicyConfig } from '../config.ts';
import { isLocalPath, isPlainAbsolute, isStrictParent, pathlibAbsoluteParts, pyAbspath, pyDirname, pyJoin2, pyRelpath } from '../paths.ts';
import type { PolicyState } from '../state.ts';
import { CandidateView, Raised, trainerOf, type Hook } from './hook.ts';

/** The writer's slice: what was written last, and at which global step. */
export type WriteSlice = Pick<PolicyState, 'lastGlobalStepSaved' | 'lastCheckpointSaved'>;

const key = (h: Hook, path: string) => fileKey(path, h.s.cwd);

export function fileExists(h: Hook, path: string): boolean {
  return exists(h.s.files, key(h, path));
}

const NAME_OPTIONS = new WeakMap<PolicyConfig, NameOptions>();
/** The naming options of a config, one object per config: the template cache recognises a repeat call by identity. */
function nameOptionsOf(c: PolicyConfig): NameOptions {
  let o = NAME_OPTIONS.get(c);
  if (o === undefined) NAME_OPTIONS.set(c, (o = { joinChar: c.checkpointJoinChar, equalsChar: c.checkpointEqualsChar, autoInsertMetricName: c.autoInsertMetricName, extension: c.fileExtension }));
  return o;
}

/** `format_checkpoint_name`: template -> path under dirpath. Python's format errors are raised as they are. */
export function formatName(h: Hook, template: string | null, ver?: number): string {
  const c = h.c;
  let name: string;
  try {
    name = formatCheckpointName(template || c.filename, new CandidateView(h), nameOptionsOf(c), ver);
  } catch (e) {
    if (e instanceof PyFormatError) throw new Raised(e.pyType, e.message);
    throw e;
  }
  const dirpath = h.s.dirpath;
  // the usual name, one segment under a plain absolute dirpath, is inside it by construction
  if (dirpath && name.indexOf('/') < 0 && name !== '.' && name !== '..' && isPlainDir(dirpath)) return dirpath + '/' + name;
  const path = dirpath ? pyJoin2(dirpath, name) : name;
  guardInside(h, path);
  return path;
}

/** Deliberate difference from Lightning: a name never leaves the checkpoint directory. */
function guardInside(h: Hook, path: string) {
  const dirpath = h.s.dirpath ?? '';
  // the common case first, without a regex or normalization: an absolute dirpath with nothing to
  // collapse, and the name directly under it
  if (dirpath.length > 1 && dirpath.charCodeAt(0) === 47 && path.startsWith(dirpath) && path.charCodeAt(dirpath.length) === 47 && isPlainDir(dirpath) && !path.includes('/.', dirpath.length)) return;
  if (!isLocalPath(dirpath)) {
    if (!path.startsWith(dirpath) || path.slice(dirpath.length).split('/').includes('..')) throw leaves(path, dirpath);
    return;
  }
  const dir = pyAbspath(dirpath || '.', h.s.cwd);
  const prefix = dir === '/' ? '/' : dir + '/';
  // the common case needs no normalization: directly under dirpath, no '.'/'..' segment
  if (path.startsWith(prefix) && !path.includes('/.', prefix.length - 1)) return;
  if (!pyAbspath(path, h.s.cwd).startsWith(prefix)) throw leaves(path, dirpath);
}

function leaves(path: string, dirpath: string): Raised {
  return new Raised('ValueError', `ckpt-policy: checkpoint name ${pyStrRepr(path)} leaves the checkpoint directory ${pyStrRepr(dirpath)}`);
}

/**
 * The name of a new checkpoint from `template` with the version counter (`-v1`, `-v2`, … while the
 * name is taken; `exempt` is the file about to be replaced), and the plain name it started from.
 */
export function versionedName(h: Hook, template: string | null, exempt: string | null): Name {
  const plain = formatName(h, template);
  let path = plain;
  let absent = false;
  if (h.c.enableVersionCounter) {
    let v = h.c.startingVersion;
    for (;;) {
      absent = !fileExists(h, path);
      if (absent || path === exempt) break;
      path = formatName(h, template, v++);
    }
  }
  return { path, plain, absent };
}

/** A checkpoint's name: `path` as written, the `plain` name the counter started from, and whether nothing existed at `path` when it was chosen. */
export interface Name {
  readonly path: string;
  readonly plain: string;
  readonly absent: boolean;
}

/** A versionBump note when a written name is not its plain name (the counter moved it). */
export function noteBump(h: Hook, name: { readonly path: string; readonly plain: string }) {
  if (h.c.enableVersionCounter && name.plain !== name.path) h.bumps.push({ kind: 'versionBump', path: name.path, taken: name.plain });
}

/** Writes the checkpoint `path`; `absent`: nothing existed there when the name was chosen (versionedName). */
export function save(h: Hook, path: string, reason: Reason, absent = false) {
  h.effects.push({ type: 'save', path: checkpointPath(path), weightsOnly: h.c.saveWeightsOnly, reason });
  h.s.files = writeFile(h.s.files, key(h, path), absent);
  h.s.lastGlobalStepSaved = h.view.globalStep;
  h.s.lastCheckpointSaved = path;
}

export function remove(h: Hook, path: string, reason: Reason) {
  h.effects.push({ type: 'remove', path: checkpointPath(path), reason });
  h.s.files = removePath(h.s.files, key(h, path));
}

/** The file model's entry for `path` when it exists (following symlinks), for `removeExisting`. */
export function existing(h: Hook, path: string): FileNode | undefined {
  return existingNode(h.s.files, key(h, path));
}

/** `remove` of a path whose existing entry the caller has just looked up (one lookup, not two). */
export function removeExisting(h: Hook, path: string, node: FileNode, reason: Reason) {
  h.effects.push({ type: 'remove', path: checkpointPath(path), reason });
  h.s.files = removeNode(h.s.files, key(h, path), node);
}

/** A relative symlink at `linkpath` to `target` (never to itself). Returns whether it was linked. */
export function link(h: Hook, target: string, linkpath: string, reason: Reason): boolean {
  const cwd = h.s.cwd;
  if (pyAbspath(target, cwd) === pyAbspath(linkpath, cwd)) return false;
  const relTarget = pyRelpath(target, pyDirname(linkpath), cwd);
  h.effects.push({ type: 'link', target: checkpointPath(target), path: checkpointPath(linkpath), relTarget, fallback: 'copy', reason });
  h.s.files = writeSymlink(h.s.files, key(h, linkpath), relTarget);
  return true;
}

/**
 * `_should_remove_checkpoint`. Lightning removes any non-local path unconditionally; we keep its
 * local rules and, on purpose, never remove a remote path outside dirpath or the resumed-from one.
 */
export function shouldRemove(h: Hook, previous: string, current: string): boolean {
  if (previous === current) return false;
  // the common case, without splitting paths: a normalized name under a normalized dirpath
  const dir = h.s.dirpath;
  const resume = trainerOf(h).ckptPath;
  if (dir && previous.startsWith(dir) && previous.charCodeAt(dir.length) === 47 && isPlainDir(dir) && isPlainAbsolute(previous) && (resume === null || (resume !== previous && isPlainAbsolute(resume)))) return true;
  if (!isLocalPath(previous)) {
    const base = dir ?? '';
    return previous !== resume && base !== '' && previous.startsWith(base.endsWith('/') ? base : base + '/') && !previous.slice(base.length).split('/').includes('..');
  }
  const cwd = h.s.cwd;
  const prev = pathlibAbsoluteParts(previous, cwd);
  if (resume !== null && samePath(prev, pathlibAbsoluteParts(resume, cwd))) return false;
  return isStrictParent(pathlibAbsoluteParts(dir ?? '', cwd), prev);
}

/**
 * isPlainAbsolute of the checkpoint directory, asked on every save: remembered (a pure function's
 * memo, kept apart from the other paths asked about so they do not evict it).
 */
function isPlainDir(p: string): boolean {
  if (p === lastPlainDir) return true;
  const plain = isPlainAbsolute(p);
  if (plain) lastPlainDir = p;
  return plain;
}
let lastPlainDir = '\0';

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
