/** The S3 client the store uses when none is given: standard AWS configuration plus explicit options. */
import { S3Client } from '@aws-sdk/client-s3';

import type { S3ClientOptions } from './options.ts';

export type { S3ClientOptions } from './options.ts';

export const DEFAULT_MAX_ATTEMPTS = 5;

/** An endpoint that is not AWS's own: from the options or from the AWS environment variables. */
export function customEndpoint(opts: S3ClientOptions): string | undefined {
  return opts.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
}

/**
 * Region, credentials and endpoint come from the options, else from the SDK's standard chain
 * (AWS_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/config and credentials, instance
 * roles, AWS_ENDPOINT_URL_S3). Retries: the SDK's 'standard' mode (exponential backoff with
 * jitter) on throttling, 5xx, timeouts and dropped connections. No logger is attached.
 */
export function createS3Client(opts: S3ClientOptions): S3Client {
  const endpoint = customEndpoint(opts);
  const envRegion = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  return new S3Client({
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
    // A local S3-compatible server needs some region to sign with; AWS itself takes it from the chain.
    ...(opts.region !== undefined ? { region: opts.region } : endpoint !== undefined && envRegion === undefined ? { region: 'us-east-1' } : {}),
    ...(opts.forcePathStyle !== undefined ? { forcePathStyle: opts.forcePathStyle } : {}),
    ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
    maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    retryMode: 'standard',
    // An inactivity timeout, not a total one: a large upload that keeps moving is never cut off.
    requestHandler: { socketTimeout: opts.requestTimeoutMs ?? 30_000, connectionTimeout: opts.connectionTimeoutMs ?? 5_000 },
    // S3-compatible servers (radosgw, MinIO, ...) may not understand the SDK's default trailing checksums.
    ...(endpoint !== undefined ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
  });
}

/** Values that must never appear in an error or a log line. */
export function secretsOf(opts: S3ClientOptions): string[] {
  return [
    opts.credentials?.secretAccessKey,
    opts.credentials?.accessKeyId,
    opts.credentials?.sessionToken,
    process.env.AWS_SECRET_ACCESS_KEY,
    process.env.AWS_ACCESS_KEY_ID,
    process.env.AWS_SESSION_TOKEN,
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
}
