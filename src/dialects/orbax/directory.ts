/**
 * The step-directory model: the manager directory is the state Orbax trusts at start-up. Entries
 * are keyed by their path under the scenario root (`ckpt/12`, `ckpt/7.orbax-checkpoint-tmp`), as
 * the traces list them. Step names follow Orbax's standard name format.
 */
import type { Metrics } from './checkpointInfo.ts';

export const TMP_SUFFIX = '.orbax-checkpoint-tmp';

export interface DirEntry {
  readonly path: string;
  readonly kind: 'dir' | 'file';
  readonly files?: readonly string[];
  readonly empty_dirs?: readonly string[];
  readonly commit_time?: number;
  readonly init_time?: number;
  readonly metrics?: Metrics;
  readonly metrics_text?: string;
  readonly mtime?: number;
  readonly text?: string;
}

export interface NameFormat {
  readonly prefix: string | null;
  readonly fixedLength: number | null;
}

export function buildName(f: NameFormat, step: number): string {
  const digits = f.fixedLength !== null ? padStep(step, f.fixedLength) : String(step);
  return `${f.prefix !== null ? `${f.prefix}_` : ''}${digits}`;
}

/** Python's `f'{step:0{n}d}'`: zero padding after the sign. */
function padStep(step: number, n: number): string {
  const s = String(Math.abs(step));
  return step < 0 ? `-${s.padStart(n - 1, '0')}` : s.padStart(n, '0');
}

/** The step a directory name stands for under the format, or null (Orbax's name regex). */
export function parseStepName(f: NameFormat, name: string): number | null {
  const prefix = f.prefix !== null ? `${f.prefix}_` : '';
  if (!name.startsWith(prefix)) return null;
  const digits = name.slice(prefix.length);
  const n = f.fixedLength;
  const re = n !== null && n > 0 ? new RegExp(`^(0\\d{${n - 1}}|[1-9]\\d{${n - 1}}\\d*)$`) : /^(0|[1-9]\d*)$/;
  return re.test(digits) ? Number(digits) : null;
}

/** `StandardNameFormat("...")` as Orbax prints the format in its messages. */
export function formatRepr(f: NameFormat): string {
  return `StandardNameFormat("${buildName(f, 1234)}")`;
}

export const sortEntries = (es: readonly DirEntry[]): DirEntry[] => [...es].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
