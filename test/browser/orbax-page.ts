/**
 * The page test/orbax-runtime-browser.test.ts drives in headless Chromium: OrbaxCheckpointManager
 * (bundled for the browser) saving into IndexedDB, then a second manager on the same database (a
 * reload of the page) reading it back. Exposed as `globalThis.orbaxPage`; every answer is plain JSON.
 */
import { indexedDbStore } from '../../plugins/indexeddb/index.ts';
import { OrbaxCheckpointManager } from '../../src/dialects/orbax/runtime/index.ts';

export interface OrbaxRun {
  readonly saved: boolean[];
  readonly kept: number[];
  readonly keys: string[];
  readonly restartKept: number[];
  readonly best: number | null;
  readonly restored: string;
}

async function run(name: string, options: unknown, losses: number[]): Promise<OrbaxRun> {
  let t = 1_700_000_000;
  const now = () => t;
  const m = await OrbaxCheckpointManager.open({ store: indexedDbStore({ name }), options, now, log: () => undefined });
  const saved: boolean[] = [];
  for (const [step, loss] of losses.entries()) {
    t += 1;
    saved.push(await m.save(step, { params: new TextEncoder().encode(`params ${step}`) }, { metrics: { loss } }));
  }
  const kept = m.all_steps();
  await m.close();
  const store = indexedDbStore({ name });
  const keys = (await store.list()).map((e) => e.key);
  const again = await OrbaxCheckpointManager.open({ store, options, now, log: () => undefined });
  const best = await again.best_step();
  const items = best === null ? {} : await again.restore(best);
  const p = items['params'];
  const restored = p?.kind === 'bytes' ? new TextDecoder().decode(p.data) : '';
  const restartKept = again.all_steps();
  await again.close();
  return { saved, kept, keys, restartKept, best, restored };
}

(globalThis as unknown as { orbaxPage: unknown }).orbaxPage = { run };
