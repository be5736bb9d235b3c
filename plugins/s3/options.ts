/**
 * The S3 store's settings as plain data, apart from the AWS SDK's types, so code that only names
 * them (openStore's options) type-checks and loads without the SDK installed.
 */
export interface S3ClientOptions {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts?: number;
  /** a connection with no bytes moving for this long fails the attempt (then retried); default 30 s */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
}

/** How the store uses S3, whichever client it has. */
export interface S3Settings {
  /** payloads of at least this size go up as multipart uploads (default 64 MiB, at least 5 MiB) */
  multipartThresholdBytes?: number;
  /** copies larger than this use UploadPartCopy (default 5 GiB, CopyObject's limit) */
  multipartCopyThresholdBytes?: number;
  /** keys per ListObjectsV2 page (default 1000) */
  listPageSize?: number;
}
