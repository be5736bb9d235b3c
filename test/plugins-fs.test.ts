/** The local-filesystem store: atomic saves, links, temporaries, confinement to the root, failed writes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openFsStore, openStore, StoreError, bytesPayload, carryOut, type Payload } from '../plugins/index.ts';
import { checkpointPath } from '../src/core/brands.ts';
import type { Effect, Reason } from '../src/core/effects.ts';

const bytes = (s: string | number[]) => bytesPayload(typeof s === 'string' ? new TextEncoder().encode(s) : Uint8Array.from(s));
const text = (p: Payload) => (p.kind === 'bytes' ? new TextDecoder().decode(p.data) : assert.fail('expected bytes'));

async function tempRoot(t: { after: (fn: () => Promise<void>) => void }, name = 'ckpts'): Promise<{ base: string; root: string }> {
  const base = await mkdtemp(join(tmpdir(), 'ckpt-fs-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  return { base, root: join(base, name) };
}

/** Every file name under dir, recursively, temporaries included (what a raw `find` shows). */
async function rawNames(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true, recursive: true })) out.push(join(d.parentPath ?? (d as unknown as { path: string }).path, d.name).slice(dir.length + 1));
  return out.sort();
}

const isStoreError = (code: StoreError['code'], re?: RegExp) => (e: unknown) => e instanceof StoreError && e.code === code && (re === undefined || re.test(e.message));

test('save/read/exists/list/remove, with metric subfolders made on demand', async (t) => {
  const { root } = await tempRoot(t);
  const store = await openFsStore({ root });
  assert.equal(store.kind, 'fs');
  assert.equal(store.location, root);
  await store.save('epoch=0-step=10.ckpt', bytes('zero'));
  await store.save('val/acc=0.91.ckpt', bytes('ninety-one'));
  await store.save('val/deep/loss=0.1.ckpt', bytes('x'));
  assert.equal(text(await store.read('val/acc=0.91.ckpt')), 'ninety-one');
  assert.equal(await store.exists('val/acc=0.91.ckpt'), true);
  assert.equal(await store.exists('val/acc=0.5.ckpt'), false);
  assert.equal(await store.exists('nope/acc=0.5.ckpt'), false);
  assert.deepEqual(await store.list(), [
    { key: 'epoch=0-step=10.ckpt', kind: 'file', size: 4 },
    { key: 'val/acc=0.91.ckpt', kind: 'file', size: 10 },
    { key: 'val/deep/loss=0.1.ckpt', kind: 'file', size: 1 },
  ]);
  assert.deepEqual((await store.list('val/a')).map((e) => e.key), ['val/acc=0.91.ckpt']);
  assert.deepEqual((await store.list('val/')).map((e) => e.key), ['val/acc=0.91.ckpt', 'val/deep/loss=0.1.ckpt']);
  assert.deepEqual(await store.list('missing/'), []);
  await store.remove('val/acc=0.91.ckpt');
  await store.remove('val/acc=0.91.ckpt'); // absent: not an error
  assert.equal(await store.exists('val/acc=0.91.ckpt'), false);
  await assert.rejects(store.read('val/acc=0.91.ckpt'), isStoreError('not-found', /val\/acc=0\.91\.ckpt/));
  // a folder key (sharded checkpoint) is removed whole
  await store.remove('val');
  assert.deepEqual((await store.list()).map((e) => e.key), ['epoch=0-step=10.ckpt']);
  // a checkpoint cannot also be a folder
  await assert.rejects(store.save('epoch=0-step=10.ckpt/inner', bytes('x')), isStoreError('conflict', /is a checkpoint file, not a folder/));
});

test('overwriting is atomic: a concurrent reader sees the old or the new checkpoint, never a mix', async (t) => {
  const { root } = await tempRoot(t);
  const store = await openFsStore({ root });
  const size = 2 * 1024 * 1024;
  const variants = [0x11, 0x22, 0x33].map((b) => new Uint8Array(size).fill(b));
  const digests = new Set(variants.map((v) => createHash('sha256').update(v).digest('hex')));
  await store.save('last.ckpt', bytesPayload(variants[0]!));
  let writing = true;
  const writer = (async () => {
    for (let i = 1; i <= 30; i++) await store.save('last.ckpt', bytesPayload(variants[i % 3]!));
    writing = false;
  })();
  let reads = 0;
  while (writing) {
    const data = await readFile(join(root, 'last.ckpt'));
    assert.ok(digests.has(createHash('sha256').update(data).digest('hex')), `read ${data.length} bytes that are no complete version`);
    reads++;
  }
  await writer;
  assert.ok(reads > 0);
  assert.deepEqual(await rawNames(root), ['last.ckpt'], 'no temporary is left behind');
});

test('leftover temporaries of dead writers are cleaned on open, those of live writers kept, none ever listed', async (t) => {
  const { root } = await tempRoot(t);
  await mkdir(join(root, 'val'), { recursive: true });
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const live = spawn('sleep', ['30']);
  t.after(() => live.kill('SIGKILL'));
  await writeFile(join(root, 'real.ckpt'), 'ok');
  await writeFile(join(root, `.epoch=3.ckpt.ckpt-tmp-${dead}-a1b2c3`), 'partial');
  await writeFile(join(root, 'val', `.acc=0.5.ckpt.ckpt-tmp-${dead}-00ff`), 'partial');
  await writeFile(join(root, `.other.ckpt.ckpt-tmp-${live.pid}-beef`), 'in flight elsewhere');
  const store = await openFsStore({ root });
  assert.deepEqual(store.cleanedTemporaries, [`.epoch=3.ckpt.ckpt-tmp-${dead}-a1b2c3`, `val/.acc=0.5.ckpt.ckpt-tmp-${dead}-00ff`]);
  assert.deepEqual(await rawNames(root), [`.other.ckpt.ckpt-tmp-${live.pid}-beef`, 'real.ckpt', 'val']);
  assert.deepEqual((await store.list()).map((e) => e.key), ['real.ckpt']);
  // temporary names are reserved: no key can collide with one
  await assert.rejects(store.save(`.x.ckpt-tmp-${dead}-ab`, bytes('x')), isStoreError('escape', /reserved for temporaries/));
});

test('link: a relative symlink, replaced atomically, dangling once its target goes; copy when symlinks are off', async (t) => {
  const { root } = await tempRoot(t);
  const store = await openFsStore({ root });
  assert.equal(store.supportsSymlinks, true);
  await store.save('epoch=1.ckpt', bytes('one'));
  await store.save('val/epoch=2.ckpt', bytes('two'));
  assert.equal(await store.link('epoch=1.ckpt', 'last.ckpt'), 'link');
  assert.equal(await readlink(join(root, 'last.ckpt')), 'epoch=1.ckpt');
  assert.equal(await store.link('val/epoch=2.ckpt', 'last.ckpt'), 'link');
  assert.equal(await readlink(join(root, 'last.ckpt')), 'val/epoch=2.ckpt');
  assert.equal(await store.link('epoch=1.ckpt', 'sub/last.ckpt'), 'link');
  assert.equal(await readlink(join(root, 'sub/last.ckpt')), '../epoch=1.ckpt');
  assert.equal(text(await store.read('last.ckpt')), 'two');
  assert.deepEqual((await store.list()).find((e) => e.key === 'last.ckpt'), { key: 'last.ckpt', kind: 'symlink', target: 'val/epoch=2.ckpt', size: 3 });
  await store.remove('val/epoch=2.ckpt');
  assert.equal(await store.exists('last.ckpt'), false, 'a dangling link does not exist');
  assert.deepEqual((await store.list()).find((e) => e.key === 'last.ckpt'), { key: 'last.ckpt', kind: 'symlink', target: 'val/epoch=2.ckpt' });
  await store.remove('sub/last.ckpt');
  assert.equal(text(await store.read('epoch=1.ckpt')), 'one', 'removing a link leaves its target');
  await assert.rejects(store.link('gone.ckpt', 'last.ckpt'), isStoreError('not-found', /gone\.ckpt does not exist/));
  await assert.rejects(store.link('epoch=1.ckpt', 'epoch=1.ckpt'), isStoreError('conflict'));
  // pointing a checkpoint at a link to itself would loop and lose it (Lightning would): refused
  await store.link('epoch=1.ckpt', 'last.ckpt');
  await assert.rejects(store.link('last.ckpt', 'epoch=1.ckpt'), isStoreError('conflict', /resolves through epoch=1\.ckpt/));
  assert.equal(text(await store.read('epoch=1.ckpt')), 'one');

  const { root: root2 } = await tempRoot(t, 'nolinks');
  const copying = await openFsStore({ root: root2, allowSymlinks: false });
  assert.equal(copying.supportsSymlinks, false);
  await copying.save('epoch=1.ckpt', bytes('one'));
  assert.equal(await copying.link('epoch=1.ckpt', 'last.ckpt'), 'copy');
  assert.equal((await lstat(join(root2, 'last.ckpt'))).isFile(), true);
  assert.equal(text(await copying.read('last.ckpt')), 'one');
  assert.deepEqual(await rawNames(root2), ['epoch=1.ckpt', 'last.ckpt']);
});

test('keys that would leave the root are refused before anything is written', async (t) => {
  const { base, root } = await tempRoot(t);
  const store = await openFsStore({ root });
  for (const key of ['../escape.ckpt', '/etc/escape.ckpt', 'a/../../escape.ckpt', 'a//b.ckpt', 'a/./b.ckpt', '', 'trailing/']) {
    await assert.rejects(store.save(key, bytes('x')), isStoreError('escape', /keys are relative POSIX paths/), JSON.stringify(key));
    await assert.rejects(store.remove(key), isStoreError('escape'));
  }
  assert.deepEqual(await rawNames(base), ['ckpts']);
});

test('symlinks pointing outside the root are never followed for writes, removals or reads', async (t) => {
  const { base, root } = await tempRoot(t);
  const outside = join(base, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'precious.bin'), 'keep me');
  const store = await openFsStore({ root });
  await symlink(join(outside, 'precious.bin'), join(root, 'evil.ckpt'));
  await symlink(outside, join(root, 'out'));
  await assert.rejects(store.read('evil.ckpt'), isStoreError('escape', /outside the checkpoint folder/));
  await assert.rejects(store.exists('evil.ckpt'), isStoreError('escape'));
  await assert.rejects(store.save('out/new.ckpt', bytes('x')), isStoreError('escape', /folder out is a symlink/));
  await assert.rejects(store.remove('out/precious.bin'), isStoreError('escape'));
  await assert.rejects(store.link('evil.ckpt', 'last.ckpt'), isStoreError('escape'));
  // saving over the outside link replaces the link itself, never the file it points to
  await store.save('evil.ckpt', bytes('mine'));
  await store.remove('evil.ckpt');
  assert.deepEqual(await readdir(outside), ['precious.bin']);
  assert.equal(await readFile(join(outside, 'precious.bin'), 'utf8'), 'keep me');
  // listing shows the folder link as a link and does not descend into it
  assert.deepEqual(await store.list(), [{ key: 'out', kind: 'symlink', target: outside }]);
});

const root0 = process.getuid?.() === 0;
const needRoot = root0 ? false : process.env.CI ? false : 'needs root (to mount a small tmpfs and to drop privileges)';

test('disk full: the save fails naming the path and ENOSPC; the previous checkpoint stays intact, no temporary left', { skip: needRoot }, async (t) => {
  const { base } = await tempRoot(t);
  const mnt = join(base, 'small');
  await mkdir(mnt);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  assert.equal(mounted.status, 0, `mount tmpfs: ${mounted.stderr}`);
  try {
    await fillUp(mnt);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

async function fillUp(mnt: string) {
  const store = await openFsStore({ root: mnt });
  const best = new Uint8Array(300 * 1024).fill(7);
  await store.save('best.ckpt', bytesPayload(best));
  const tooBig = bytesPayload(new Uint8Array(900 * 1024).fill(9));
  for (const key of ['best.ckpt', 'epoch=2.ckpt']) {
    await assert.rejects(store.save(key, tooBig), (e: unknown) => {
      assert.ok(e instanceof StoreError && e.code === 'io');
      assert.match(e.message, new RegExp(`cannot save checkpoint ${key} at ${mnt}/${key}: ENOSPC \\(no space left on device\\)`));
      return true;
    });
  }
  const back = await store.read('best.ckpt');
  assert.ok(back.kind === 'bytes' && Buffer.from(back.data).equals(Buffer.from(best)));
  assert.deepEqual(await rawNames(mnt), ['best.ckpt']);
}

test('permission denied: the save fails naming the path and EACCES; the previous checkpoint stays intact', { skip: needRoot }, async (t) => {
  const { base, root } = await tempRoot(t);
  const store = await openFsStore({ root });
  await store.save('best.ckpt', bytes('best'));
  await chmod(base, 0o755);
  await chmod(root, 0o555);
  process.seteuid!(65534);
  try {
    await assert.rejects(store.save('best.ckpt', bytes('newer')), isStoreError('io', new RegExp(`cannot save checkpoint best.ckpt at ${root}/best.ckpt: EACCES \\(permission denied\\)`)));
    await assert.rejects(store.save('val/x.ckpt', bytes('newer')), isStoreError('io', /EACCES/));
  } finally {
    process.seteuid!(0);
  }
  assert.equal(text(await store.read('best.ckpt')), 'best');
  assert.deepEqual(await rawNames(root), ['best.ckpt']);
});

const reason: Reason = { rule: 'displaced', by: 'x', score: 1 };
const saveReason: Reason = { rule: 'noMonitor', trigger: 'trainEpochEnd', epoch: 1, step: 1 };

test('carryOut: effects run in order against the store; a failed save stops before the removal it causes', async (t) => {
  const { root } = await tempRoot(t);
  const store = await openFsStore({ root });
  const effects: Effect[] = [
    { type: 'save', path: checkpointPath(`${root}/epoch=1.ckpt`), weightsOnly: false, reason: saveReason },
    { type: 'link', target: checkpointPath(`${root}/epoch=1.ckpt`), path: checkpointPath(`${root}/last.ckpt`), relTarget: 'epoch=1.ckpt', fallback: 'copy', reason: saveReason },
    { type: 'log', level: 'info', message: 'hello' },
  ];
  const done = await carryOut(store, effects, (e) => bytes(e.path.slice(root.length + 1)));
  assert.deepEqual(done.map((d) => [d.effect.type, d.key, d.as]), [['save', 'epoch=1.ckpt', undefined], ['link', 'last.ckpt', 'link']]);
  const failing: Effect[] = [
    { type: 'save', path: checkpointPath(`${root}/epoch=1.ckpt/bad`), weightsOnly: false, reason: saveReason },
    { type: 'remove', path: checkpointPath(`${root}/epoch=1.ckpt`), reason },
  ];
  await assert.rejects(carryOut(store, failing, () => bytes('x')), isStoreError('conflict'));
  assert.equal(text(await store.read('epoch=1.ckpt')), 'epoch=1.ckpt');
  await assert.rejects(carryOut(store, [{ type: 'remove', path: checkpointPath('/elsewhere/x.ckpt'), reason }], () => bytes('x')), isStoreError('escape', /not under the store location/));
});

test('openStore picks the plugin from the location as written', async (t) => {
  const { root } = await tempRoot(t);
  assert.equal((await openStore(root)).kind, 'fs');
  assert.equal((await openStore(pathToFileURL(join(root, 'u')).href)).location, join(root, 'u'));
  const m1 = await openStore('memory://run-a');
  await m1.save('k.ckpt', bytes('v'));
  assert.equal(text(await (await openStore('memory://run-a')).read('k.ckpt')), 'v', 'memory://name is one store per name');
  assert.equal(await (await openStore('memory://run-b')).exists('k.ckpt'), false);
  const s3 = await openStore('s3://my-bucket/runs/exp1/', { s3: { region: 'us-east-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'not-a-real-secret' } } });
  assert.equal(s3.kind, 's3');
  assert.equal(s3.location, 's3://my-bucket/runs/exp1');
  await s3.close?.();
  await assert.rejects(openStore('gs://bucket/x'), isStoreError('unsupported', /no storage plugin for gs:\/\/.*supported: a folder path, file:\/\/, s3:\/\/, memory:\/\//));
  await assert.rejects(openStore('s3://Bad_Bucket/x'), isStoreError('unsupported', /bucket name "Bad_Bucket" is not valid/));
});
