/**
 * Path strings as transformers holds them. transformers compares some paths as strings
 * (`os.path.join` results) and others after `pathlib.Path` normalisation, so both are modelled.
 */

/** os.path.join(a, b) for a relative b. */
export function pyJoin(a: string, b: string): string {
  if (a === '') return b;
  return a.endsWith('/') ? a + b : `${a}/${b}`;
}

/** str(pathlib.Path(p)): '.' parts and repeated or trailing slashes dropped ('..' kept). */
export function pyPathStr(p: string): string {
  const absolute = p.startsWith('/');
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  const s = parts.join('/');
  return absolute ? '/' + s : s === '' ? '.' : s;
}

/** The last part of a path. */
export const baseName = (p: string): string => pyPathStr(p).split('/').pop() ?? '';
