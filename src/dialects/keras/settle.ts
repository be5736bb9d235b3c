/**
 * One hook, settled: the event is reduced, each effect goes to the caller's handler, and the events
 * the handler answers with (a save's outcome) are reduced in turn, in order, until none is left.
 * The replay and the simulation share it; each brings its own interpreter of the effects.
 */
import type { KerasEffect } from './effects.ts';
import type { KerasEvent } from './events.ts';
import { reduce } from './reduce.ts';
import type { KerasState } from './state.ts';

/** What a handler answers an effect with: an event to reduce next, nothing, or 'stop' (the hook raised; drop what is left). */
export type EffectAnswer = KerasEvent | null | 'stop';

export function settle(state: KerasState, event: KerasEvent, handle: (effect: KerasEffect) => EffectAnswer): KerasState {
  const queue: KerasEvent[] = [event];
  for (let ev = queue.shift(); ev; ev = queue.shift()) {
    const [next, effects] = reduce(state, ev);
    state = next;
    for (const e of effects) {
      const answer = handle(e);
      if (answer === 'stop') return state;
      if (answer !== null) queue.push(answer);
    }
  }
  return state;
}
