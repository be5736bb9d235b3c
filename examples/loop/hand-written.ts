/**
 * A hand-written training loop (no framework callback) that embeds the policy through the
 * Checkpointer: it reports its moments, the checkpointer decides and saves in the background.
 *
 *   npx tsx examples/loop/hand-written.ts /tmp/hand-ckpts
 *
 * The "model" is a few numbers serialised as JSON bytes; any framework's serialiser fits here. Byte
 * payloads carry the resume record themselves (tfjs payloads get it automatically).
 */
import { openStore } from '../../plugins/index.ts';
import { Checkpointer, type CaptureRequest } from '../../src/runtime/index.ts';

const dir = process.argv[2] ?? 'checkpoints';
let weights = [0.9, -0.4, 0.2];

const checkpointer = await Checkpointer.open({
  options: { monitor: 'val_loss', mode: 'min', save_top_k: 2, save_last: true, filename: '{epoch}-{val_loss:.3f}' },
  store: await openStore(dir), // a folder, file://, s3://bucket/prefix or memory://name
  // called when a save is decided: snapshot now (this is the only part that blocks the loop)
  capture: ({ record }: CaptureRequest) => ({ kind: 'bytes', data: new TextEncoder().encode(JSON.stringify({ weights, record })) }),
  background: { maxInFlight: 2 },
  observer: { decided: ({ effects }) => effects.forEach((e) => e.type === 'save' && console.log(`save ${e.path}`)) },
});

let step = 0;
await checkpointer.trainStarted({ epoch: 0, globalStep: 0 });
for (let epoch = 0; epoch < 6; epoch++) {
  for (let batch = 0; batch < 4; batch++) {
    weights = weights.map((w) => w * 0.9);
    step += 1;
    await checkpointer.batchEnded({ epoch, globalStep: step, isLastBatch: batch === 3, metrics: { loss: weights.reduce((a, w) => a + w * w, 0) } });
  }
  const valLoss = weights.reduce((a, w) => a + w * w, 0) + 0.05 * (1 + Math.sin(epoch * 3));
  await checkpointer.epochEnded({ epoch, globalStep: step, metrics: { val_loss: valLoss } });
}
await checkpointer.trainEnded({ epoch: 6, globalStep: step }); // flushes: rejects if any write failed

console.log(`best_model_path ${checkpointer.bestModelPath} (val_loss ${checkpointer.bestModelScore?.toFixed(4)})`);
console.log(checkpointer.toYaml().trimEnd());
await checkpointer.close();
