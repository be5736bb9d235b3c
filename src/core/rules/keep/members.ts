/**
 * ckpt-policy's composable retention members beside top-k (options keep_latest,
 * keep_every_n_steps, keep_every_n_seconds, keep_steps). Each one is a pure rule over its own
 * slice: whether it wants the checkpoint being decided (`wants`), what it keeps after taking one
 * (`take`, returning the paths it lets go of) and whether it keeps a path (`keeps`). A member's
 * verdict never reads another member; the union (union.ts) combines them.
 */
import type { PolicyConfig } from '../../config.ts';
import type { KeepMember } from '../../notes.ts';
import { VMap } from '../../vmap.ts';

/** The moment a checkpoint is decided at. */
export interface At {
  readonly globalStep: number;
  /** the loop's monotonic clock, seconds */
  readonly time?: number | undefined;
}

/** latest n: the paths in save order, newest last. */
export interface LatestSlice {
  readonly paths: readonly string[];
}
/** one-of-many members: the paths kept, with the global step each was saved at. */
export interface StepsSlice {
  readonly kept: VMap<number>;
}
/** every n seconds: the paths kept and the time the newest was kept. */
export interface SecondsSlice {
  readonly kept: VMap<number>;
  readonly lastTime: number | null;
}

export interface KeepSlices {
  readonly latest: LatestSlice;
  readonly everyNSteps: StepsSlice;
  readonly everyNSeconds: SecondsSlice;
  readonly steps: StepsSlice;
}

/**
 * The slices, always built here, in one property order: every KeepSlices has one hidden class
 * (a spread or a second literal made another, and each new one deoptimized the readers).
 */
export function keepSlices(latest: LatestSlice, everyNSteps: StepsSlice, everyNSeconds: SecondsSlice, steps: StepsSlice): KeepSlices {
  return { latest, everyNSteps, everyNSeconds, steps };
}
const stepsSlice = (kept: VMap<number>): StepsSlice => ({ kept });
const secondsSlice = (kept: VMap<number>, lastTime: number | null): SecondsSlice => ({ kept, lastTime });

export const EMPTY_KEEP: KeepSlices = keepSlices({ paths: [] }, stepsSlice(VMap.empty<number>()), secondsSlice(VMap.empty<number>(), null), stepsSlice(VMap.empty<number>()));

export type ExtraMember = Exclude<KeepMember, 'topK' | 'last'>;
export const EXTRA_MEMBERS: readonly ExtraMember[] = ['latest', 'everyNSteps', 'everyNSeconds', 'steps'];

export function configured(c: PolicyConfig, m: ExtraMember): boolean {
  switch (m) {
    case 'latest':
      return c.keepLatest !== null;
    case 'everyNSteps':
      return c.keepEveryNSteps !== null;
    case 'everyNSeconds':
      return c.keepEveryNSeconds !== null;
    case 'steps':
      return c.keepSteps !== null;
  }
}

export function wants(c: PolicyConfig, s: KeepSlices, m: ExtraMember, at: At): boolean {
  switch (m) {
    case 'latest':
      return c.keepLatest !== null;
    case 'everyNSteps':
      return c.keepEveryNSteps !== null && at.globalStep % c.keepEveryNSteps === 0;
    case 'everyNSeconds': {
      const n = c.keepEveryNSeconds;
      if (n === null || at.time === undefined) return false;
      const last = s.everyNSeconds.lastTime;
      return last === null || at.time - last >= n;
    }
    case 'steps':
      return c.keepSteps !== null && c.keepSteps.includes(at.globalStep);
  }
}

const NOTHING: readonly string[] = [];

/** The member's slice after keeping `path`, and the paths it no longer keeps. */
export function take(c: PolicyConfig, s: KeepSlices, m: ExtraMember, path: string, at: At): { readonly slices: KeepSlices; readonly released: readonly string[] } {
  switch (m) {
    case 'latest': {
      // runs on every save of a composed policy: the new window and what fell out of it, built
      // directly (no array grown by push and then sliced twice)
      const n = c.keepLatest ?? 1; // a positive integer: the new path always stays
      const old = s.latest.paths;
      // a name saved again moves to the newest place
      const again = old.indexOf(path) >= 0;
      const others = old.length - (again ? 1 : 0);
      const cut = others + 1 > n ? others + 1 - n : 0;
      let paths: string[];
      let released: readonly string[] = NOTHING;
      if (!again) {
        // the usual case: the oldest `cut` fall out, the new one goes last
        paths = old.slice(cut);
        if (cut > 0) released = old.slice(0, cut);
      } else {
        paths = [];
        const out: string[] = [];
        let i = 0;
        for (const p of old) {
          if (p === path) continue;
          if (i++ < cut) out.push(p);
          else paths.push(p);
        }
        if (cut > 0) released = out;
      }
      paths.push(path);
      return { slices: keepSlices({ paths }, s.everyNSteps, s.everyNSeconds, s.steps), released };
    }
    case 'everyNSteps':
      return { slices: keepSlices(s.latest, stepsSlice(s.everyNSteps.kept.set(path, at.globalStep)), s.everyNSeconds, s.steps), released: NOTHING };
    case 'everyNSeconds':
      return { slices: keepSlices(s.latest, s.everyNSteps, secondsSlice(s.everyNSeconds.kept.set(path, at.globalStep), at.time ?? s.everyNSeconds.lastTime), s.steps), released: NOTHING };
    case 'steps':
      return { slices: keepSlices(s.latest, s.everyNSteps, s.everyNSeconds, stepsSlice(s.steps.kept.set(path, at.globalStep))), released: NOTHING };
  }
}

export function keeps(s: KeepSlices, m: ExtraMember, path: string): boolean {
  switch (m) {
    case 'latest':
      return s.latest.paths.includes(path);
    case 'everyNSteps':
      return s.everyNSteps.kept.has(path);
    case 'everyNSeconds':
      return s.everyNSeconds.kept.has(path);
    case 'steps':
      return s.steps.kept.has(path);
  }
}

function keptByAny(s: KeepSlices, path: string): boolean {
  for (const m of EXTRA_MEMBERS) if (keeps(s, m, path)) return true;
  return false;
}

/** The slices without `path` (a file removed, or overwritten by a save no member wanted). */
export function forget(s: KeepSlices, path: string): KeepSlices {
  if (!keptByAny(s, path)) return s;
  return keepSlices(
    { paths: s.latest.paths.filter((p) => p !== path) },
    stepsSlice(s.everyNSteps.kept.delete(path)),
    secondsSlice(s.everyNSeconds.kept.delete(path), s.everyNSeconds.lastTime),
    stepsSlice(s.steps.kept.delete(path)),
  );
}
