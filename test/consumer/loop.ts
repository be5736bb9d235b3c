// A hand-written loop embedding the policy through the Checkpointer, into a folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpointer, type CaptureRequest } from 'ckpt-policy/runtime';
import { openStore } from 'ckpt-policy/stores';

const dir = mkdtempSync(join(tmpdir(), 'consumer-loop-'));
const losses = [0.9, 0.5, 0.7, 0.3, 0.6, 0.4];
const checkpointer = await Checkpointer.open({
  options: { monitor: 'val_loss', mode: 'min', save_top_k: 2, save_last: true, filename: '{epoch}-{val_loss:.2f}' },
  store: await openStore(dir),
  capture: ({ record }: CaptureRequest) => ({ kind: 'bytes', data: new TextEncoder().encode(JSON.stringify({ record })) }),
  log: () => {},
});
let step = 0;
await checkpointer.trainStarted({ epoch: 0, globalStep: 0 });
for (const [epoch, val_loss] of losses.entries()) {
  step += 10;
  await checkpointer.epochEnded({ epoch, globalStep: step, metrics: { val_loss } });
}
await checkpointer.trainEnded({ epoch: losses.length, globalStep: step });
const keys = (await checkpointer.store.list()).map((e) => e.key);
console.log(JSON.stringify({ keys, best: checkpointer.bestModelPath.slice(dir.length + 1) }));
await checkpointer.close();
