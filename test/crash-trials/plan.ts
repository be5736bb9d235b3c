/**
 * One crash trial's training run, fixed by its seed: the policy, the loop's size, its metrics, the
 * payload size and whether writes go in the background. The child (child.ts) trains it; the parent
 * (run.ts) replays the same events through the pure reducer to know what must be kept.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { LoopEvent } from '../../src/core/events.ts';
import type { TrainerFacts } from '../../src/core/events.ts';
import { fitEvents } from '../../src/core/loop.ts';

export { rng } from '../helpers/rng.ts';
import { rng } from '../helpers/rng.ts';

const POLICIES: readonly Record<string, unknown>[] = [
  { monitor: 'val_loss', save_top_k: 2, save_last: true, filename: '{epoch:02d}-{val_loss:.3f}' },
  { monitor: 'val_loss', mode: 'max', save_top_k: 1, save_last: 'link' },
  { monitor: 'train_loss', save_top_k: 3, every_n_train_steps: 2, save_last: true },
  { save_top_k: -1, every_n_epochs: 1, filename: '{epoch}' },
];

export interface TrialPlan {
  readonly seed: number;
  readonly options: Record<string, unknown>;
  readonly epochs: number;
  readonly batchesPerEpoch: number;
  readonly background: boolean;
  /** bytes of padding in each checkpoint (a larger file widens the window a kill lands in) */
  readonly pad: number;
  readonly curve: readonly number[];
}

export function trialPlan(seed: number): TrialPlan {
  const r = rng(seed);
  const epochs = 3 + Math.floor(r() * 5);
  return {
    seed,
    options: POLICIES[Math.floor(r() * POLICIES.length)]!,
    epochs,
    batchesPerEpoch: 2 + Math.floor(r() * 3),
    background: r() < 0.5,
    pad: [64, 4096, 262144][Math.floor(r() * 3)]!,
    curve: Array.from({ length: epochs * 8 }, () => Math.round(r() * 1000) / 1000),
  };
}

/** The loop's events after setup (the Checkpointer sends its own setup), and the trainer facts of that setup. */
export function planEvents(p: TrialPlan): { events: LoopEvent[]; trainer: TrainerFacts } {
  const all = [...fitEvents({ epochs: p.epochs, batchesPerEpoch: p.batchesPerEpoch, sanityCheck: false, valMetrics: (e) => ({ val_loss: p.curve[e]! }), trainMetrics: (_e, g) => ({ train_loss: p.curve[g % p.curve.length]! }) })];
  const setup = all[0]!;
  return { events: all.slice(1), trainer: setup.type === 'setup' && setup.trainer ? setup.trainer : {} };
}

/** A checkpoint file: the SHA-256 of the body, then the body (its record as JSON, a newline, padding). */
export function checkpointBytes(record: unknown, pad: number): Uint8Array {
  const body = Buffer.concat([Buffer.from(JSON.stringify({ record }) + '\n'), randomBytes(pad)]);
  return new Uint8Array(Buffer.concat([createHash('sha256').update(body).digest(), body]));
}

/** The record of a complete checkpoint file, or null when its hash does not check (a partial or foreign file). */
export function verifiedRecord(bytes: Uint8Array): { readonly record: Record<string, unknown> } | null {
  if (bytes.length < 33) return null;
  const body = bytes.subarray(32);
  if (!Buffer.from(createHash('sha256').update(body).digest()).equals(Buffer.from(bytes.subarray(0, 32)))) return null;
  const nl = body.indexOf(10);
  try {
    return JSON.parse(Buffer.from(body.subarray(0, nl)).toString('utf8')) as { record: Record<string, unknown> };
  } catch {
    return null;
  }
}
