/**
 * Child process for the Orbax runtime's kill tests: saves steps forever (until SIGKILLed) through
 * OrbaxCheckpointManager on the fs store, three self-checking items per step (selfChecking: the
 * first 32 bytes are the SHA-256 of the rest). Prints `saved N` when a save resolved; with
 * `pause`, the store prints `writing N` once step N's first item has landed and waits, so a kill
 * on that line lands in the middle of the step's write.
 *   node --import tsx test/helpers/orbax-crash-child.ts <root> <sync|async> <bytes> [pause]
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { openFsStore } from '../../plugins/fs/index.ts';
import type { CheckpointStore } from '../../src/core/store.ts';
import { OrbaxCheckpointManager } from '../../src/dialects/orbax/runtime/index.ts';

/** As crash-child.ts writes them (that module runs its loop on import, so it is not imported). */
function selfChecking(size: number): Uint8Array {
  const body = randomBytes(size - 32);
  const out = new Uint8Array(size);
  out.set(createHash('sha256').update(body).digest(), 0);
  out.set(body, 32);
  return out;
}

const [root, mode, sizeArg, pause] = process.argv.slice(2);
if (!root || !mode || !sizeArg) throw new Error('usage: orbax-crash-child.ts <root> <sync|async> <bytes> [pause]');
const size = Number(sizeArg);
const say = (line: string) => writeSync(1, line + '\n');

const fsStore = await openFsStore({ root });
// with `pause`: once a step's first item has landed, say so and wait (the kill lands there)
const store: CheckpointStore =
  pause === undefined
    ? fsStore
    : {
        ...fsStore,
        save: async (key, payload) => {
          await fsStore.save(key, payload);
          if (key.endsWith('/a')) {
            say(`writing ${key.split('/')[0]}`);
            await new Promise((r) => setTimeout(r, 200));
          }
        },
        list: (p) => fsStore.list(p),
        read: (k) => fsStore.read(k),
        remove: (k) => fsStore.remove(k),
        exists: (k) => fsStore.exists(k),
        link: (a, b) => fsStore.link(a, b),
      };
// takeOver: the previous child was killed holding the lease (same host, dead pid: taken anyway)
const m = await OrbaxCheckpointManager.open({ store, options: { max_to_keep: 2, enable_async_checkpointing: mode === 'async' }, takeOver: true, log: () => undefined });
let step = (m.latest_step() ?? 0) + 1;
say(`ready ${step}`);
for (;;) {
  const n = step;
  await m.save(n, { a: selfChecking(size), b: () => selfChecking(size), c: selfChecking(size) });
  say(`saved ${n}`);
  step++;
}
