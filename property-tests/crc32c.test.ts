/**
 * Short TFRecord frames are checked with a CRC-32C computed in JavaScript, long ones with the
 * native @node-rs/crc32: for any bytes, both give the same CRC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import { crc32cJs, NATIVE_CRC_FROM } from '../src/sources/tfrecord.ts';

test('the JavaScript CRC-32C equals the native one on any bytes, either side of the cut-over length', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2 * NATIVE_CRC_FROM }), fc.nat(16), (bytes, offset) => {
      // a view into a larger buffer, as frames are
      const big = new Uint8Array(offset + bytes.length);
      big.set(bytes, offset);
      const view = big.subarray(offset);
      assert.equal(crc32cJs(view), crc32c(Buffer.from(view)));
    }),
    { seed: 32, numRuns: Math.round(500 * Number(process.env.FC_RUNS_SCALE ?? 1)) },
  );
});
