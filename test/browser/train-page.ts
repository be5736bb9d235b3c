/**
 * The page test/browser-tfjs.test.ts drives in headless Chromium: TensorFlow.js training in a web
 * page with ckpt-policy's ModelCheckpoint saving into IndexedDB, through the browser entries only
 * (src/tfjs/browser.ts, plugins/browser.ts). Bundled with tfjs by the test; everything it does is
 * exposed as `globalThis.ckptPage` for the test to call, and every answer is plain JSON.
 *
 * Deterministic (seeded data and initialisers, no shuffling, momentum, cpu backend), so a run
 * interrupted by a page reload and resumed can be compared with one never interrupted.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelCheckpoint, captureTfjsModel, loadTfjsModel } from '../../src/tfjs/browser.ts';
import { StoreError, bytesPayload, openStore, type CheckpointStore, type Payload } from '../../plugins/browser.ts';

export const EPOCHS = 6;
export const TRAIN = 96;
export const BATCH = 32;
export const OPTIONS = { monitor: 'val_loss', mode: 'min', save_top_k: 2, save_last: true } as const;

/** What a training phase saw per epoch. */
export interface EpochSeen {
  readonly epoch: number;
  readonly val_loss: number;
  /** the model's output on PROBE at the end of the epoch (what that epoch's checkpoint holds) */
  readonly prediction: number[];
}

/** A storage effect as the policy decided it (paths relative to the store). */
export interface Decided {
  readonly type: 'save' | 'remove' | 'link';
  readonly key: string;
  readonly target?: string;
}

export interface PhaseReport {
  readonly state: 'running' | 'interrupted' | 'finished' | 'failed';
  readonly error?: string;
  readonly initialEpoch: number;
  readonly resumedFrom: string | null;
  /** predictions right after resume (before any training): the weights loaded from the checkpoint */
  readonly predictionAfterResume: number[] | null;
  readonly epochs: EpochSeen[];
  readonly decided: Decided[];
  readonly bestModelPath: string;
  readonly bestModelScore: number | null;
  readonly bestKModels: Array<{ key: string; score: number }>;
  readonly lastModelPath: string;
  /** the callback's loadBestModel() on PROBE, once finished */
  readonly bestLoaded?: number[];
}

const PROBE = [
  [0.5, -0.25, 0.75, 0, -1, 0.3],
  [-0.6, 0.1, 0.2, 0.9, 0.4, -0.8],
];

function data() {
  const make = (n: number, seed: number) => {
    const x = tf.randomUniform([n, 6], -1, 1, 'float32', seed);
    const y = tf.tidy(() => tf.add(tf.sum(tf.sin(tf.mul(x, 3)), 1, true), tf.randomNormal([n, 1], 0, 0.3, 'float32', seed + 1)));
    return { x, y };
  };
  return { train: make(TRAIN, 11), val: make(32, 21) };
}

function buildModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 16, inputShape: [6], activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  // momentum's state restores exactly, so a resumed run can equal an uninterrupted one
  model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'meanSquaredError' });
  return model;
}

async function predict(model: tf.LayersModel): Promise<number[]> {
  const out = model.predict(tf.tensor2d(PROBE)) as tf.Tensor;
  const values = Array.from(await out.data());
  out.dispose();
  return values;
}

let report: PhaseReport | null = null;

/**
 * One training phase into `indexeddb://<db>`. `interruptAfter`: after that epoch's checkpoint is
 * written the phase stops answering (a tab closed mid-training: no train end, nothing flushed
 * later); the test then reloads the page. `resume`: continue from the store's latest checkpoint.
 */
async function train(db: string, opts: { resume: boolean; interruptAfter?: number }): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  const { train: t, val } = data();
  const model = buildModel();
  const location = `indexeddb://${db}`;
  const decided: Decided[] = [];
  const epochs: EpochSeen[] = [];
  const key = (path: string) => path.slice(location.length + 1);
  const checkpoint = new ModelCheckpoint(
    { ...OPTIONS, dirpath: location },
    {
      // awaited writes while a reload may come, so what the interruption leaves is known
      background: opts.interruptAfter !== undefined ? false : { maxInFlight: 2 },
      log: (level, message) => level === 'warning' && console.warn(message),
      observer: {
        decided: ({ effects }) => {
          for (const e of effects) {
            if (e.type === 'save' || e.type === 'remove') decided.push({ type: e.type, key: key(e.path) });
            else if (e.type === 'link') decided.push({ type: 'link', key: key(e.path), target: key(e.target) });
          }
        },
      },
    },
  );
  const resumed = opts.resume ? await checkpoint.resume(model) : { initialEpoch: 0, from: null };
  const predictionAfterResume = opts.resume ? await predict(model) : null;
  const snapshot = (state: PhaseReport['state'], error?: string): PhaseReport => ({
    state,
    ...(error !== undefined ? { error } : {}),
    initialEpoch: resumed.initialEpoch,
    resumedFrom: resumed.from,
    predictionAfterResume,
    epochs: [...epochs],
    decided: [...decided],
    bestModelPath: key(checkpoint.bestModelPath),
    bestModelScore: checkpoint.bestModelScore,
    bestKModels: checkpoint.bestKModels.map((k) => ({ key: k.key, score: k.score })),
    lastModelPath: checkpoint.lastModelPath === '' ? '' : key(checkpoint.lastModelPath),
  });
  report = snapshot('running');
  await model.fit(t.x, t.y, {
    epochs: EPOCHS,
    initialEpoch: resumed.initialEpoch,
    batchSize: BATCH,
    validationData: [val.x, val.y],
    shuffle: false,
    verbose: 0,
    callbacks: [
      checkpoint,
      new tf.CustomCallback({
        onEpochEnd: async (epoch, logs) => {
          epochs.push({ epoch, val_loss: logs!.val_loss as number, prediction: await predict(model) });
          if (epoch === opts.interruptAfter) {
            report = snapshot('interrupted');
            await new Promise(() => undefined); // never resumes: the page is reloaded under it
          }
        },
      }),
    ],
  });
  report = { ...snapshot('finished'), bestLoaded: await predict(await checkpoint.loadBestModel()) };
}

/** Loads checkpoint `key` back, as a new model from its topology and into a freshly built one. */
async function loadBack(db: string, key: string): Promise<{ fromTopology: number[]; intoFresh: number[] }> {
  await tf.setBackend('cpu');
  const store = await openStore(`indexeddb://${db}`);
  try {
    const payload = await store.read(key);
    return { fromTopology: await predict(await loadTfjsModel(payload)), intoFresh: await predict(await loadTfjsModel(payload, buildModel())) };
  } finally {
    await store.close?.();
  }
}

async function listing(db: string): Promise<Array<{ key: string; kind: string; size?: number }>> {
  const store = await openStore(`indexeddb://${db}`);
  try {
    return (await store.list()).map((e) => ({ key: e.key, kind: e.kind, ...(e.size !== undefined ? { size: e.size } : {}) }));
  } finally {
    await store.close?.();
  }
}

// ---- the store contract, in IndexedDB ----------------------------------------------------------

type Outcome = { ok: true; value?: unknown } | { ok: false; name: string; code?: string; message: string };

async function outcome(f: () => Promise<unknown>): Promise<Outcome> {
  try {
    const value = await f();
    return value === undefined ? { ok: true } : { ok: true, value };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, name: err.name, message: err.message, ...(e instanceof StoreError ? { code: e.code } : {}) };
  }
}

async function bytesAt(store: CheckpointStore, key: string): Promise<number[] | string> {
  const p: Payload = await store.read(key);
  return p.kind === 'bytes' ? Array.from(p.data) : `a ${p.kind} payload`;
}

/** Opens a raw IndexedDB database holding an unrelated object store (someone else's database). */
function foreignDatabase(name: string): Promise<void> {
  type Req = { result: { createObjectStore(n: string): unknown; close(): void }; onupgradeneeded: (() => void) | null; onsuccess: (() => void) | null; onerror: (() => void) | null };
  const idb = (globalThis as unknown as { indexedDB: { open(n: string, v: number): Req } }).indexedDB;
  return new Promise((resolve, reject) => {
    const req = idb.open(name, 3);
    req.onupgradeneeded = () => req.result.createObjectStore('unrelated');
    req.onsuccess = () => {
      req.result.close();
      resolve();
    };
    req.onerror = () => reject(new Error(`could not create ${name}`));
  });
}

async function contract(db: string, orderKeys: string[]): Promise<Record<string, unknown>> {
  const store = await openStore(`indexeddb://${db}`);
  const out: Record<string, unknown> = { kind: store.kind, location: store.location, supportsSymlinks: store.supportsSymlinks };

  await store.save('a.ckpt', bytesPayload(Uint8Array.of(1, 2, 3)));
  out.first = await bytesAt(store, 'a.ckpt');
  await store.save('a.ckpt', bytesPayload(Uint8Array.of(4, 5)));
  out.overwritten = await bytesAt(store, 'a.ckpt');
  // a view into a larger buffer: only its bytes are stored
  const big = new Uint8Array(64).fill(9);
  big.set([7, 8], 10);
  await store.save('view.ckpt', bytesPayload(big.subarray(10, 12)));
  out.view = await bytesAt(store, 'view.ckpt');
  // the caller changing its array after save does not change what is stored
  const mutable = Uint8Array.of(1, 1, 1);
  await store.save('mut.ckpt', bytesPayload(mutable));
  mutable[0] = 99;
  out.afterCallerWrite = await bytesAt(store, 'mut.ckpt');

  // a tfjs model, stored as artifacts (ArrayBuffers by structured clone) and loaded back
  await tf.setBackend('cpu');
  const model = buildModel();
  const captured = await captureTfjsModel(model, { weightsOnly: false });
  await store.save('m/model.ckpt', captured);
  const back = await store.read('m/model.ckpt');
  const weights = (p: Payload) => (p.kind === 'tfjs' ? Array.from(new Uint8Array(p.artifacts.weightData as ArrayBuffer)) : []);
  out.tfjs = {
    kind: back.kind,
    weightDataIsArrayBuffer: back.kind === 'tfjs' && back.artifacts.weightData instanceof ArrayBuffer,
    sameWeights: JSON.stringify(weights(back)) === JSON.stringify(weights(captured)),
    weightBytes: weights(back).length,
    sameTopology: back.kind === 'tfjs' && captured.kind === 'tfjs' && JSON.stringify(back.artifacts.modelTopology) === JSON.stringify(captured.artifacts.modelTopology),
    predictionBefore: await predict(model),
    predictionLoaded: await predict(await loadTfjsModel(back)),
  };

  // link is a copy: it outlives its target
  out.linkAs = await store.link('a.ckpt', 'last.ckpt');
  await store.remove('a.ckpt');
  out.afterTargetRemoved = { aExists: await store.exists('a.ckpt'), lastExists: await store.exists('last.ckpt'), last: await bytesAt(store, 'last.ckpt') };
  out.removeAbsent = await outcome(() => store.remove('never-saved.ckpt'));

  out.errors = {
    escape: await outcome(() => store.save('../x', bytesPayload(Uint8Array.of(1)))),
    absolute: await outcome(() => store.save('/x.ckpt', bytesPayload(Uint8Array.of(1)))),
    escapeRead: await outcome(() => store.read('sub/../../x')),
    prefix: await outcome(() => store.list('../')),
    readMissing: await outcome(() => store.read('missing.ckpt')),
    linkMissing: await outcome(() => store.link('missing.ckpt', 'l.ckpt')),
    linkSelf: await outcome(() => store.link('last.ckpt', 'last.ckpt')),
    underAFile: await outcome(() => store.save('last.ckpt/inner.ckpt', bytesPayload(Uint8Array.of(1)))),
    overAFolder: await outcome(() => store.save('m', bytesPayload(Uint8Array.of(1)))),
    // structured clone refuses a function: the save rejects and the old checkpoint stays
    unclonable: await outcome(() => store.save('last.ckpt', { kind: 'tfjs', artifacts: { ...(captured.kind === 'tfjs' ? captured.artifacts : {}), userDefinedMetadata: { f: () => 1 } } })),
  };
  out.afterFailedSave = await bytesAt(store, 'last.ckpt');

  for (const k of orderKeys) await store.save(k, bytesPayload(new TextEncoder().encode(k)));
  out.list = (await store.list()).map((e) => ({ key: e.key, kind: e.kind, size: e.size }));
  out.listM = (await store.list('m/')).map((e) => e.key);
  out.listNone = (await store.list('zzz')).map((e) => e.key);

  // a second connection sees the same database; removing a folder key removes what is under it
  const other = await openStore(`indexeddb://${db}`);
  await other.remove('m');
  out.afterFolderRemoved = { viaFirst: await store.exists('m/model.ckpt'), listM: (await store.list('m/')).map((e) => e.key) };
  await other.close?.();

  await store.close?.();
  out.afterClose = await outcome(() => store.list());

  await foreignDatabase(`${db}-foreign`);
  out.foreign = await outcome(async () => (await openStore(`indexeddb://${db}-foreign`)).list());

  out.unsupported = {
    folder: await outcome(() => openStore('/tmp/checkpoints')),
    relative: await outcome(() => openStore('checkpoints')),
    file: await outcome(() => openStore('file:///tmp/checkpoints')),
    s3: await outcome(() => openStore('s3://bucket/run')),
    gs: await outcome(() => openStore('gs://bucket/run')),
  };
  out.memoryShared = (await openStore('memory://shared')) === (await openStore('memory://shared'));
  // without dirpath or store, the callback's default (<cwd>/checkpoints with cwd '/') is refused clearly
  const noPlace = new ModelCheckpoint({ monitor: 'val_loss' }, {});
  out.noPlace = await outcome(() => noPlace.resume(buildModel()));
  return out;
}

const page = {
  /** starts a phase and returns at once; poll `report()` */
  start(db: string, opts: { resume: boolean; interruptAfter?: number }): void {
    report = null;
    train(db, opts).catch((e: unknown) => {
      report = { ...(report ?? { initialEpoch: 0, resumedFrom: null, predictionAfterResume: null, epochs: [], decided: [], bestModelPath: '', bestModelScore: null, bestKModels: [], lastModelPath: '' }), state: 'failed', error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) };
    });
  },
  report: () => report,
  loadBack,
  listing,
  contract,
};

(globalThis as unknown as { ckptPage: typeof page }).ckptPage = page;

export type PageApi = typeof page;
