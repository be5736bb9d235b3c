/**
 * The S3 store. One object per checkpoint at `<prefix>/<key>`. S3 makes an object visible only
 * when its upload completes (PutObject, or CompleteMultipartUpload for large ones), so a reader
 * never sees a partial checkpoint; a failed multipart upload is aborted. S3 has no links, so
 * `link` copies server-side (CopyObject) and says 'copy', as Lightning refuses save_last='link'
 * on object stores.
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { checkKey, checkPrefix, compareKeys, isLeaseName, LEASE_NAME } from '../keys.ts';
import { bytesToPayload, payloadToBytes } from '../payload/codec.ts';
import { StoreError, type CheckpointStore, type StoredEntry } from '../../src/core/store.ts';
import { createS3Client, DEFAULT_MAX_ATTEMPTS, secretsOf } from './client.ts';
import type { S3ClientOptions, S3Settings } from './options.ts';
import { isNotFound, s3Error, type SdkErrorLike } from './errors.ts';
import { checkBucket, formatS3Location, normalizePrefix } from './location.ts';
import { s3LeaseSlot } from './lease.ts';

export { parseS3Location, formatS3Location, type S3Location } from './location.ts';
export { createS3Client, type S3ClientOptions } from './client.ts';

export type { S3Settings } from './options.ts';

export interface S3StoreOptions extends S3ClientOptions, S3Settings {
  bucket: string;
  prefix?: string;
  /** a configured client (its own retries and timeouts apply); the store then does not close it */
  client?: S3Client;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const MIN_PART = 5 * MiB;
const MAX_PARTS = 10_000;

export function s3Store(opts: S3StoreOptions): CheckpointStore {
  const bucket = checkBucket(opts.bucket);
  const prefix = normalizePrefix(opts.prefix);
  const client = opts.client ?? createS3Client(opts);
  const ownsClient = opts.client === undefined;
  const secrets = secretsOf(opts);
  const location = formatS3Location({ bucket, prefix });
  const multipartThreshold = Math.max(MIN_PART, opts.multipartThresholdBytes ?? 64 * MiB);
  const copyThreshold = Math.min(5 * GiB, Math.max(MIN_PART, opts.multipartCopyThresholdBytes ?? 5 * GiB));
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;

  const objectKey = (key: string) => (prefix ? `${prefix}/${key}` : key);
  const where = (key: string) => `s3://${bucket}/${objectKey(key)}`;
  const fail = (op: string, key: string, e: unknown) => s3Error(op, key, where(key), e, secrets);
  const partSizeFor = (size: number) => Math.max(8 * MiB, Math.ceil(size / MAX_PARTS));

  const head = async (key: string): Promise<{ size: number } | null> => {
    try {
      const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      return { size: r.ContentLength ?? 0 };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw fail('look up', key, e);
    }
  };

  const listObjects = async (fullPrefix: string): Promise<Array<{ key: string; size: number }>> => {
    const out: Array<{ key: string; size: number }> = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: fullPrefix, ContinuationToken: token, ...(opts.listPageSize ? { MaxKeys: opts.listPageSize } : {}) }),
      );
      for (const o of page.Contents ?? []) if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out;
  };

  /** CopyObject stops at 5 GiB; beyond, the copy is assembled from UploadPartCopy ranges. */
  const copyLarge = async (source: string, destKey: string, size: number) => {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: destKey }));
    try {
      const partSize = Math.max(partSizeFor(size), MIN_PART);
      const parts: Array<{ ETag: string; PartNumber: number }> = [];
      for (let start = 0, n = 1; start < size; start += partSize, n++) {
        const end = Math.min(size, start + partSize) - 1;
        const r = await client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: destKey, UploadId, PartNumber: n, CopySource: source, CopySourceRange: `bytes=${start}-${end}` }));
        parts.push({ ETag: r.CopyPartResult?.ETag ?? '', PartNumber: n });
      }
      await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: destKey, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (e) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: destKey, UploadId })).catch(() => undefined);
      throw e;
    }
  };

  return {
    kind: 's3',
    location,
    supportsSymlinks: false,
    lease: s3LeaseSlot(client, bucket, objectKey(LEASE_NAME), (op, e) => s3Error(`${op} the writer lease`, LEASE_NAME, where(LEASE_NAME), e, secrets)),

    async save(key, payload) {
      checkKey(key);
      const body = payloadToBytes(payload);
      try {
        if (body.byteLength >= multipartThreshold) {
          // Parts retry one by one; on failure lib-storage aborts the upload, so nothing appears under the key.
          await new Upload({ client, params: { Bucket: bucket, Key: objectKey(key), Body: body }, partSize: partSizeFor(body.byteLength), queueSize: 4, leavePartsOnError: false }).done();
        } else {
          // Content-MD5 makes the server refuse a body damaged on the way.
          const md5 = createHash('md5').update(body).digest('base64');
          await client.send(new PutObjectCommand({ Bucket: bucket, Key: objectKey(key), Body: body, ContentLength: body.byteLength, ContentMD5: md5 }));
        }
      } catch (e) {
        throw fail('save', key, e);
      }
    },

    async remove(key) {
      checkKey(key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
        // A folder key (sharded checkpoint) goes whole, as on the filesystem.
        for (const o of await listObjects(objectKey(key) + '/')) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.key }));
      } catch (e) {
        throw fail('remove', key, e);
      }
    },

    async link(targetKey, linkKey) {
      checkKey(targetKey);
      checkKey(linkKey);
      const target = await head(targetKey);
      if (target === null) throw new StoreError('not-found', targetKey, `cannot copy ${targetKey} to ${linkKey}: ${where(targetKey)} does not exist`);
      if (targetKey === linkKey) throw new StoreError('conflict', linkKey, `cannot copy checkpoint ${linkKey} onto itself`);
      const source = `${bucket}/${objectKey(targetKey).split('/').map(encodeURIComponent).join('/')}`;
      try {
        if (target.size > copyThreshold) await copyLarge(source, objectKey(linkKey), target.size);
        else await client.send(new CopyObjectCommand({ Bucket: bucket, Key: objectKey(linkKey), CopySource: source }));
      } catch (e) {
        throw fail(`copy ${targetKey} to`, linkKey, e);
      }
      return 'copy';
    },

    async exists(key) {
      checkKey(key);
      return (await head(key)) !== null;
    },

    async list(listPrefix = '') {
      checkPrefix(listPrefix);
      const base = prefix ? `${prefix}/` : '';
      let objects;
      try {
        objects = await listObjects(base + listPrefix);
      } catch (e) {
        throw s3Error('list', listPrefix || '(all)', `s3://${bucket}/${base}${listPrefix}`, e, secrets);
      }
      const out: StoredEntry[] = objects
        // folder markers written by consoles are not checkpoints
        .filter((o) => !o.key.endsWith('/') && !isLeaseName(o.key.slice(base.length)))
        .map((o) => ({ key: o.key.slice(base.length), kind: 'file' as const, size: o.size }));
      return out.sort((a, b) => compareKeys(a.key, b.key));
    },

    async read(key) {
      checkKey(key);
      // The SDK retries until the response starts; a connection dropped while the body streams is retried here.
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
          if (r.Body === undefined) throw new Error('GetObject returned no body');
          const bytes = await r.Body.transformToByteArray();
          if (r.ContentLength !== undefined && bytes.byteLength !== r.ContentLength) {
            throw Object.assign(new Error(`body ended after ${bytes.byteLength} of ${r.ContentLength} bytes`), { code: 'ECONNRESET' });
          }
          return bytesToPayload(key, bytes);
        } catch (e) {
          if (isNotFound(e)) throw new StoreError('not-found', key, `checkpoint ${key} does not exist at ${where(key)}`);
          if (e instanceof StoreError || attempt >= maxAttempts || !bodyInterrupted(e)) throw fail('read', key, e);
          await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt) * Math.random()));
        }
      }
    },

    async close() {
      if (ownsClient) client.destroy();
    },
  };
}

/** A network failure while the body was streaming (the response had started, so the SDK did not retry). */
function bodyInterrupted(e: unknown): boolean {
  const err = e as SdkErrorLike & { code?: string };
  if (err?.$metadata?.httpStatusCode !== undefined) return false;
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE'].includes(err?.code ?? '') || err?.name === 'TimeoutError' || /aborted|premature|socket hang up/i.test(err?.message ?? '');
}
