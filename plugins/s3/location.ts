/** `s3://bucket/prefix` as users write it. */
import { StoreError } from '../../src/core/store.ts';

export interface S3Location {
  readonly bucket: string;
  /** without leading or trailing '/'; '' for the bucket's top */
  readonly prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function checkBucket(bucket: string): string {
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new StoreError('unsupported', bucket, `S3 bucket name ${JSON.stringify(bucket)} is not valid: 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit`);
  }
  return bucket;
}

export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (p.split('/').some((s) => s === '..' || s === '.') || p.includes('//')) {
    throw new StoreError('escape', p, `S3 prefix ${JSON.stringify(prefix)} is not valid: no '.', '..' or empty segments`);
  }
  return p;
}

export function parseS3Location(location: string): S3Location {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(location);
  if (!m) throw new StoreError('unsupported', location, `${JSON.stringify(location)} is not an S3 location; write s3://bucket or s3://bucket/prefix`);
  return { bucket: checkBucket(m[1]!), prefix: normalizePrefix(m[2]) };
}

export function formatS3Location(loc: S3Location): string {
  return loc.prefix ? `s3://${loc.bucket}/${loc.prefix}` : `s3://${loc.bucket}`;
}
