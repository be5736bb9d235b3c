/**
 * The filesystem's lease slot as a compare-and-swap: of writers that saw the same version exactly
 * one replaces it, a writer whose version is gone never comes back, the record is never listed
 * and its name is no key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../plugins/fs/index.ts';
import { StoreError } from '../src/core/store.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ckpt-lease-slot-'));

test('create happens once; of 12 concurrent replaces of one version exactly one wins, and the record is its text', async () => {
  const dir = tmp();
  const slots = await Promise.all(Array.from({ length: 12 }, () => openFsStore({ root: dir }).then((s) => s.lease!)));
  const created = await Promise.all(slots.map((s, i) => s.create(`create ${i}`)));
  assert.equal(created.filter((v) => v !== null).length, 1);
  const v1 = created.find((v) => v !== null)!;
  const replaced = await Promise.all(slots.map((s, i) => s.replace(`writer ${i}`, v1)));
  const winners = replaced.map((v, i) => (v !== null ? i : -1)).filter((i) => i >= 0);
  assert.equal(winners.length, 1, `winners: ${winners.join(', ')}`);
  const cur = await slots[0]!.read();
  assert.deepEqual(cur, { text: `writer ${winners[0]}`, version: replaced[winners[0]!] });
  // only the newest generation is left, and no temporary
  assert.deepEqual(readdirSync(dir), [`.ckpt-policy-lease.${cur!.version}`]);
});

test('a writer whose version was superseded and cleaned up cannot recreate it and win', async () => {
  const dir = tmp();
  const slot = (await openFsStore({ root: dir })).lease!;
  const v1 = (await slot.create('holder'))!;
  const v2 = (await slot.replace('taker', v1))!;
  const v3 = (await slot.replace('taker renewed', v2))!;
  assert.deepEqual(readdirSync(dir), [`.ckpt-policy-lease.${v3}`]);
  // the old holder renews from v1: generation 2 is free again, but a newer one exists
  assert.equal(await slot.replace('holder renewed', v1), null);
  assert.equal((await slot.read())?.text, 'taker renewed');
  assert.deepEqual(readdirSync(dir), [`.ckpt-policy-lease.${v3}`]);
  assert.equal(await slot.create('late creator'), null);
});

test('the lease is no checkpoint: never listed, and its name is refused as a key', async () => {
  const dir = tmp();
  const store = await openFsStore({ root: dir });
  await store.lease!.create('x');
  await store.save('epoch=1.ckpt', { kind: 'bytes', data: new Uint8Array([1]) });
  assert.deepEqual((await store.list()).map((e) => e.key), ['epoch=1.ckpt']);
  for (const key of ['.ckpt-policy-lease', '.ckpt-policy-lease.1', '.ckpt-policy-lease.1/x']) {
    await assert.rejects(store.save(key, { kind: 'bytes', data: new Uint8Array([1]) }), (e: unknown) => e instanceof StoreError && e.code === 'escape' && /reserved for the writer lease/.test(e.message));
  }
});
