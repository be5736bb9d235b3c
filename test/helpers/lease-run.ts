/** The training run of the writer-lease tests: top-3 on val_loss, a better model every epoch. */
import type { LoopEvent } from '../../src/core/events.ts';
import { fitEvents } from '../../src/core/loop.ts';
import type { Payload } from '../../src/core/store.ts';
import type { CaptureRequest } from '../../src/runtime/index.ts';

export const LEASE_OPTIONS = { monitor: 'val_loss', save_top_k: 3, save_last: true, filename: '{epoch:02d}' };

/** Each checkpoint says which writer made it, so a test can tell whose files are left. */
export const leaseCapture = (writer: string) => (req: CaptureRequest): Payload => ({ kind: 'bytes', data: new TextEncoder().encode(JSON.stringify({ writer, record: req.record })) });

/** The events of epochs [from, to) of one long fit (without setup; trainStarted only from epoch 0). */
export function leaseEvents(from: number, to: number): LoopEvent[] {
  const all = [...fitEvents({ epochs: to, batchesPerEpoch: 2, valMetrics: (e) => ({ val_loss: 1 / (e + 1) }) })];
  return all.filter((e) => e.type !== 'setup' && e.type !== 'trainEnded' && (e.type === 'trainStarted' ? from === 0 : 'view' in e && e.view !== undefined && e.view.epoch >= from && !e.view.sanityChecking));
}

export function writerOf(p: Payload): string {
  return p.kind === 'bytes' ? (JSON.parse(new TextDecoder().decode(p.data)) as { writer: string }).writer : '?';
}

/** Reads the record back from a leaseCapture payload (for resume). */
export const leaseReadRecord = (p: Payload): unknown => (p.kind === 'bytes' ? (JSON.parse(new TextDecoder().decode(p.data)) as { record: unknown }).record : undefined);
