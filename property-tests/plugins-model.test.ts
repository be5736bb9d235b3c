/**
 * Model-based tests of the storage plugins: random sequences of save / remove / link / list / read /
 * exists run against each plugin and against a deliberately simple model of a store (a Map). After
 * every command each plugin's listing and every checkpoint's content agree with its model, and the
 * plugins of one kind (linking or copying) list the same keys. S3 copies where the others link, so
 * its model copies too and contents are compared through `read`. Fixed seeds; FC_SEED replays one.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openFsStore, tfjsMemoryStore, StoreError, compareKeys, payloadToBytes, type CheckpointStore, type Payload } from '../plugins/index.ts';
import { s3Store } from '../plugins/s3/index.ts';
import { startS3Server, s3SkipReason, type S3TestServer } from '../test/helpers/s3-server.ts';

// No key is the folder of another: on a filesystem a checkpoint cannot also be a folder.
const KEYS = ['epoch=0.ckpt', 'epoch=1.ckpt', 'val/acc=0.5.ckpt', 'val/acc=0.7.ckpt', 'last.ckpt', 'a/b/c.ckpt'] as const;

type Entry = { kind: 'file'; content: string } | { kind: 'link'; target: string };

/** The simplest store there is: a map, with links (fs, memory) or copies (S3). */
class ModelStore {
  readonly entries = new Map<string, Entry>();
  constructor(readonly linkAs: 'link' | 'copy') {}
  resolve(key: string, hops = 0): string | null {
    const e = this.entries.get(key);
    if (e === undefined || hops > 40) return null;
    return e.kind === 'file' ? e.content : this.resolve(e.target, hops + 1);
  }
  /** Whether the target's link chain passes through `key` (so linking there would make a loop). */
  passesThrough(target: string, key: string): boolean {
    for (let k: string | undefined = target, hops = 0; k !== undefined && hops <= 40; hops++) {
      if (k === key) return true;
      const e = this.entries.get(k);
      k = e?.kind === 'link' ? e.target : undefined;
    }
    return false;
  }
  listing(prefix = ''): Array<[string, 'file' | 'symlink']> {
    return [...this.entries]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([k, e]) => [k, e.kind === 'file' ? 'file' : 'symlink']);
  }
}

interface Target {
  readonly name: string;
  readonly store: CheckpointStore;
  readonly model: ModelStore;
}
type Real = { targets: Target[] };
type Model = Record<string, never>;

/** What a payload is, as bytes stores keep it: tfjs artifacts by their (deterministic) container encoding. */
const contentOf = (p: Payload) => `${p.kind}:${Buffer.from(payloadToBytes(p)).toString('base64')}`;

const payloadArb: fc.Arbitrary<Payload> = fc.oneof(
  fc.uint8Array({ maxLength: 48 }).map((data): Payload => ({ kind: 'bytes', data })),
  fc.record({ name: fc.constantFrom('m1', 'm2'), weights: fc.array(fc.float(), { maxLength: 6 }) }).map(
    ({ name, weights }): Payload => ({
      kind: 'tfjs',
      artifacts: {
        modelTopology: { class_name: 'Sequential', config: { name } },
        format: 'layers-model',
        generatedBy: 'property-test',
        convertedBy: null,
        weightSpecs: [{ name: 'dense/kernel', shape: [weights.length], dtype: 'float32' }],
        weightData: Float32Array.from(weights).buffer,
      },
    }),
  ),
);

async function expectOutcome(t: Target, what: string, expected: 'ok' | StoreError['code'], run: () => Promise<unknown>): Promise<unknown> {
  try {
    const r = await run();
    assert.equal(expected, 'ok', `${t.name}: ${what} succeeded, the model expected ${expected}`);
    return r;
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.ok(e instanceof StoreError, `${t.name}: ${what} threw ${String(e)}`);
    assert.equal(e.code, expected, `${t.name}: ${what}: ${e.message}`);
    return undefined;
  }
}

/** After every command: listing, kinds and every key's content agree with the model; all plugins list the same keys. */
async function checkAll(real: Real): Promise<void> {
  const keySets: string[] = [];
  for (const t of real.targets) {
    const listed = await t.store.list();
    assert.deepEqual(
      listed.map((e) => [e.key, e.kind]),
      t.model.listing(),
      `${t.name}: listing differs from the model`,
    );
    for (const key of KEYS) {
      const want = t.model.resolve(key);
      assert.equal(await t.store.exists(key), want !== null, `${t.name}: exists(${key})`);
      if (want === null) await expectOutcome(t, `read(${key})`, 'not-found', () => t.store.read(key));
      else assert.equal(contentOf(await t.store.read(key)), want, `${t.name}: content of ${key}`);
    }
    keySets.push(`${t.model.linkAs}\n${listed.map((e) => e.key).join('\n')}`);
  }
  // Stores that link agree with each other, and so do stores that copy; across the two they may
  // not: a link to a removed file dangles (linking to it again is not-found) where a copy stays.
  for (const mode of ['link', 'copy']) {
    const same = keySets.filter((k) => k.startsWith(`${mode}\n`));
    assert.ok(same.every((k) => k === same[0]), `plugins that ${mode} list different keys:\n${same.join('\n--\n')}`);
  }
}

class Save implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string, readonly payload: Payload) {}
  check = () => true;
  async run(_m: Model, real: Real) {
    for (const t of real.targets) {
      await t.store.save(this.key, this.payload);
      t.model.entries.set(this.key, { kind: 'file', content: contentOf(this.payload) });
    }
    await checkAll(real);
  }
  toString = () => `save(${this.key}, ${this.payload.kind})`;
}

class Remove implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string) {}
  check = () => true;
  async run(_m: Model, real: Real) {
    for (const t of real.targets) {
      await t.store.remove(this.key);
      t.model.entries.delete(this.key);
    }
    await checkAll(real);
  }
  toString = () => `remove(${this.key})`;
}

class Link implements fc.AsyncCommand<Model, Real> {
  constructor(readonly target: string, readonly link: string) {}
  check = () => true;
  async run(_m: Model, real: Real) {
    for (const t of real.targets) {
      const content = t.model.resolve(this.target);
      const expected = content === null ? 'not-found' : t.model.passesThrough(this.target, this.link) ? 'conflict' : 'ok';
      const did = await expectOutcome(t, `link(${this.target}, ${this.link})`, expected, () => t.store.link(this.target, this.link));
      if (expected !== 'ok') continue;
      assert.equal(did, t.model.linkAs, `${t.name}: link said ${String(did)}`);
      t.model.entries.set(this.link, t.model.linkAs === 'link' ? { kind: 'link', target: this.target } : { kind: 'file', content: content! });
    }
    await checkAll(real);
  }
  toString = () => `link(${this.target} <- ${this.link})`;
}

class List implements fc.AsyncCommand<Model, Real> {
  constructor(readonly prefix: string) {}
  check = () => true;
  async run(_m: Model, real: Real) {
    for (const t of real.targets) {
      assert.deepEqual((await t.store.list(this.prefix)).map((e) => [e.key, e.kind]), t.model.listing(this.prefix), `${t.name}: list(${this.prefix})`);
    }
  }
  toString = () => `list(${JSON.stringify(this.prefix)})`;
}

const keyArb = fc.constantFrom(...KEYS);
const commands = fc.commands(
  [
    fc.tuple(keyArb, payloadArb).map(([k, p]) => new Save(k, p)),
    keyArb.map((k) => new Remove(k)),
    fc.tuple(keyArb, keyArb).map(([t, l]) => new Link(t, l)),
    fc.constantFrom('', 'val/', 'val/acc=0.7', 'epoch=', 'a/b/', 'zzz').map((p) => new List(p)),
  ],
  { maxCommands: 18 },
);

const skipS3 = s3SkipReason();
let server: S3TestServer | undefined;
const BUCKET = 'ckpt-model-tests';
let run = 0;
let base = '';

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'ckpt-model-'));
  if (skipS3) return;
  server = await startS3Server();
  await server.createBucket(BUCKET);
});
after(async () => {
  await server?.stop();
  await rm(base, { recursive: true, force: true });
});

async function targets(withS3: boolean): Promise<Target[]> {
  run++;
  const out: Target[] = [
    { name: 'fs', store: await openFsStore({ root: join(base, `run-${run}`) }), model: new ModelStore('link') },
    { name: 'memory', store: tfjsMemoryStore({ name: `run-${run}` }), model: new ModelStore('link') },
  ];
  if (withS3 && server) {
    const store = s3Store({ bucket: BUCKET, prefix: `run-${run}`, client: server.client() });
    out.push({ name: 's3', store, model: new ModelStore('copy') });
  }
  return out;
}

test('fs and memory agree with the model (links) after every command', async () => {
  await fc.assert(
    fc.asyncProperty(commands, async (cmds) => {
      const real: Real = { targets: await targets(false) };
      await fc.asyncModelRun(() => ({ model: {}, real }), cmds);
    }),
    { seed: Number(process.env.FC_SEED ?? 0x5701e1), numRuns: 120 },
  );
});

test('fs, memory and S3 run the same sequences: each agrees with its model and all list the same keys', { skip: skipS3 }, async () => {
  await fc.assert(
    fc.asyncProperty(commands, async (cmds) => {
      const real: Real = { targets: await targets(true) };
      await fc.asyncModelRun(() => ({ model: {}, real }), cmds);
    }),
    { seed: Number(process.env.FC_SEED ?? 0x5701e2), numRuns: 30 },
  );
});
