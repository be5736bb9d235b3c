/**
 * The CPU time of the calling thread, to judge how a sweep's work was spread over its threads on a
 * machine shared with others (wall time alone mixes in everyone else's load). Node 20 has no
 * per-thread CPU clock (process.cpuUsage counts every thread of the process), so this reads
 * Linux's /proc/thread-self/schedstat: nanoseconds on a core, and nanoseconds ready to run but
 * waiting for one. Elsewhere it is null.
 */
import { readFileSync } from 'node:fs';

export interface ThreadTime {
  /** seconds this thread ran on a core */
  readonly cpuS: number;
  /** seconds it was ready to run and waited for a core (other processes' load) */
  readonly waitS: number;
}

export function threadTime(): ThreadTime | null {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return run !== undefined && wait !== undefined && Number.isFinite(run) && Number.isFinite(wait) ? { cpuS: run / 1e9, waitS: wait / 1e9 } : null;
  } catch {
    return null;
  }
}

/** b - a, or null when either is unknown. */
export function threadTimeSince(a: ThreadTime | null, b: ThreadTime | null = threadTime()): ThreadTime | null {
  return a === null || b === null ? null : { cpuS: b.cpuS - a.cpuS, waitS: b.waitS - a.waitS };
}
