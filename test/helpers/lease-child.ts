/**
 * A second training process for the writer-lease tests: opens a Checkpointer on a folder or an
 * S3 prefix, trains `epochs` epochs, says `ready`, then waits. On the line `more` from stdin it
 * trains `epochs` more and says `done`, or `error <name>: <message>` when the runtime refuses.
 *   node --import tsx test/helpers/lease-child.ts <dir|s3json> <ttlMs> <epochs>
 */
import { createInterface } from 'node:readline';
import { writeSync } from 'node:fs';
import { openFsStore } from '../../plugins/fs/index.ts';
import { s3Store } from '../../plugins/s3/index.ts';
import { Checkpointer } from '../../src/runtime/index.ts';
import { leaseEvents, LEASE_OPTIONS, leaseCapture, leaseReadRecord } from './lease-run.ts';

const [where, ttl, epochsArg] = process.argv.slice(2);
if (!where || !ttl || !epochsArg) throw new Error('usage: lease-child.ts <dir|s3json> <ttlMs> <epochs>');
const say = (line: string) => writeSync(1, line + '\n');
const epochs = Number(epochsArg);
const store = where.startsWith('{') ? s3Store(JSON.parse(where)) : await openFsStore({ root: where });
try {
  const ck = await Checkpointer.open({ options: LEASE_OPTIONS, store, capture: leaseCapture('child'), readRecord: leaseReadRecord, resume: 'latest', leaseTtlMs: Number(ttl), log: () => undefined, background: false });
  for (const e of leaseEvents(0, epochs)) await ck.report(e);
  say(`ready ${process.pid}`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line !== 'more') continue;
    try {
      for (const e of leaseEvents(epochs, 2 * epochs)) await ck.report(e);
      say('done');
    } catch (e) {
      say(`error ${(e as Error).name}: ${(e as Error).message.replace(/\n/g, ' | ')}`);
    }
    break;
  }
  process.exit(0);
} catch (e) {
  say(`error ${(e as Error).name}: ${(e as Error).message.replace(/\n/g, ' | ')}`);
  process.exit(0);
}
