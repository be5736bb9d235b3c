/**
 * Storage plugin benchmarks (called by the bench harness):
 *  - fs store save vs plain `writeFile` + fsync of the same bytes, 1 MB / 100 MB / 1 GB, as MB/s
 *    and as a ratio (the price of the temporary, rename and folder fsync);
 *  - S3 store save vs one PutObject of the same bytes on the same local radosgw;
 *  - capturing a 10M-parameter tfjs model (weights only, and with Adam's state).
 * Each figure is the median of several repeats (fewer for the largest sizes).
 */
import { open, mkdtemp, rm, unlink } from 'node:fs/promises';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { openFsStore, bytesPayload } from '../plugins/index.ts';
import { s3Store } from '../plugins/s3/index.ts';
import { captureTfjsModel } from '../plugins/payload/tfjs.ts';
import { startS3Server, s3SkipReason } from '../test/helpers/s3-server.ts';

type Report = (row: { name: string; value: number; unit: string; note?: string }) => void;

const MB = 1024 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** Alternates the two contenders so drift (page cache, disk) hits both alike. */
async function compare(reps: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < reps; i++) {
    ta.push(await timed(a));
    tb.push(await timed(b));
  }
  return [median(ta), median(tb)];
}

const label = (bytes: number) => (bytes >= 1024 * MB ? `${bytes / 1024 / MB}GB` : `${bytes / MB}MB`);

export async function run(report: Report): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ckpt-bench-'));
  try {
    // ---- fs ----
    const store = await openFsStore({ root: join(dir, 'store') });
    // Two cases: a new checkpoint name (the usual top-k save) and replacing an existing one (last.ckpt).
    // Replacing costs more for the store by design: the old file must survive until the new one is
    // complete, so both exist at once and the old one is freed at the rename.
    const plainWrite = async (path: string, data: Uint8Array) => {
      const fh = await open(path, 'w');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    };
    for (const [size, reps] of [[MB, 15], [100 * MB, 5], [1024 * MB, 3]] as const) {
      const data = randomFillSync(new Uint8Array(size));
      const payload = bytesPayload(data);
      for (const mode of ['new name', 'replacing'] as const) {
        let i = 0;
        let j = 0;
        const [tStore, tPlain] = await compare(
          reps,
          async () => {
            await store.save(mode === 'new name' ? `epoch=${i++}.ckpt` : 'last.ckpt', payload);
          },
          async () => {
            await plainWrite(join(dir, mode === 'new name' ? `plain-${j++}.bin` : 'plain-last.bin'), data);
          },
        );
        const n = `${mode}; ${reps} repeats, median`;
        report({ name: `fs.save ${label(size)} (${mode})`, value: size / MB / tStore, unit: 'MB/s', note: n });
        report({ name: `writeFile+fsync ${label(size)} (${mode})`, value: size / MB / tPlain, unit: 'MB/s', note: n });
        report({ name: `fs.save / writeFile+fsync throughput ${label(size)} (${mode})`, value: tPlain / tStore, unit: 'ratio', note: 'goal >= 0.9' });
        // files are removed outside the timed region
        for (const e of await store.list()) await store.remove(e.key);
        await rm(join(dir, 'plain-last.bin'), { force: true });
        for (let k = 0; k < j; k++) await unlink(join(dir, `plain-${k}.bin`)).catch(() => undefined);
      }
    }

    // ---- S3 on a local radosgw ----
    const skip = s3SkipReason();
    if (skip) report({ name: 's3 (skipped)', value: 0, unit: '', note: skip });
    else {
      const server = await startS3Server({ memstoreBytes: 6 * 1024 * MB });
      try {
        await server.createBucket('bench');
        const client = server.client();
        const s3 = s3Store({ bucket: 'bench', prefix: 'b', client });
        for (const [size, reps] of [[16 * MB, 5], [256 * MB, 3]] as const) {
          const data = randomFillSync(new Uint8Array(size));
          const [tStore, tPut] = await compare(
            reps,
            () => s3.save('epoch=0.ckpt', bytesPayload(data)),
            () => client.send(new PutObjectCommand({ Bucket: 'bench', Key: 'plain.bin', Body: data, ContentLength: size })),
          );
          const how = size >= 64 * MB ? 'multipart, 8 MiB parts x4 in flight' : 'single PutObject with Content-MD5';
          report({ name: `s3.save ${label(size)}`, value: size / MB / tStore, unit: 'MB/s', note: `${how}; ${reps} repeats` });
          report({ name: `PutObject ${label(size)}`, value: size / MB / tPut, unit: 'MB/s', note: `${reps} repeats` });
          report({ name: `s3.save / PutObject time ${label(size)}`, value: tStore / tPut, unit: 'x' });
        }
      } finally {
        await server.stop();
      }
    }

    // ---- tfjs capture ----
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    // 1000*5000 + 5000 + 5000*1000 + 1000 = 10,006,000 parameters
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 5000, inputShape: [1000] }), tf.layers.dense({ units: 1000 })] });
    model.compile({ optimizer: tf.train.adam(), loss: 'meanSquaredError' });
    await model.fit(tf.zeros([2, 1000]), tf.zeros([2, 1000]), { epochs: 1, verbose: 0 }); // creates Adam's moments
    for (const weightsOnly of [true, false]) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < 5; i++) {
        times.push(
          await timed(async () => {
            const p = await captureTfjsModel(model, { weightsOnly });
            bytes = p.kind === 'tfjs' ? (p.artifacts.weightData as ArrayBuffer).byteLength : 0;
          }),
        );
      }
      report({ name: `captureTfjsModel 10M params ${weightsOnly ? 'weights-only' : 'with optimizer'}`, value: median(times) * 1000, unit: 'ms', note: `${(bytes / MB).toFixed(0)} MB of weights; 5 repeats, median` });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
