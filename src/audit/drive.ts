/**
 * Reducing a stream of events the way the runtime does, reporting each step to an observer
 * (a decision log): for recording a log from events without a live loop (`ckpt explain` on an
 * event file, simulations, tests).
 */
import type { PolicyConfig } from '../core/config.ts';
import type { Effect } from '../core/effects.ts';
import type { LoopEvent } from '../core/events.ts';
import { init, reduce } from '../core/reduce.ts';
import type { PolicyState } from '../core/state.ts';
import type { EffectOutcome, RuntimeObserver } from '../runtime/observer.ts';

export interface DriveOptions {
  readonly cwd: string;
  readonly home?: string;
  /** the outcome reported for each non-log effect (default: done); null reports none */
  readonly outcome?: ((effect: Effect, seq: number, index: number) => EffectOutcome | null) | null;
  /** stop after the first decision that raises, as Lightning's fit does (default true) */
  readonly stopAtError?: boolean;
}

/** Reduces `events` from init(config), telling `observer` about every decision; returns the last state. */
export function drive(observer: RuntimeObserver, config: PolicyConfig, events: Iterable<LoopEvent>, opts: DriveOptions): PolicyState {
  let [state] = init(config, { cwd: opts.cwd, ...(opts.home !== undefined ? { home: opts.home } : {}) });
  observer.opened?.({ state, resumedFrom: null });
  let seq = 0;
  for (const event of events) {
    const [next, effects] = reduce(state, event);
    state = next;
    observer.decided?.({ seq: ++seq, event, effects, stateAfter: next });
    effects.forEach((effect, index) => {
      if (opts.outcome === null) return;
      const outcome = opts.outcome ? opts.outcome(effect, seq, index) : { status: 'done' as const };
      if (outcome !== null) observer.effectSettled?.({ seq, index, effect, outcome });
    });
    if ((opts.stopAtError ?? true) && effects.some((e) => e.type === 'error')) break;
  }
  return state;
}
