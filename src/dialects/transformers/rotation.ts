/**
 * Preservation: `_sorted_checkpoints` and `_rotate_checkpoints`, and the `save_total_limit == 1`
 * clean-up at the end of training. Candidates are `output_dir/checkpoint-*` directories; mtime
 * order (with transformers' fallback to numbers when mtimes span under a second), the best
 * checkpoint moved towards the end but never past the second-to-last place, and the limit raised
 * to 2 when the best is not the newest (compared as path strings, as transformers does).
 */
import { childrenOf, entryAt, type FileEntry } from './files.ts';
import { pyPathStr } from './paths.ts';

export interface Sorted {
  readonly useMtime: boolean;
  readonly result: readonly string[];
}

const byKey = (a: readonly [number, string], b: readonly [number, string]): number =>
  a[0] !== b[0] ? a[0] - b[0] : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

/** Every call of `_sorted_checkpoints` (a fallback shows as the mtime call then the numeric one, same result) and whether it warned. */
export function sortedCheckpoints(files: readonly FileEntry[], outputDir: string, cwd: string, best: string | null, useMtime: boolean): { calls: Sorted[]; warned: boolean } {
  const base = pyPathStr(outputDir);
  const dirs = childrenOf(files, outputDir, cwd)
    .filter(({ name, entry }) => name.startsWith('checkpoint-') && entry.kind === 'dir')
    .map(({ name, entry }) => ({ path: base === '.' ? name : `${base}/${name}`, entry }));
  let keyed: Array<readonly [number, string]>;
  if (useMtime) keyed = dirs.map((d) => [d.entry.mtime ?? 0, d.path] as const);
  else
    keyed = dirs.flatMap((d) => {
      const m = /^.*checkpoint-([0-9]+)/.exec(d.path);
      return m ? [[Number(m[1]), d.path] as const] : [];
    });
  keyed.sort(byKey);
  if (useMtime && keyed.length > 1 && keyed[keyed.length - 1]![0] - keyed[0]![0] < 1.0) {
    const inner = sortedCheckpoints(files, outputDir, cwd, best, false);
    return { calls: [{ useMtime: true, result: inner.calls[0]!.result }, ...inner.calls], warned: true };
  }
  const result = keyed.map((k) => k[1]);
  if (best !== null) {
    const i = result.indexOf(pyPathStr(best));
    // bubble the best towards the end, stopping at the second-to-last place
    for (let j = i; i >= 0 && j < result.length - 2; j++) [result[j], result[j + 1]] = [result[j + 1]!, result[j]!];
  }
  return { calls: [{ useMtime, result }], warned: false };
}

export type Rotation = { readonly sorted: readonly Sorted[]; readonly warned: boolean; readonly remove: readonly string[]; readonly limit: number };

/**
 * How `save_total_limit=1` treats a best checkpoint that is not the newest: 'transformers' raises the
 * limit to 2 (best + newest); 'keepBest' (the opt-in fix `limitOneKeepsBest`) keeps one folder, the
 * best, and compares paths normalised (so `./out` keeps one too).
 */
export type LimitOneRule = 'transformers' | 'keepBest';

/** `_rotate_checkpoints(use_mtime=True)`: null when the limit disables it (None or <= 0). */
export function rotate(files: readonly FileEntry[], outputDir: string, cwd: string, best: string | null, saveTotalLimit: number | null, limitOne: LimitOneRule = 'transformers'): Rotation | null {
  if (saveTotalLimit === null || saveTotalLimit <= 0) return null;
  const { calls, warned } = sortedCheckpoints(files, outputDir, cwd, best, true);
  const list = calls[calls.length - 1]!.result;
  if (list.length <= saveTotalLimit) return { sorted: calls, warned, remove: [], limit: saveTotalLimit };
  if (limitOne === 'keepBest' && saveTotalLimit === 1) {
    // the best when it is on disk, else the newest: one folder either way
    const keep = best !== null && list.includes(pyPathStr(best)) ? pyPathStr(best) : list[list.length - 1]!;
    return { sorted: calls, warned, remove: list.filter((p) => p !== keep), limit: 1 };
  }
  // transformers keeps two so the run stays resumable when the best is not the newest (string comparison)
  const limit = best !== null && saveTotalLimit === 1 && list[list.length - 1] !== best ? 2 : saveTotalLimit;
  return { sorted: calls, warned, remove: list.slice(0, Math.max(0, list.length - limit)), limit };
}

/** The train-end clean-up for save_total_limit == 1: every checkpoint not the same file as the best goes (`os.path.samefile`). */
export function limitOneCleanup(files: readonly FileEntry[], sorted: readonly string[], best: string, cwd: string): { remove: string[]; error: { type: 'FileNotFoundError'; message: string } | null } {
  const remove: string[] = [];
  const bestEntry = entryAt(files, best, cwd);
  for (const ck of sorted) {
    if (bestEntry === undefined) return { remove, error: { type: 'FileNotFoundError', message: `[Errno 2] No such file or directory: '${best}'` } };
    if (entryAt(files, ck, cwd) !== bestEntry) remove.push(ck);
  }
  return { remove, error: null };
}
