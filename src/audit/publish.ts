/**
 * Object stores cannot append, so a decision log is written to a local file and copied into the
 * bucket beside the checkpoints when the run closes (or whenever the caller wants a snapshot).
 * Readers take `s3://bucket/prefix/decisions.jsonl` directly.
 */
import { readFile } from 'node:fs/promises';
import type { CheckpointStore } from '../core/store.ts';

export const DEFAULT_LOG_KEY = 'decisions.jsonl';

/** Copies the log file at `path` into `store` under `key` (atomically: the store's save is). */
export async function publishDecisionLog(path: string, store: CheckpointStore, key = DEFAULT_LOG_KEY): Promise<void> {
  const data = await readFile(path);
  await store.save(key, { kind: 'bytes', data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
}
