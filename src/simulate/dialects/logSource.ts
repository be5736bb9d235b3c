/**
 * What kind of log a LOG argument is, told from its name and first bytes, so that each dialect
 * reads it the way it can (or says which kinds it reads). Lightning's own kinds (metrics.csv,
 * TensorBoardLogger event files, JSONL loop events) stay with src/sources/open.ts.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { headBytes } from '../../sources/text.ts';
import { kerasEventFiles, tfeventsWriter, type KerasEventFiles } from './kerasTfevents.ts';

export type LogSource =
  /** a Lightning log: metrics.csv, TensorBoardLogger event files, or JSONL loop events (src/sources/open.ts) */
  | { readonly _tag: 'LightningLog'; readonly path: string; readonly format: 'metrics.csv' | 'TensorBoard' | 'loop events' }
  | { readonly _tag: 'KerasCsv'; readonly path: string }
  | { readonly _tag: 'KerasHistory'; readonly path: string }
  | { readonly _tag: 'KerasTensorBoard'; readonly path: string; readonly files: KerasEventFiles }
  /** JSON lines of `{step, time?, metrics}` (src/dialects/orbax/stepLogs.ts) */
  | { readonly _tag: 'StepsJsonl'; readonly path: string }
  /** event files of per-step scalars from another writer than Lightning or Keras (a JAX loop's) */
  | { readonly _tag: 'StepsTensorBoard'; readonly path: string; readonly files: readonly string[] }
  | { readonly _tag: 'TrainerState'; readonly path: string };

/** How a kind is named in messages and report headers. */
export const SOURCE_NAME: Record<LogSource['_tag'], string> = {
  LightningLog: 'Lightning log',
  KerasCsv: 'Keras CSVLogger CSV',
  KerasHistory: 'Keras History JSON',
  KerasTensorBoard: 'Keras TensorBoard event files',
  StepsJsonl: 'JSONL step log',
  StepsTensorBoard: 'TensorBoard step log',
  TrainerState: 'trainer_state.json',
};

export function sourceName(s: LogSource): string {
  return s._tag === 'LightningLog' ? `Lightning ${s.format}` : SOURCE_NAME[s._tag];
}

const TFEVENTS = /^events\.out\.tfevents\./;

const head = (path: string, n = 4096): string => {
  const b = headBytes(path, n);
  return b === null ? '' : new TextDecoder().decode(b).replace(/^\uFEFF/, '');
};

/** The first non-blank line of a JSONL file, parsed; null when it is not a JSON object. */
function firstJsonLine(path: string): Record<string, unknown> | null {
  const line = head(path, 1 << 16).split('\n').find((l) => l.trim() !== '');
  if (line === undefined) return null;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The header cells of a CSV file's first line. */
const csvHeader = (path: string): string[] => (head(path).split(/\r?\n/)[0] ?? '').split(',').map((c) => c.trim().replace(/^"|"$/g, ''));

/**
 * The kind of log at `path`. Paths that are none of the dialects' kinds are left to Lightning's
 * reader (src/sources/open.ts), which names what it expected.
 */
export async function detectLog(path: string): Promise<LogSource> {
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch {
    return { _tag: 'LightningLog', path, format: 'metrics.csv' }; // the reader says "no such file"
  }
  const name = basename(path);
  if (dir) {
    const keras = kerasEventFiles(path);
    if (keras !== null) return { _tag: 'KerasTensorBoard', path, files: keras };
    const names = readdirSync(path);
    if (names.includes('trainer_state.json') && !names.includes('metrics.csv')) return { _tag: 'TrainerState', path: join(path, 'trainer_state.json') };
    const events = names.filter((n) => TFEVENTS.test(n)).sort();
    if (!names.includes('metrics.csv') && events.length > 0) {
      const files = events.map((n) => join(path, n));
      const writer = await tfeventsWriter(files[0]!);
      if (writer === 'keras') return { _tag: 'KerasTensorBoard', path, files: { train: files, validation: [] } };
      if (writer === 'steps') return { _tag: 'StepsTensorBoard', path, files };
    }
    return { _tag: 'LightningLog', path, format: names.includes('metrics.csv') ? 'metrics.csv' : 'TensorBoard' };
  }
  if (TFEVENTS.test(name)) {
    const writer = await tfeventsWriter(path);
    if (writer === 'keras') return { _tag: 'KerasTensorBoard', path, files: kerasEventFiles(path)! };
    if (writer === 'steps') return { _tag: 'StepsTensorBoard', path, files: [path] };
    return { _tag: 'LightningLog', path, format: 'TensorBoard' };
  }
  if (/\.(jsonl|ndjson)$/i.test(name)) {
    const first = firstJsonLine(path);
    // loop events carry a `type`; step logs are {step, time?, metrics}
    if (first !== null && !('type' in first) && 'step' in first) return { _tag: 'StepsJsonl', path };
    return { _tag: 'LightningLog', path, format: 'loop events' };
  }
  if (/\.json$/i.test(name)) return /"log_history"\s*:/.test(head(path, 1 << 20)) || name === 'trainer_state.json' ? { _tag: 'TrainerState', path } : { _tag: 'KerasHistory', path };
  if (/\.(csv|log|tsv)$/i.test(name)) {
    const cells = csvHeader(path);
    // CSVLogger's first column is epoch and it has no step; Lightning's metrics.csv has a step column
    if (cells[0] === 'epoch' && !cells.includes('step')) return { _tag: 'KerasCsv', path };
    return { _tag: 'LightningLog', path, format: 'metrics.csv' };
  }
  return { _tag: 'LightningLog', path, format: 'metrics.csv' };
}
