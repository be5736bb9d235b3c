/**
 * How Orbax's step directory sits on a CheckpointStore, which has atomic files but no folders and
 * no rename. A step is the keys under `<name>/`: its items (`<name>/<item>`), its metrics
 * (`<name>/metrics/metrics`, only when `best_fn` is set, as Orbax writes them) and, written last,
 * the commit marker `<name>/_CHECKPOINT_METADATA` with the commit time. A folder without the
 * marker is a write that never committed: the listing shows it to the pure manager as Orbax's
 * temporary `<name>.orbax-checkpoint-tmp`, so it is never a step, never restored, removed by
 * `cleanup_tmp_directories` or by the next save of that step, exactly as Orbax treats its temporaries.
 */
import type { CheckpointStore, StoredEntry } from '../../../core/store.ts';
import type { Metrics } from '../checkpointInfo.ts';
import { TMP_SUFFIX, type DirEntry } from '../directory.ts';

export const MARKER = '_CHECKPOINT_METADATA';
export const METRICS_KEY = 'metrics/metrics';
export const MARKER_FORMAT = 'ckpt-policy/orbax-step@1';

/** What the commit marker holds: Orbax's timestamps, and the items the step was written with. */
export interface Marker {
  readonly init_timestamp_nsecs: number;
  readonly commit_timestamp_nsecs: number;
  readonly ckpt_policy: { readonly format: typeof MARKER_FORMAT; readonly items: readonly string[] };
}

export function markerText(initSeconds: number, commitSeconds: number, items: readonly string[]): string {
  const m: Marker = {
    init_timestamp_nsecs: Math.round(initSeconds * 1e6) * 1000,
    commit_timestamp_nsecs: Math.round(commitSeconds * 1e6) * 1000,
    ckpt_policy: { format: MARKER_FORMAT, items: [...items] },
  };
  return JSON.stringify(m);
}

/** The commit time (seconds) and items of a marker, or null when the text is not a commit marker. */
export function parseMarker(text: string): { commitTime: number; initTime: number | null; items: string[] | null } | null {
  let u: unknown;
  try {
    u = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof u !== 'object' || u === null) return null;
  const o = u as Record<string, unknown>;
  if (typeof o.commit_timestamp_nsecs !== 'number' || !Number.isFinite(o.commit_timestamp_nsecs)) return null;
  const cp = o.ckpt_policy as { items?: unknown } | undefined;
  const items = Array.isArray(cp?.items) && cp.items.every((i) => typeof i === 'string') ? (cp.items as string[]) : null;
  // microseconds, Orbax's datetime resolution (the traces' times are exact to it)
  const seconds = (ns: number): number => Math.round(ns / 1000) / 1e6;
  return { commitTime: seconds(o.commit_timestamp_nsecs), initTime: typeof o.init_timestamp_nsecs === 'number' ? seconds(o.init_timestamp_nsecs) : null, items };
}

/** Metrics as Python's json.dumps writes them: non-finite numbers as bare NaN / Infinity. */
export function metricsText(m: NonNullable<Metrics>): string {
  return JSON.stringify(m).replace(/"(NaN|-?Infinity)"/g, '$1');
}

/** A metrics file back: bare NaN / Infinity become the strings the manager reads; null when not JSON. */
export function parseMetrics(text: string): NonNullable<Metrics> | null {
  const fixed = text.replace(/([:[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, '$1"$2"');
  try {
    const u: unknown = JSON.parse(fixed);
    return typeof u === 'object' && u !== null && !Array.isArray(u) ? (u as NonNullable<Metrics>) : null;
  } catch {
    return null;
  }
}

/** The listing as the pure manager reads it, and where each entry's keys are in the store. */
export interface Listing {
  readonly entries: DirEntry[];
  /** entry path → the key prefix ('' for a file entry) its removal or rename covers */
  readonly keysOf: ReadonlyMap<string, string>;
}

const utf8 = new TextDecoder();
const READS_IN_FLIGHT = 16;

/** `f` over `xs`, at most `n` at a time; results in the order of `xs`. */
async function pool<X, Y>(xs: readonly X[], n: number, f: (x: X) => Promise<Y>): Promise<Y[]> {
  const out: Y[] = new Array<Y>(xs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < xs.length) {
      const i = next++;
      out[i] = await f(xs[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, xs.length) }, worker));
  return out;
}

/**
 * Reads the store's keys into the manager's directory entries under `dir`. Markers and metrics
 * files are read (one small read each, committed steps only). `isStepName`: the options' name format.
 */
export async function readListing(store: CheckpointStore, dir: string, isStepName: (name: string) => boolean): Promise<Listing> {
  const listed: StoredEntry[] = await store.list();
  const files = new Map<string, string[]>();
  const topFiles: string[] = [];
  for (const e of listed) {
    const i = e.key.indexOf('/');
    if (i === -1) {
      topFiles.push(e.key);
      continue;
    }
    const name = e.key.slice(0, i);
    let f = files.get(name);
    if (f === undefined) files.set(name, (f = []));
    f.push(e.key.slice(i + 1));
  }
  const entries: DirEntry[] = [{ path: dir, kind: 'dir', files: [] }];
  const keysOf = new Map<string, string>();
  for (const k of topFiles) {
    entries.push({ path: `${dir}/${k}`, kind: 'file' });
    keysOf.set(`${dir}/${k}`, k);
  }
  // one or two small reads per folder, a few at a time (a bucket of many steps starts in parallel GETs)
  const folders = [...files.entries()];
  const read = await pool(folders, READS_IN_FLIGHT, async ([name, inside]) => {
    inside.sort();
    const readText = async (k: string): Promise<string> => {
      const p = await store.read(`${name}/${k}`);
      return p.kind === 'bytes' ? utf8.decode(p.data) : '';
    };
    const marker = inside.includes(MARKER) && !name.endsWith(TMP_SUFFIX) ? parseMarker(await readText(MARKER)) : null;
    if (marker === null) {
      // a step folder never committed is Orbax's temporary to the manager; other folders are not steps
      const path = `${dir}/${name.endsWith(TMP_SUFFIX) || !isStepName(name) ? name : name + TMP_SUFFIX}`;
      return { entry: { path, kind: 'dir', files: inside } satisfies DirEntry, prefix: `${name}/` };
    }
    let metrics: Partial<Pick<DirEntry, 'metrics' | 'metrics_text'>> = {};
    if (inside.includes(METRICS_KEY)) {
      const text = await readText(METRICS_KEY);
      const m = parseMetrics(text);
      metrics = m === null ? { metrics_text: text } : { metrics: m };
    }
    const entry: DirEntry = { path: `${dir}/${name}`, kind: 'dir', files: inside, commit_time: marker.commitTime, ...(marker.initTime !== null ? { init_time: marker.initTime } : {}), ...metrics };
    return { entry, prefix: `${name}/` };
  });
  for (const { entry, prefix } of read) {
    entries.push(entry);
    keysOf.set(entry.path, prefix);
  }
  return { entries, keysOf };
}
