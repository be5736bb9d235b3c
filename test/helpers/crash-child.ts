/**
 * Child process for the crash tests: trains forever (until SIGKILLed), saving self-checking
 * checkpoints through the fs store the way a policy would: save epoch=N, overwrite best.ckpt,
 * point last.ckpt at epoch=N, remove epoch=N-2. Each step is reported on stdout only after it
 * completed, with a synchronous write, so the parent knows a lower bound of what was saved.
 *
 * A checkpoint's first 32 bytes are the SHA-256 of the rest: any partial file is detectable.
 *   node --import tsx test/helpers/crash-child.ts <root> <bytes>
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { openFsStore, bytesPayload } from '../../plugins/index.ts';

const [root, sizeArg] = process.argv.slice(2);
if (!root || !sizeArg) throw new Error('usage: crash-child.ts <root> <bytes>');
const size = Number(sizeArg);
const say = (line: string) => writeSync(1, line + '\n');

export function selfChecking(size: number): Uint8Array {
  const body = randomBytes(size - 32);
  const out = new Uint8Array(size);
  out.set(createHash('sha256').update(body).digest(), 0);
  out.set(body, 32);
  return out;
}

const store = await openFsStore({ root });
const epochs = (await store.list()).map((e) => /^epoch=(\d+)\.ckpt$/.exec(e.key)?.[1]).filter((n): n is string => n !== undefined).map(Number);
let epoch = Math.max(0, ...epochs) + 1;
say(`ready ${epoch}`);
for (;;) {
  const data = bytesPayload(selfChecking(size));
  await store.save(`epoch=${epoch}.ckpt`, data);
  say(`saved epoch=${epoch}.ckpt`);
  await store.save('best.ckpt', data);
  say('saved best.ckpt');
  await store.link(`epoch=${epoch}.ckpt`, 'last.ckpt');
  say('linked last.ckpt');
  say(`removing epoch=${epoch - 2}.ckpt`);
  await store.remove(`epoch=${epoch - 2}.ckpt`);
  epoch++;
}
