/**
 * One event, settled: reduced, each effect handed to the caller's handler (with the state it came
 * from), and the events the handler answers with (an evaluation's metrics, a save's outcome, the
 * trainer_state.json read) reduced in turn, in order, until none is left. The replay, the
 * simulation and the property tests' loop share it, each with its own world.
 */
import { reduce } from './reduce.ts';
import type { HfEffect, HfEvent, HfState } from './types.ts';

export type HfReducer = (state: HfState, event: HfEvent) => [HfState, HfEffect[]];

export function settle(state: HfState, event: HfEvent, handle: (effect: HfEffect, state: HfState) => HfEvent | null, step: HfReducer = reduce): HfState {
  const queue: HfEvent[] = [event];
  for (let e = queue.shift(); e; e = queue.shift()) {
    const [next, effects] = step(state, e);
    state = next;
    for (const f of effects) {
      const answer = handle(f, state);
      if (answer) queue.push(answer);
    }
  }
  return state;
}
