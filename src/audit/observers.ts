/** Several runtime observers as one (a host's own observer and a decision log, say), called in order. */
import type { RuntimeObserver } from '../runtime/observer.ts';

export function combineObservers(...observers: ReadonlyArray<RuntimeObserver | undefined>): RuntimeObserver {
  const all = observers.filter((o): o is RuntimeObserver => o !== undefined);
  return {
    opened: (info) => {
      for (const o of all) o.opened?.(info);
    },
    decided: (d) => {
      for (const o of all) o.decided?.(d);
    },
    effectSettled: (s) => {
      for (const o of all) o.effectSettled?.(s);
    },
  };
}
