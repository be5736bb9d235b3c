/**
 * SDK errors -> StoreError, with nothing secret in them: the message is rebuilt from the error's
 * name, HTTP status and server message, known secrets are masked, and the SDK error object (which
 * holds the request, signing headers included) is not kept as the cause.
 */
import { StoreError, type StoreErrorCode } from '../../src/core/store.ts';

export interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number; totalRetryDelay?: number; requestId?: string };
}

export function httpStatus(e: unknown): number | undefined {
  return (e as SdkErrorLike | undefined)?.$metadata?.httpStatusCode;
}

export function isNotFound(e: unknown): boolean {
  const name = (e as SdkErrorLike | undefined)?.name;
  return httpStatus(e) === 404 || name === 'NotFound' || name === 'NoSuchKey';
}

/** Masks every occurrence of any secret (credentials given to the store, or in the environment). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

export function s3Error(op: string, key: string, where: string, e: unknown, secrets: readonly string[]): StoreError {
  if (e instanceof StoreError) return e;
  const err = (e ?? {}) as SdkErrorLike;
  const status = httpStatus(e);
  const attempts = err.$metadata?.attempts;
  const code: StoreErrorCode = isNotFound(e) ? 'not-found' : 'io';
  const parts = [
    err.name && err.name !== 'Error' ? err.name : err.code,
    status !== undefined ? `HTTP ${status}` : undefined,
    err.message && err.message !== err.name ? err.message : undefined,
    attempts !== undefined && attempts > 1 ? `after ${attempts} attempts` : undefined,
  ].filter((p): p is string => p !== undefined && p !== '');
  const message = redact(`cannot ${op} checkpoint ${key} at ${where}: ${parts.join(', ') || 'unknown error'}`, secrets);
  const cause = new Error(redact(parts.join(', '), secrets));
  cause.name = redact(err.name ?? 'Error', secrets);
  return new StoreError(code, key, message, { cause });
}
