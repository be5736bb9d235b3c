/**
 * TensorBoard event files: TFRecord framing and its CRCs, both scalar forms, step 0 left out,
 * regrouping scalars into logger calls, a truncated tail, corrupt records; and the public event
 * files, whose per-tag counts are the ones the data's MANIFEST lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs/minimal.js';
import { frameRecord, maskedCrc32c, readFrames, type Frame } from '../src/sources/tfrecord.ts';
import { decodeEvent, EventDecodeError, fileVersionEvent, readTfeventsLog, scalarEvent } from '../src/sources/tfevents.ts';
import { SourceError, type LogRecord } from '../src/sources/records.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = join(root, '../shared/data/tfevents');
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-tfevents-'));

function eventFile(name: string, payloads: Uint8Array[]): string {
  const p = join(tmp, name);
  writeFileSync(p, Buffer.concat([fileVersionEvent(), ...payloads].map(frameRecord)));
  return p;
}

async function readAll(path: string, opts: { skipBad?: boolean } = {}) {
  const records: LogRecord[] = [];
  const skipped: SourceError[] = [];
  const truncated: { record: number | undefined; have: number; need: number }[] = [];
  for await (const b of readTfeventsLog(path, { bad: { skipBad: opts.skipBad ?? false, onSkip: (e) => skipped.push(e) }, onTruncated: (o, have, need) => truncated.push({ record: o.record, have, need }) })) records.push(...b);
  return { records, skipped, truncated };
}

const plain = (rs: LogRecord[]) => rs.map((r) => [r.step, r.epoch, Object.fromEntries(r.metrics)]);

test('masked CRC-32C: known answers (worked out apart from this code, by a bitwise CRC-32C in Python)', () => {
  assert.equal(maskedCrc32c(new TextEncoder().encode('123456789')), 0xc78ab0e5); // CRC-32C check value 0xe3069283, masked
  assert.equal(maskedCrc32c(new Uint8Array(0)), 0xa282ead8);
  assert.equal(maskedCrc32c(new Uint8Array(8)), 0x07980329);
  assert.equal(maskedCrc32c(new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0])), 0x0e4999b0);
});

test('a record is framed as length, masked CRC of the length, data, masked CRC of the data', () => {
  const data = new Uint8Array([1, 2, 3]);
  const f = frameRecord(data);
  const v = new DataView(f.buffer);
  assert.equal(f.length, 8 + 4 + 3 + 4);
  assert.equal(v.getUint32(0, true), 3);
  assert.equal(v.getUint32(8, true), maskedCrc32c(f.subarray(0, 8)));
  assert.equal(v.getUint32(15, true), maskedCrc32c(data));
});

test('step 0 is stored by leaving the step field out, and decodes as 0', () => {
  const zero = scalarEvent('loss', 1, 0);
  const five = scalarEvent('loss', 1, 5);
  const hasStepKey = (b: Uint8Array) => b.includes(0x10); // field 2, varint
  assert.equal(hasStepKey(zero), false);
  assert.equal(hasStepKey(five), true);
  assert.equal(decodeEvent(zero).step, 0);
  assert.equal(decodeEvent(five).step, 5);
});

test('both scalar forms read: simple_value and a one-element float tensor of the scalars plugin', async () => {
  const p = eventFile('forms.tfevents', [scalarEvent('a', 0.5, 3), scalarEvent('b', 0.25, 3, 0, 'tensor'), scalarEvent('epoch', 0, 3)]);
  const { records } = await readAll(p);
  assert.deepEqual(plain(records), [[3, 0, { a: 0.5, b: 0.25 }]]);
});

test("scalars regroup into Lightning's logger calls: `epoch` closes a call; calls at one step stay apart", async () => {
  const p = eventFile('groups.tfevents', [
    scalarEvent('hp_metric', -1, 0),
    scalarEvent('train_loss', 1, 1),
    scalarEvent('epoch', 0, 1),
    scalarEvent('train_loss', 0.5, 3),
    scalarEvent('epoch', 0, 3),
    scalarEvent('val_loss', 0.75, 3),
    scalarEvent('val_acc', 0.5, 3),
    scalarEvent('epoch', 0, 3),
    scalarEvent('lr-Adam', 0.001, 4),
  ]);
  const { records } = await readAll(p);
  assert.deepEqual(plain(records), [
    [0, null, { hp_metric: -1 }],
    [1, 0, { train_loss: 1 }],
    [3, 0, { train_loss: 0.5 }],
    [3, 0, { val_loss: 0.75, val_acc: 0.5 }],
    [4, null, { 'lr-Adam': Math.fround(0.001) }],
  ]);
});

test('a last record cut short (a run still being written) ends the read quietly, with a note', async () => {
  const full = eventFile('full.tfevents', [scalarEvent('loss', 1, 1), scalarEvent('epoch', 0, 1), scalarEvent('loss', 2, 3), scalarEvent('epoch', 0, 3)]);
  const bytes = readFileSync(full);
  const cut = join(tmp, 'cut.tfevents');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 5));
  const { records, truncated } = await readAll(cut);
  assert.deepEqual(plain(records), [
    [1, 0, { loss: 1 }],
    [3, null, { loss: 2 }],
  ]);
  assert.equal(truncated.length, 1);
  assert.equal(truncated[0]!.record, 5);
});

test('a corrupt payload is an error naming the record; --skip-bad skips it and reads on', async () => {
  const p = eventFile('corrupt.tfevents', [scalarEvent('loss', 1, 1), scalarEvent('epoch', 0, 1), scalarEvent('loss', 2, 3), scalarEvent('epoch', 0, 3)]);
  const bytes = readFileSync(p);
  // flip a byte inside the payload of the third record (the second scalar event)
  let off = 0;
  for (let i = 0; i < 2; i++) off += 16 + bytes.readUInt32LE(off);
  bytes[off + 14]! ^= 0xff;
  writeFileSync(p, bytes);
  await assert.rejects(readAll(p), (e: unknown) => e instanceof SourceError && e.origin.record === 3 && /data CRC mismatch at byte \d+/.test(e.message));
  const { records, skipped } = await readAll(p, { skipBad: true });
  assert.equal(skipped.length, 1);
  assert.deepEqual(plain(records), [
    [1, null, { loss: 1 }],
    [3, 0, { loss: 2 }],
  ]);
});

test('a corrupt length loses the framing: an error even with --skip-bad', async () => {
  const p = eventFile('badlen.tfevents', [scalarEvent('loss', 1, 1)]);
  const bytes = readFileSync(p);
  const second = 16 + bytes.readUInt32LE(0);
  bytes[second]! ^= 0x01;
  writeFileSync(p, bytes);
  await assert.rejects(readAll(p, { skipBad: true }), /record 2: length CRC mismatch .*records after this point cannot be framed/);
});

test('any single flipped bit is caught: in a length or its CRC, the framing is lost; in a payload or its CRC, that record is bad', async () => {
  const payloads = [scalarEvent('loss', 1, 1), scalarEvent('epoch', 0, 1), scalarEvent('loss', 0.5, 2), scalarEvent('epoch', 0, 2)];
  const clean = readFileSync(eventFile('flip.tfevents', payloads));
  const starts: number[] = [];
  for (let off = 0; off < clean.length; off += 16 + clean.readUInt32LE(off)) starts.push(off);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: payloads.length }), fc.nat(), fc.integer({ min: 0, max: 7 }), async (index, at, bit) => {
      const start = starts[index]!;
      const size = 16 + clean.readUInt32LE(start);
      const byte = at % size;
      const bytes = Buffer.from(clean);
      bytes[start + byte]! ^= 1 << bit;
      const p = join(tmp, `flip-${run++}.tfevents`);
      writeFileSync(p, bytes);
      if (byte < 12) {
        await assert.rejects(readAll(p, { skipBad: true }), new RegExp(`record ${index + 1}: length CRC mismatch at byte ${start} `));
      } else {
        await assert.rejects(readAll(p), new RegExp(`record ${index + 1}: data CRC mismatch at byte ${start} `));
        const { skipped } = await readAll(p, { skipBad: true });
        assert.deepEqual(skipped.map((e) => e.origin.record), [index + 1]);
      }
    }),
    { numRuns: 150 },
  );
});

test('frames come out the same however the file is cut into reads, a cut-short tail included', async () => {
  const bytes = readFileSync(eventFile('chunks.tfevents', [scalarEvent('a', 1, 1), scalarEvent('b', 2, 700), scalarEvent('epoch', 0, 700)]));
  const summary = (fs: Frame[]) => fs.map((f) => (f.kind === 'record' ? [f.kind, f.index, f.offset, [...f.data]] : f.kind === 'truncated' ? [f.kind, f.index, f.offset, f.have, f.need] : [f.kind, f.index]));
  const read = async (path: string, chunkSize?: number) => {
    const out: Frame[] = [];
    for await (const fs of readFrames(path, chunkSize === undefined ? {} : { chunkSize })) out.push(...fs);
    return summary(out);
  };
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 48 }), fc.integer({ min: 0, max: bytes.length }), async (chunkSize, cut) => {
      const p = join(tmp, `chunks-${chunkSize}-${cut}.tfevents`);
      writeFileSync(p, bytes.subarray(0, cut));
      assert.deepEqual(await read(p, chunkSize), await read(p));
    }),
    { numRuns: 100 },
  );
});

test('simple_value 0 is a scalar (the field is there); a Value with neither simple_value nor a scalar tensor is not one', () => {
  const { Writer } = protobuf;
  const zero = scalarEvent('loss', 0, 3);
  assert.deepEqual(decodeEvent(zero).scalars, [{ tag: 'loss', value: 0 }]);
  const image = Writer.create().uint32(42).fork().uint32(10).fork().uint32(10).string('img').uint32(34).fork().ldelim().ldelim().ldelim().finish(); // summary { value { tag, image {} } }
  assert.deepEqual(decodeEvent(image).scalars, []);
});

test('tensor scalars: float/double/int content, packed values, half and bfloat16 bits; a tensor of several elements is not a scalar', () => {
  const { Writer } = protobuf;
  /** An Event at step 1 holding one Value of the scalars plugin with the tensor `body` writes. */
  const event = (body: (w: protobuf.Writer) => void) => {
    const w = Writer.create().uint32(16).int64(1).uint32(42).fork().uint32(10).fork().uint32(10).string('t');
    w.uint32(66).fork();
    body(w);
    w.ldelim();
    return decodeEvent(w.ldelim().ldelim().finish()).scalars.map((s) => s.value);
  };
  const content = (dtype: number, bytes: number[]) => (w: protobuf.Writer) => w.uint32(8).int32(dtype).uint32(34).bytes(Uint8Array.from(bytes));
  assert.deepEqual(event(content(2, [...new Uint8Array(new Float64Array([0.1]).buffer)])), [0.1]);
  assert.deepEqual(event(content(3, [0xfe, 0xff, 0xff, 0xff])), [-2]);
  assert.deepEqual(event(content(9, [5, 0, 0, 0, 0, 0, 0, 0])), [5]);
  assert.deepEqual(event(content(19, [0x00, 0x3c])), [1]); // half 1.0
  assert.deepEqual(event(content(14, [0x80, 0x3f])), [1]); // bfloat16 1.0
  assert.deepEqual(event((w) => w.uint32(8).int32(1).uint32(42).fork().float(0.5).ldelim()), [0.5]); // packed float_val
  assert.deepEqual(event((w) => w.uint32(8).int32(2).uint32(49).double(0.25)), [0.25]); // double_val
  assert.deepEqual(event((w) => w.uint32(8).int32(9).uint32(80).int64(-7)), [-7]); // int64_val
  assert.deepEqual(event((w) => w.uint32(8).int32(19).uint32(106).fork().int32(0x3c00).ldelim()), [1]); // half_val, packed
  assert.deepEqual(event((w) => w.uint32(8).int32(14).uint32(104).int32(0x3f80)), [1]); // bfloat16 bits in half_val
  assert.deepEqual(event((w) => w.uint32(8).int32(1).uint32(18).fork().uint32(18).fork().uint32(8).int64(2).ldelim().ldelim().uint32(42).fork().float(1).float(2).ldelim()), []); // shape [2]
  assert.deepEqual(event((w) => w.uint32(8).int32(7).uint32(45).float(1)), []); // DT_STRING
});

test('steps: absent is 0, large and negative int64 values read exactly; malformed bytes are an EventDecodeError', () => {
  const { Writer } = protobuf;
  assert.equal(decodeEvent(Writer.create().uint32(16).int64(2 ** 40 + 3).finish()).step, 2 ** 40 + 3);
  assert.equal(decodeEvent(Writer.create().uint32(16).int64(-1).finish()).step, -1);
  assert.equal(decodeEvent(Writer.create().uint32(9).double(1.5).finish()).step, 0);
  const cut = scalarEvent('loss', 1, 5);
  assert.throws(() => decodeEvent(cut.subarray(0, cut.length - 3)), EventDecodeError);
  assert.throws(() => decodeEvent(Uint8Array.from([42, 5, 10, 9, 10, 1, 65])), EventDecodeError); // a Value longer than its Summary
});

test('a file that is not an event file says so', async () => {
  const p = join(tmp, 'not.tfevents');
  writeFileSync(p, 'epoch,step\n0,1\n');
  await assert.rejects(readAll(p), /not\.tfevents record 1: not a TensorBoard event file: the first record's length CRC does not check/);
  const q = join(tmp, 'noversion.tfevents');
  writeFileSync(q, frameRecord(scalarEvent('loss', 1, 1)));
  await assert.rejects(readAll(q), /record 1: file_version: the first record is not a file_version event/);
});

// ---- the public event files (../shared/data/tfevents, see its MANIFEST) -------------------------

/** Per-tag counts from the MANIFEST's table (scalar tags and number of points, TFRecord records). */
const MANIFEST: Record<string, { records: number; tags: Record<string, number> }> = {
  '01-camels-ch/events.out.tfevents.1740927185.2e70dc9cc425.45742.0': {
    records: 1030,
    tags: { epoch: 217, train_loss: 157, train_domain_loss: 157, train_source_task_loss: 157, train_target_task_loss: 157, val_loss: 30, val_source_loss: 30, val_target_loss: 30, val_domain_acc: 30, lambda_adv: 30, 'lr-Adam': 30, hp_metric: 1 },
  },
  '01-camels-ch/events.out.tfevents.1740928967.2e70dc9cc425.45742.1': { records: 5, tags: { hp_metric: 1 } },
  '01-camels-ch/events.out.tfevents.1740942955.27fb59a262e4.125386.1': { records: 239, tags: { epoch: 74, train_loss: 62, train_mse: 62, val_loss: 12, val_mse: 12, 'lr-Adam': 12, hp_metric: 1 } },
  '02-tft-network/events.out.tfevents.1695875575.84521eabf24a.1141.0': {
    records: 478,
    tags: { epoch: 167, train_loss_step: 145, train_loss_epoch: 11, val_loss: 11, val_MAE: 11, val_MAPE: 11, val_RMSE: 11, val_SMAPE: 11, 'lr-Ranger': 11, hp_metric: 1 },
  },
  '02-tft-network/events.out.tfevents.1695806444.fb3a92d89a9b.2865.0': {
    records: 138,
    tags: { epoch: 45, train_loss_step: 39, train_loss_epoch: 3, val_loss: 3, val_MAE: 3, val_MAPE: 3, val_RMSE: 3, val_SMAPE: 3, 'lr-Ranger': 3, hp_metric: 1 },
  },
  '02-tft-network/events.out.tfevents.1695196146.liuxingchen-t.3980.0': { records: 13, tags: { hp_metric: 1, 'lr-Ranger': 1 } },
};

const haveShared = existsSync(shared);

for (const [name, expected] of Object.entries(MANIFEST)) {
  test(`public event file ${name}: every CRC checks and the scalar counts match the MANIFEST`, { skip: haveShared ? false : `${shared} is absent (the shared data set is not on this machine)` }, async () => {
    const path = join(shared, name);
    let frames = 0;
    for await (const fs of readFrames(path)) {
      for (const f of fs) {
        assert.equal(f.kind, 'record', `${name}: frame ${frames + 1} is ${f.kind}`);
        frames++;
      }
    }
    assert.equal(frames, expected.records);
    const { records } = await readAll(path);
    const counts: Record<string, number> = {};
    for (const r of records) {
      if (r.epoch !== null) counts.epoch = (counts.epoch ?? 0) + 1;
      for (const k of r.metrics.keys()) counts[k] = (counts[k] ?? 0) + 1;
    }
    assert.deepEqual(counts, expected.tags);
  });
}

test('public event files: the first lr-Adam point has step 0 stored by omission; hp_metric is the -1 placeholder', { skip: haveShared ? false : `${shared} is absent` }, async () => {
  const { records } = await readAll(join(shared, '01-camels-ch/events.out.tfevents.1740927185.2e70dc9cc425.45742.0'));
  const lr = records.find((r) => r.metrics.has('lr-Adam'))!;
  assert.equal(lr.step, 0);
  assert.equal(records.find((r) => r.metrics.has('hp_metric'))!.metrics.get('hp_metric'), -1);
  // validation once per epoch at steps 262, 525, ... (MANIFEST)
  assert.deepEqual(
    records.filter((r) => r.metrics.has('val_loss')).slice(0, 2).map((r) => r.step),
    [262, 525],
  );
});
