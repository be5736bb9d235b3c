/**
 * TensorBoard event files written by Keras's `TensorBoard` callback, read as a KerasLog (the epochs
 * `on_epoch_end` saw). Keras writes a run as `<log_dir>/train/` and `<log_dir>/validation/`, one
 * event file each per `fit`; its epoch scalars are `epoch_<key>` at step = the 0-based epoch (the
 * validation writer's `epoch_loss` is the epoch's `val_loss`). Its other scalars are not epoch
 * logs and are left out: `batch_<key>` (update_freq, at train steps) and
 * `evaluation_<key>_vs_iterations` (validation, at optimizer iterations). Lightning's
 * TensorBoardLogger writes an `epoch` scalar with every call and no `epoch_` prefix: that is how
 * the two are told apart (tfeventsWriter).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decodeEvent } from '../../sources/tfevents.ts';
import { readFrames } from '../../sources/tfrecord.ts';
import { KerasLogError, type KerasLog, type KerasLogEpoch } from '../../dialects/keras/log.ts';

const TFEVENTS = /^events\.out\.tfevents\./;

/** The event files of a Keras log folder (its train/ and validation/ writers), or of one file. */
export interface KerasEventFiles {
  readonly train: readonly string[];
  readonly validation: readonly string[];
}

const eventFiles = (dir: string): string[] => {
  try {
    return readdirSync(dir).filter((n) => TFEVENTS.test(n)).sort().map((n) => join(dir, n));
  } catch {
    return [];
  }
};

/** A folder with train/ (and validation/) event files, or a file inside one; null when the path is neither. */
export function kerasEventFiles(path: string): KerasEventFiles | null {
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch {
    return null;
  }
  if (!dir) {
    if (!TFEVENTS.test(basename(path))) return null;
    return basename(join(path, '..')) === 'validation' ? { train: [], validation: [path] } : { train: [path], validation: [] };
  }
  const train = eventFiles(join(path, 'train'));
  const validation = eventFiles(join(path, 'validation'));
  if (train.length === 0 && validation.length === 0) return null;
  return { train, validation };
}

/** Scalar tags of the first records of an event file (at most `records` of them). */
export async function firstTags(file: string, records = 64): Promise<string[]> {
  const tags = new Set<string>();
  let n = 0;
  for await (const frames of readFrames(file, { chunkSize: 1 << 16 })) {
    for (const f of frames) {
      if (f.kind !== 'record') continue;
      try {
        for (const s of decodeEvent(f.data).scalars) tags.add(s.tag);
      } catch {
        // a corrupt record: the reader proper reports it
      }
      if (++n >= records) return [...tags];
    }
  }
  return [...tags];
}

/**
 * Who wrote an event file, from its first scalars: Lightning (an `epoch` scalar with every call,
 * `hp_metric`, `lr-*`),
 * Keras (`epoch_*`/`batch_*` and no `epoch`), or another writer of per-step scalars (a JAX loop's).
 */
export async function tfeventsWriter(file: string): Promise<'lightning' | 'keras' | 'steps'> {
  const tags = await firstTags(file);
  // Lightning's marks: the epoch scalar, TensorBoardLogger's hp_metric, LearningRateMonitor's lr-*
  if (tags.length === 0 || tags.some((t) => t === 'epoch' || t === 'hp_metric' || t.startsWith('lr-'))) return 'lightning';
  return tags.some((t) => /^(epoch|batch)_/.test(t)) ? 'keras' : 'steps';
}

/**
 * Reads the epochs of a Keras TensorBoard log. Each train file is one `fit` (Keras opens new
 * writers per fit), paired with the validation file of the same rank; with unequal counts all are
 * one fit. Every problem names the file and the record.
 */
export async function readKerasTfevents(files: KerasEventFiles, source: string): Promise<{ log: KerasLog; skipped: { batch: number; evaluation: number } }> {
  const fits = files.train.length === files.validation.length || files.validation.length === 0 || files.train.length === 0 ? Math.max(files.train.length, files.validation.length) : 1;
  const byFit = Array.from({ length: fits }, () => new Map<number, { logs: Record<string, number>; at: { file: string; line: number } }>());
  const skipped = { batch: 0, evaluation: 0 };
  const metrics: string[] = [];
  const read = async (file: string, fit: number, prefix: string) => {
    let record = 0;
    for await (const frames of readFrames(file)) {
      for (const f of frames) {
        if (f.kind === 'bad') throw new KerasLogError(file, f.index + 1, null, `record ${f.index + 1} fails its checksum (${f.problem.kind}): the file is damaged`);
        if (f.kind === 'truncated') return; // a run still being written: the records before it stand
        record = f.index + 1;
        let ev;
        try {
          ev = decodeEvent(f.data);
        } catch (e) {
          throw new KerasLogError(file, record, null, `record ${record} is not a TensorBoard Event (${(e as Error).message})`);
        }
        for (const s of ev.scalars) {
          if (s.tag.startsWith('batch_')) {
            skipped.batch++;
            continue;
          }
          if (/^evaluation_.*_vs_iterations$/.test(s.tag)) {
            skipped.evaluation++;
            continue;
          }
          if (!s.tag.startsWith('epoch_')) continue;
          const key = prefix + s.tag.slice('epoch_'.length);
          const epochs = byFit[fit]!;
          const e = epochs.get(ev.step) ?? { logs: {}, at: { file, line: record } };
          e.logs[key] = s.value;
          epochs.set(ev.step, e);
          if (!metrics.includes(key)) metrics.push(key);
        }
      }
    }
  };
  for (const [i, f] of files.train.entries()) await read(f, fits === 1 ? 0 : i, '');
  for (const [i, f] of files.validation.entries()) await read(f, fits === 1 ? 0 : i, 'val_');
  const epochs: KerasLogEpoch[] = byFit.flatMap((m, fit) => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([epoch, e]) => ({ fit, epoch, logs: e.logs, at: e.at })));
  return { log: { file: source, format: 'TensorBoard', metrics, epochs }, skipped };
}
