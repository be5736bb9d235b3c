/**
 * A real S3-compatible server for tests: a one-node Ceph cluster (monitor, one OSD on the
 * in-memory object store, radosgw) on 127.0.0.1, in a temporary folder, on free ports, with a
 * fixed test user. Start one per test file; `stop()` ends exactly the processes it started.
 *
 * Without the radosgw binary the server is skipped with a message, except in CI (CI set), where
 * that is an error: `.ci/setup-s3.sh` installs it.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

// The SDK warns once per process that its 2027 releases need Node 22; not news in a test log.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const run = promisify(execFile);

export const TEST_ACCESS_KEY = 'CKPTPOLICYTESTKEY000';
export const TEST_SECRET_KEY = 'ckpt-policy-test-secret-0123456789abcdef';

export interface S3TestServer {
  readonly endpoint: string;
  readonly port: number;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** a client set up for this server (path-style, checksums only when required) */
  client(opts?: { endpoint?: string; maxAttempts?: number }): S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

const BINARIES = ['radosgw', 'ceph-mon', 'ceph-osd', 'radosgw-admin', 'ceph', 'monmaptool'];

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, bin)));
}

/** Why S3 tests are skipped here, or undefined when they run. Throws in CI when binaries are missing. */
export function s3SkipReason(): string | undefined {
  const missing = BINARIES.filter((b) => !onPath(b));
  if (missing.length === 0) return undefined;
  const msg = `Ceph's radosgw is not installed (missing: ${missing.join(', ')}); run .ci/setup-s3.sh to install it`;
  if (process.env.CI) throw new Error(`S3 tests must run in CI: ${msg}`);
  return msg;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function testClient(endpoint: string, maxAttempts = 3): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET_KEY },
    maxAttempts,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Starts the cluster; resolves when radosgw answers HTTP. */
export async function startS3Server(opts: { memstoreBytes?: number } = {}): Promise<S3TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ckpt-rgw-'));
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  // If the test process dies first, do not leave daemons behind.
  process.once('exit', killAll);
  try {
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    const fsid = crypto.randomUUID();
    for (const d of ['run', 'log', 'mon', 'osd/ceph-0', 'rgw']) await mkdir(join(dir, d), { recursive: true });
    const conf = join(dir, 'ceph.conf');
    await writeFile(
      conf,
      `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
# auth 'none' only pairs with crc mode; radosgw asks for 'secure' by default
ms mon client mode = crc secure
ms client mode = crc secure
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
osd objectstore = memstore
memstore device bytes = ${opts.memstoreBytes ?? 2 * 1024 ** 3}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool delete = true
mon warn on pool no redundancy = false
# commit cluster map changes (pool creation on the first requests) without the 1 s batching
paxos propose interval = 0.05
paxos min wait = 0.01
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
mon data = ${dir}/mon/$cluster-$id
osd data = ${dir}/osd/$cluster-$id
keyring = ${dir}/keyring
[client.rgw.test]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort} tcp_nodelay=1
rgw data = ${dir}/rgw
`,
    );
    const c = ['-c', conf];
    const daemon = (bin: string, args: string[]) => {
      const child = spawn(bin, [...c, '-f', ...args], { stdio: 'ignore' });
      children.push(child);
      return child;
    };
    await run('monmaptool', ['--create', '--add', 'a', `v2:127.0.0.1:${monPort}`, '--fsid', fsid, join(dir, 'monmap')]);
    await run('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')]);
    daemon('ceph-mon', ['-i', 'a']);
    await run('ceph', [...c, '--connect-timeout', '20', 'osd', 'create'], { timeout: 30_000 });
    await run('ceph-osd', [...c, '-i', '0', '--mkfs']);
    daemon('ceph-osd', ['-i', '0']);
    daemon('radosgw', ['-n', 'client.rgw.test']);
    await run('radosgw-admin', [...c, 'user', 'create', '--uid=ckpt-test', '--display-name=ckpt-policy tests', `--access-key=${TEST_ACCESS_KEY}`, `--secret-key=${TEST_SECRET_KEY}`], { timeout: 60_000 });
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitForHttp(endpoint, 60_000, children);
    const clients: S3Client[] = [];
    return {
      endpoint,
      port: rgwPort,
      credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET_KEY },
      client(o = {}) {
        const cl = testClient(o.endpoint ?? endpoint, o.maxAttempts);
        clients.push(cl);
        return cl;
      },
      async createBucket(name) {
        const cl = testClient(endpoint);
        try {
          await cl.send(new CreateBucketCommand({ Bucket: name }));
        } finally {
          cl.destroy();
        }
      },
      async stop() {
        for (const cl of clients) cl.destroy();
        await stopChildren(children);
        process.removeListener('exit', killAll);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stopChildren(children);
    process.removeListener('exit', killAll);
    const logs = join(dir, 'log');
    throw new Error(`could not start radosgw for the S3 tests (logs in ${logs}): ${(e as Error).message}`, { cause: e });
  }
}

async function waitForHttp(endpoint: string, timeoutMs: number, children: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = children.find((ch) => ch.exitCode !== null || ch.signalCode !== null);
    if (dead) throw new Error(`${dead.spawnfile} exited (${dead.exitCode ?? dead.signalCode}) before radosgw answered`);
    try {
      const r = await fetch(endpoint, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`radosgw did not answer on ${endpoint} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * SIGKILL, only to the processes this helper started: the cluster lives in memory and in a
 * temporary folder that is deleted next, so there is nothing to shut down cleanly (SIGTERM takes
 * the daemons seconds).
 */
async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    [...children].reverse().map(
      (ch) =>
        new Promise<void>((resolve) => {
          if (ch.exitCode !== null || ch.signalCode !== null) return resolve();
          ch.once('exit', () => resolve());
          ch.kill('SIGKILL');
        }),
    ),
  );
}
