/**
 * Carries out the policy's effects against a store, in order. A failed save stops the run before
 * anything after it, so the removal it would have caused never happens and the checkpoint it was
 * to replace (the best so far) stays.
 */
import type { Effect } from '../src/core/effects.ts';
import { keyForPath } from './keys.ts';
import type { CheckpointStore, Payload } from '../src/core/store.ts';

export interface CarriedOut {
  readonly effect: Effect;
  readonly key: string;
  /** for links: what the store did */
  readonly as?: 'link' | 'copy';
}

/**
 * `payloadFor` makes what a save writes (a captured model, bytes) from its effect. Paths in the
 * effects are full paths under the store's location (the policy's dirpath). Log and error effects
 * are not storage work and are skipped here. Rejects with the first failure; `done` (if given)
 * receives each effect as it completes.
 */
export async function carryOut(
  store: CheckpointStore,
  effects: readonly Effect[],
  payloadFor: (effect: Extract<Effect, { type: 'save' }>) => Payload | Promise<Payload>,
  done?: (c: CarriedOut) => void,
): Promise<CarriedOut[]> {
  const out: CarriedOut[] = [];
  const record = (c: CarriedOut) => {
    out.push(c);
    done?.(c);
  };
  for (const effect of effects) {
    switch (effect.type) {
      case 'save': {
        const key = keyForPath(store.location, effect.path);
        await store.save(key, await payloadFor(effect));
        record({ effect, key });
        break;
      }
      case 'remove': {
        const key = keyForPath(store.location, effect.path);
        await store.remove(key);
        record({ effect, key });
        break;
      }
      case 'link': {
        const key = keyForPath(store.location, effect.path);
        const as = await store.link(keyForPath(store.location, effect.target), key);
        record({ effect, key, as });
        break;
      }
      case 'log':
      case 'error':
        break;
      default: {
        const never: never = effect;
        throw new Error(`carryOut: unknown effect ${JSON.stringify(never)}`);
      }
    }
  }
  return out;
}
