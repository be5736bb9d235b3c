/** Payloads: the tfjs container, capturing and loading tfjs models, tfjs' own file layout, raw bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import {
  bytesPayloadFromFile,
  decodeTfjsCheckpoint,
  encodeTfjsCheckpoint,
  exportTfjsModelDir,
  openFsStore,
  readTfjsModelDir,
  tfjsMemoryStore,
  ContainerError,
  type Payload,
  type TfjsArtifacts,
} from '../plugins/index.ts';
import { captureTfjsModel, loadTfjsModel } from '../plugins/payload/tfjs.ts';

await tf.setBackend('cpu');

function makeModel(seed: number): tf.LayersModel {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ units: 6, inputShape: [4], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  m.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  return m;
}

async function trainedModel(): Promise<tf.LayersModel> {
  const m = makeModel(7);
  const x = tf.randomNormal([16, 4], 0, 1, 'float32', 1);
  const y = tf.randomNormal([16, 3], 0, 1, 'float32', 2);
  await m.fit(x, y, { epochs: 2, verbose: 0 });
  return m;
}

const INPUT = tf.tensor2d([[0.5, -1, 2, 0.25], [1, 1, -3, 0]]);
const predict = (m: tf.LayersModel) => Array.from((m.predict(INPUT) as tf.Tensor).dataSync());

function tfjsOf(p: Payload): TfjsArtifacts {
  assert.equal(p.kind, 'tfjs');
  return (p as Extract<Payload, { kind: 'tfjs' }>).artifacts;
}

test('container: encode/decode returns the same artifacts and weight bytes', () => {
  const artifacts: TfjsArtifacts = {
    modelTopology: { class_name: 'Sequential', config: { layers: [] } },
    format: 'layers-model',
    generatedBy: 'test',
    convertedBy: null,
    weightSpecs: [{ name: 'w', shape: [2, 2], dtype: 'float32' }],
    // shards, as tfjs may hand them over: they are joined
    weightData: [Float32Array.of(1, 2).buffer, Float32Array.of(3, 4).buffer],
    userDefinedMetadata: { note: 'é' },
  };
  const encoded = encodeTfjsCheckpoint(artifacts);
  const back = decodeTfjsCheckpoint(encoded);
  const { weightData, ...rest } = back;
  const { weightData: _w, ...expected } = artifacts;
  assert.deepEqual(rest, expected);
  assert.deepEqual(Array.from(new Float32Array(weightData as ArrayBuffer)), [1, 2, 3, 4]);
  // Deterministic: what was decoded encodes to the same bytes.
  assert.deepEqual(encodeTfjsCheckpoint(back), encoded);
});

test('container: a binary topology (GraphModel protobuf) survives as an ArrayBuffer', () => {
  const topo = Uint8Array.of(0, 255, 10, 13, 26).buffer;
  const back = decodeTfjsCheckpoint(encodeTfjsCheckpoint({ modelTopology: topo, weightSpecs: [], weightData: new ArrayBuffer(0) }));
  assert.ok(back.modelTopology instanceof ArrayBuffer);
  assert.deepEqual(Array.from(new Uint8Array(back.modelTopology)), [0, 255, 10, 13, 26]);
});

test('container: truncation, damage, a wrong magic and an unknown version are refused with the reason', () => {
  const good = encodeTfjsCheckpoint({ weightSpecs: [{ name: 'w', shape: [4], dtype: 'float32' }], weightData: Float32Array.of(1, 2, 3, 4).buffer });
  assert.throws(() => decodeTfjsCheckpoint(good.subarray(0, good.length - 1)), (e: unknown) => e instanceof ContainerError && /truncated/.test(e.message));
  const damaged = good.slice();
  damaged[damaged.length - 2]! ^= 0xff;
  assert.throws(() => decodeTfjsCheckpoint(damaged), /SHA-256/);
  const notOurs = good.slice();
  notOurs[1] = 0x50;
  assert.throws(() => decodeTfjsCheckpoint(notOurs), /magic/);
  const future = good.slice();
  new DataView(future.buffer).setUint32(8, 99, true);
  assert.throws(() => decodeTfjsCheckpoint(future), /version 99/);
});

test('full capture: topology, training config and optimizer state; loads back predicting identically with the optimizer restored', async () => {
  const model = await trainedModel();
  const payload = await captureTfjsModel(model, { weightsOnly: false });
  const a = tfjsOf(payload);
  assert.ok(a.modelTopology);
  assert.ok(a.trainingConfig);
  const groups = (a.weightSpecs ?? []).map((s) => (s as { group?: string }).group);
  assert.ok(groups.includes('optimizer'), 'optimizer weights are in the checkpoint');
  const loaded = await loadTfjsModel(payload);
  assert.deepEqual(predict(loaded), predict(model));
  assert.equal(loaded.optimizer?.getClassName(), 'Adam');
  const want = await model.optimizer.getWeights();
  const got = await loaded.optimizer.getWeights();
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.deepEqual(Array.from(got[i]!.tensor.dataSync()), Array.from(want[i]!.tensor.dataSync()));
});

test('weights-only capture: no topology nor optimizer; loads into a fresh model of the same architecture', async () => {
  const model = await trainedModel();
  const payload = await captureTfjsModel(model, { weightsOnly: true });
  const a = tfjsOf(payload);
  assert.equal(a.modelTopology, undefined);
  assert.equal(a.trainingConfig, undefined);
  assert.equal(a.weightSpecs?.length, model.weights.length);
  await assert.rejects(loadTfjsModel(payload), /weights-only.*pass `into`/);
  const fresh = makeModel(99); // different automatic layer names and weights
  assert.notDeepEqual(predict(fresh), predict(model));
  await loadTfjsModel(payload, fresh);
  assert.deepEqual(predict(fresh), predict(model));
  const other = tf.sequential({ layers: [tf.layers.dense({ units: 5, inputShape: [4] }), tf.layers.dense({ units: 3 })] });
  await assert.rejects(loadTfjsModel(payload, other), /shape \[4, 6\] in the checkpoint, \[4, 5\]/);
  await assert.rejects(loadTfjsModel({ kind: 'bytes', data: new Uint8Array(3) }), /raw bytes/);
});

test("exportTfjsModelDir writes model.json + weights.bin that tfjs' http loader reads; readTfjsModelDir reads them back", async () => {
  const model = await trainedModel();
  const a = tfjsOf(await captureTfjsModel(model, { weightsOnly: false }));
  const dir = await mkdtemp(join(tmpdir(), 'ckpt-export-'));
  const server = createServer(async (req, res) => {
    try {
      const body = await readFile(join(dir, new URL(req.url ?? '/', 'http://x').pathname.slice(1)));
      res.writeHead(200, { 'content-type': extname(req.url ?? '') === '.json' ? 'application/json' : 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  try {
    await exportTfjsModelDir(a, dir);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`;
    const viaHttp = await tf.loadLayersModel(url);
    assert.deepEqual(predict(viaHttp), predict(model));
    const viaFiles = await tf.loadLayersModel(tf.io.fromMemory(await readTfjsModelDir(dir)));
    assert.deepEqual(predict(viaFiles), predict(model));
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a tfjs checkpoint saved to the fs and memory stores loads back and predicts identically', async () => {
  const model = await trainedModel();
  const root = await mkdtemp(join(tmpdir(), 'ckpt-tfjs-'));
  try {
    for (const store of [await openFsStore({ root }), tfjsMemoryStore()]) {
      await store.save('epoch=1-step=4.ckpt', await captureTfjsModel(model, { weightsOnly: false }));
      const loaded = await loadTfjsModel(await store.read('epoch=1-step=4.ckpt'));
      assert.deepEqual(predict(loaded), predict(model), store.kind);
    }
    // On disk it is one file, in the container layout.
    const file = await readFile(join(root, 'epoch=1-step=4.ckpt'));
    assert.deepEqual(Array.from(file.subarray(0, 5)), [0x89, 0x54, 0x46, 0x4a, 0x53]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('raw bytes written by another process are stored and read back byte for byte', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ckpt-bytes-'));
  try {
    const produced = join(root, 'outside-the-store.pt');
    // another process (think torch.save) writes the file
    execFileSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(produced)}, Buffer.from(Array.from({length: 70000}, (_, i) => (i * 31 + 7) % 256)))`]);
    const store = await openFsStore({ root: join(root, 'ckpts') });
    const payload = await bytesPayloadFromFile(produced);
    await store.save('model.pt', payload);
    const back = await store.read('model.pt');
    assert.equal(back.kind, 'bytes');
    assert.deepEqual(Buffer.from((back as Extract<Payload, { kind: 'bytes' }>).data), await readFile(produced));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
