/**
 * Two runs in one folder cannot delete each other's checkpoints (issue 15, item 4): the second
 * writer is refused at open, naming the holder; `takeOver: true` takes the folder and the old
 * holder then saves and deletes nothing; a crashed or hung holder's lease is taken after its
 * death (same host) or its expiry. On the filesystem (in one process and across processes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../plugins/fs/index.ts';
import { Checkpointer, CheckpointWriteError, LeaseLostError, readLease, WriterLeaseError } from '../src/runtime/index.ts';
import type { CheckpointStore } from '../src/core/store.ts';
import { exited, leaseChild } from './helpers/lease-holder.ts';
import { leaseCapture, leaseEvents, LEASE_OPTIONS, leaseReadRecord, writerOf } from './helpers/lease-run.ts';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `ckpt-lease-${name}-`));
const open = (store: CheckpointStore, writer: string, extra: Partial<Parameters<typeof Checkpointer.open>[0]> = {}, logs: string[] = []) =>
  Checkpointer.open({ options: LEASE_OPTIONS, store, capture: leaseCapture(writer), readRecord: leaseReadRecord, background: false, log: (l, m) => logs.push(`${l}: ${m}`), ...extra });
const train = async (ck: Checkpointer, from: number, to: number) => {
  for (const e of leaseEvents(from, to)) await ck.report(e);
};
const ckptFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.ckpt')).sort();
const writersIn = async (store: CheckpointStore) => Object.fromEntries(await Promise.all((await store.list()).map(async (e) => [e.key, writerOf(await store.read(e.key))] as const)));

test('a second writer in the same folder is refused at open, naming the holder and how to take over; the first keeps all its checkpoints', async () => {
  const dir = tmp('two');
  const a = await open(await openFsStore({ root: dir }), 'A');
  await train(a, 0, 5);
  const before = ckptFiles(dir);
  assert.deepEqual(before, ['epoch=02.ckpt', 'epoch=03.ckpt', 'epoch=04.ckpt', 'last.ckpt']);
  await assert.rejects(open(await openFsStore({ root: dir }), 'B', { resume: 'latest' }), (e: unknown) => {
    assert.ok(e instanceof WriterLeaseError, String(e));
    assert.match(e.message, new RegExp(`another run is writing checkpoints in ${dir.replace(/[.]/g, '\\.')}: run ${a.runId} \\(host .+, pid ${process.pid}\\) holds the folder's writer lease \\(in this process: close\\(\\) the other Checkpointer first\\)`));
    assert.match(e.message, /last renewed \d{4}-\d\d-\d\dT[\d:.]+Z, \d+ s ago/);
    assert.match(e.message, /pass takeOver: true/);
    return true;
  });
  // the refused run wrote and deleted nothing; A carries on as if alone
  assert.deepEqual(ckptFiles(dir), before);
  await train(a, 5, 8);
  assert.deepEqual(ckptFiles(dir), ['epoch=05.ckpt', 'epoch=06.ckpt', 'epoch=07.ckpt', 'last.ckpt']);
  assert.deepEqual(Object.values(await writersIn(a.store)), ['A', 'A', 'A', 'A']);
  await a.close();
  // closed: the folder is free at once, and resume finds A's run
  const b = await open(await openFsStore({ root: dir }), 'B', { resume: 'latest' });
  assert.equal(b.resumed?.record.epoch, 7);
  await b.close();
});

test('takeOver: true takes the folder; the run that lost it fails its next save and removes nothing', async () => {
  const dir = tmp('takeover');
  const a = await open(await openFsStore({ root: dir }), 'A');
  await train(a, 0, 4);
  const logs: string[] = [];
  // an independent run (the case): without the lease, A's next saves would overwrite B's epoch=04 and remove its kept files
  const b = await open(await openFsStore({ root: dir }), 'B', { takeOver: true }, logs);
  assert.ok(logs.some((l) => l.startsWith('warning: ') && l.includes(`taking over ${dir} from run ${a.runId}`)), logs.join('\n'));
  await train(b, 4, 6);
  const afterB = await writersIn(b.store);
  assert.equal(afterB['epoch=04.ckpt'], 'B');
  assert.equal(afterB['epoch=05.ckpt'], 'B');
  // A would now overwrite epoch=04 and remove files B keeps: its first save is refused before it is written
  await assert.rejects(train(a, 4, 6), (e: unknown) => {
    assert.ok(e instanceof CheckpointWriteError, String(e));
    assert.match(e.message, new RegExp(`LeaseLostError: ckpt-policy: this run \\(${a.runId}\\) lost the writer lease of .+ to run ${b.runId} \\(host .+, pid \\d+\\): it saves and deletes nothing more there`));
    assert.match(e.message, /remove epoch=01\.ckpt .*withheld/);
    return true;
  });
  await assert.rejects(train(a, 6, 7), LeaseLostError);
  assert.deepEqual(await writersIn(b.store), afterB);
  await assert.rejects(a.close(), LeaseLostError);
  // A's close left B's lease alone
  const held = await readLease(b.store);
  assert.equal(held?.run, b.runId);
  assert.equal(held?.released, false);
  await b.close();
  assert.equal((await readLease(b.store))?.released, true);
});


test('two processes: the second is refused while the first lives; once it is SIGKILLed its lease is taken at once (its pid is gone)', async () => {
  const dir = tmp('procs');
  const { proc } = await leaseChild(dir, 120_000, 3);
  await assert.rejects(open(await openFsStore({ root: dir }), 'parent'), (e: unknown) => {
    assert.ok(e instanceof WriterLeaseError, String(e));
    assert.match(e.message, new RegExp(`\\(host .+, pid ${proc.pid}\\) holds the folder's writer lease \\(acquired`));
    return true;
  });
  proc.kill('SIGKILL');
  await exited(proc);
  const logs: string[] = [];
  const ck = await open(await openFsStore({ root: dir }), 'parent', { resume: 'latest' }, logs);
  assert.ok(logs.some((l) => l.includes(`taking the writer lease of ${dir} from run`) && l.includes(`process ${proc.pid} on this host has ended`)), logs.join('\n'));
  assert.equal(ck.resumed?.record.epoch, 2);
  await ck.close();
});

test('a hung holder (SIGSTOPped) loses its lease when it expires; woken up, it deletes none of the new run\'s checkpoints', async () => {
  const dir = tmp('hung');
  const { proc, next } = await leaseChild(dir, 1000, 3);
  proc.kill('SIGSTOP');
  try {
    await assert.rejects(open(await openFsStore({ root: dir }), 'parent'), WriterLeaseError);
    await new Promise((r) => setTimeout(r, 1300));
    const logs: string[] = [];
    const ck = await open(await openFsStore({ root: dir }), 'parent', { resume: 'latest' }, logs);
    assert.ok(logs.some((l) => /the run stopped renewing it/.test(l) && l.includes('it expired at')), logs.join('\n'));
    await train(ck, 3, 6);
    const kept = await writersIn(ck.store);
    assert.deepEqual(Object.keys(kept), ['epoch=03.ckpt', 'epoch=04.ckpt', 'epoch=05.ckpt', 'last.ckpt']);
    proc.kill('SIGCONT');
    proc.stdin!.write('more\n');
    const said = await next();
    assert.match(said, /^error (CheckpointWriteError|LeaseLostError): .*lost the writer lease/, said);
    assert.deepEqual(await writersIn(ck.store), kept);
    await ck.close();
  } finally {
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited(proc);
  }
});

test('stores without a lease slot (memory): the lease is held in the process, so a second Checkpointer on the same location is refused there too', async () => {
  const { openStore } = await import('../plugins/index.ts');
  const a = await open(await openStore('memory://lease-in-process'), 'A');
  await train(a, 0, 3);
  await assert.rejects(open(await openStore('memory://lease-in-process'), 'B'), (e: unknown) => e instanceof WriterLeaseError && /in-process lease: single writer per location assumed across processes/.test(e.message));
  // another location is another folder
  const other = await open(await openStore('memory://lease-in-process-2'), 'C');
  await other.close();
  await a.close();
  const b = await open(await openStore('memory://lease-in-process'), 'B', { resume: 'latest' });
  assert.equal(b.resumed?.record.epoch, 2);
  await b.close();
});
