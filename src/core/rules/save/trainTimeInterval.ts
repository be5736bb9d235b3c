/**
 * `train_time_interval`: due when at least the interval has passed since the last check, on the
 * loop's monotonic clock. Its slice is the time of the last check (set at train start and when due).
 */
import type { PolicyState } from '../../state.ts';

export type TimeSlice = Pick<PolicyState, 'lastTimeChecked'>;

export interface TimeCheck {
  readonly due: boolean;
  /** seconds since the last check; null without a reading */
  readonly elapsed: number | null;
}

export function timeCheck(interval: number, slice: TimeSlice, now: number | undefined): TimeCheck {
  const prev = slice.lastTimeChecked;
  const elapsed = prev === null || now === undefined ? null : now - prev;
  return { due: elapsed !== null && !(elapsed < interval), elapsed };
}
