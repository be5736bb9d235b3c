/** What the runtime throws: Lightning's own raises, and storage failures it refuses to hide. */
import type { Effect } from '../core/effects.ts';

/** The policy raised (Lightning's MisconfigurationException, KeyError, ...): the loop should stop. */
export class PolicyRaisedError extends Error {
  constructor(
    /** the Python exception type Lightning raises */
    readonly errorType: string,
    readonly policyMessage: string,
  ) {
    super(`${errorType}: ${policyMessage}`);
    this.name = 'PolicyRaisedError';
  }
}

/** One effect that was not carried out. */
export interface EffectFailure {
  readonly seq: number;
  readonly index: number;
  readonly effect: Extract<Effect, { type: 'save' | 'remove' | 'link' }>;
  readonly key: string;
  readonly cause: string;
}

/** Storage effects failed (or were withheld because an earlier save failed). Lists every one. */
export class CheckpointWriteError extends Error {
  constructor(readonly failures: readonly EffectFailure[]) {
    super(
      `ckpt-policy: ${failures.length} checkpoint operation(s) failed; no checkpoint was removed after a failed save:\n` +
        failures.map((f) => `  ${f.effect.type} ${f.key} (decision ${f.seq}): ${f.cause}`).join('\n'),
    );
    this.name = 'CheckpointWriteError';
  }
}

/** Resuming could not proceed as asked (unreadable checkpoint, bad record). */
export class ResumeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResumeError';
  }
}

export function describeCause(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${e.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${e.message}`;
  }
  return String(e);
}

/** Another run holds the folder's writer lease: this one was refused at open, before writing anything. */
export class WriterLeaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WriterLeaseError';
  }
}

/** This run's writer lease was taken over (or could not be renewed): it saves and deletes nothing more. */
export class LeaseLostError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LeaseLostError';
  }
}
