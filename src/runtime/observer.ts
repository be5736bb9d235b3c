/**
 * Hooks for watching the runtime (the decision log builds on them). Called synchronously, in order:
 * `decided` once per reduced event, then `effectSettled` once per effect of that decision as it
 * completes (storage effects may settle after later decisions when writes run in the background).
 */
import type { Effect } from '../core/effects.ts';
import type { Note } from '../core/notes.ts';
import type { LoopEvent } from '../core/events.ts';
import type { PolicyState } from '../core/state.ts';

export type EffectOutcome = { readonly status: 'done' } | { readonly status: 'failed'; readonly cause: string };

export interface Decision {
  readonly seq: number;
  readonly event: LoopEvent;
  readonly effects: readonly Effect[];
  readonly stateAfter: PolicyState;
  /** the reducer's notes for this decision (what it decided not to do); recomputed from the state before when absent */
  readonly notes?: readonly Note[];
}

export interface EffectSettlement {
  readonly seq: number;
  readonly index: number;
  readonly effect: Effect;
  readonly outcome: EffectOutcome;
}

export interface RuntimeObserver {
  /** the checkpointer is ready: fresh, or restored from a checkpoint */
  opened?(info: { readonly state: PolicyState; readonly resumedFrom: string | null }): void;
  decided?(d: Decision): void;
  effectSettled?(s: EffectSettlement): void;
}
