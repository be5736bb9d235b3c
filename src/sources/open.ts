/**
 * What a LOG argument names: a `metrics.csv`, an event file, a folder of event files (a Lightning
 * `version_N` folder; several files there are successive fits, as when a resumed run logs into the
 * same version), or JSON lines of loop events. Each becomes one or more fit segments to read.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LineEvent } from './jsonl.ts';
import { SourceError, type BadInputPolicy, type LogRecord, type ProgressFn } from './records.ts';

// Each reader is loaded by the first log of its kind: the event-file reader brings protobufjs and
// the CRC binding, the JSONL reader the event codecs, and a CSV run needs neither.

export type LogKind = 'csv' | 'tfevents' | 'jsonl';

/** One fit's log. */
export type FitLog =
  | { readonly kind: 'csv' | 'tfevents'; readonly path: string; readonly dir: string }
  | { readonly kind: 'jsonl'; readonly path: string; readonly dir: string };

export interface ReadOptions {
  readonly bad?: BadInputPolicy;
  readonly progress?: ProgressFn;
  readonly onTruncated?: (what: string) => void;
}

const TFEVENTS = /^events\.out\.tfevents\./;

/** Event file names hold the wall time and a counter: `events.out.tfevents.<time>.<host>.<pid>.<n>`. */
function eventFileOrder(a: string, b: string): number {
  const key = (n: string) => {
    const parts = n.replace(TFEVENTS, '').split('.');
    const time = Number(parts[0]);
    const counter = Number(parts[parts.length - 1]);
    return { time: Number.isFinite(time) ? time : 0, counter: Number.isFinite(counter) ? counter : 0 };
  };
  const ka = key(a);
  const kb = key(b);
  return ka.time - kb.time || ka.counter - kb.counter || (a < b ? -1 : a > b ? 1 : 0);
}

/** The fits a LOG path holds, in order; throws SourceError when the path is not a log. */
export function openLog(path: string): FitLog[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new SourceError({ file: path }, null, 'no such file or directory');
  }
  if (st.isDirectory()) {
    const names = readdirSync(path);
    const events = names.filter((n) => TFEVENTS.test(n)).sort(eventFileOrder);
    if (names.includes('metrics.csv')) return [{ kind: 'csv', path: join(path, 'metrics.csv'), dir: path }];
    if (events.length > 0) return events.map((n) => ({ kind: 'tfevents' as const, path: join(path, n), dir: path }));
    const versions = names.filter((n) => /^version_\d+$/.test(n)).sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
    if (versions.length > 0) {
      throw new SourceError(
        { file: path },
        null,
        `this is a logger folder with ${versions.length} versions (${versions.slice(0, 4).join(', ')}${versions.length > 4 ? ', ...' : ''}); give one version folder, and later fits of a resumed run with --resumed-log`,
      );
    }
    throw new SourceError({ file: path }, null, 'the folder holds no metrics.csv and no events.out.tfevents.* file');
  }
  const name = basename(path);
  if (TFEVENTS.test(name)) return [{ kind: 'tfevents', path, dir: dirname(path) }];
  if (/\.(jsonl|ndjson)$/i.test(name)) return [{ kind: 'jsonl', path, dir: dirname(path) }];
  if (/\.csv$/i.test(name)) return [{ kind: 'csv', path, dir: dirname(path) }];
  throw new SourceError({ file: path }, null, 'not a log this tool reads: expected a metrics.csv (CSVLogger), an events.out.tfevents.* file or folder (TensorBoardLogger), or a .jsonl file of loop events');
}

/** The records of a CSV or event-file fit, a batch at a time. */
export async function* readRecords(log: FitLog, opts: ReadOptions = {}): AsyncGenerator<LogRecord[]> {
  switch (log.kind) {
    case 'csv':
      return yield* (await import('./csv.ts')).readCsvLog(log.path, { bad: opts.bad, progress: opts.progress });
    case 'tfevents':
      return yield* (await import('./tfevents.ts')).readTfeventsLog(log.path, {
        bad: opts.bad,
        progress: opts.progress,
        onTruncated: (o, have, need) => opts.onTruncated?.(`${o.file}: the last record (number ${o.record}) is cut short (${have} of ${need} bytes): the run was still being written; read up to the record before it`),
      });
    case 'jsonl':
      throw new Error('JSONL logs hold events, not records: use readJsonlEvents');
    default:
      // a FitLog built by hand (a worker's message, a caller's cast) with a kind no reader has
      throw new Error(`no reader for a log of kind ${JSON.stringify((log as { kind: unknown }).kind)}: expected csv or tfevents`);
  }
}

export async function* readEvents(log: FitLog, opts: ReadOptions = {}): AsyncGenerator<LineEvent[]> {
  return yield* (await import('./jsonl.ts')).readJsonlEvents(log.path, { bad: opts.bad, progress: opts.progress });
}

/** Lightning's logger facts for a version folder `<save_dir>/<name>/<version>` (where checkpoints go when dirpath is None). */
export function loggerOfDir(dir: string): { saveDir: string; name: string; version: string } {
  const version = basename(dir);
  const parent = dirname(dir);
  return { saveDir: dirname(parent), name: basename(parent), version };
}

/**
 * Every metric name the logs hold a value for, in the order first seen (a whole read of each log:
 * for messages about a name the log does not have, not for the simulation's own pass).
 */
export async function logMetricNames(logs: readonly FitLog[], opts: ReadOptions = {}): Promise<string[]> {
  const names = new Set<string>();
  for (const log of logs) {
    if (log.kind === 'jsonl') {
      for await (const batch of readEvents(log, opts)) {
        for (const { event } of batch) if ('view' in event && event.view?.metrics) for (const n of Object.keys(event.view.metrics)) names.add(n);
      }
      continue;
    }
    for await (const batch of readRecords(log, opts)) for (const r of batch) for (const n of r.metrics.keys()) names.add(n);
  }
  return [...names];
}
