/**
 * Where the audit commands read from: a decision log in a file or in a bucket, and a policy file
 * (ModelCheckpoint options as JSON or YAML, Lightning's names or camelCase, as simulate reads it).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { PolicyConfig } from '../core/config.ts';
import { readPolicyArg } from '../policyFile.ts';
import { issueText } from '../sources/structuredText.ts';
import { openStore } from '../../plugins/index.ts';
import { payloadToBytes } from '../../plugins/payload/codec.ts';
import type { LogSource } from './reader.ts';

/** A location a user types: a local path, or a URL (s3://bucket/prefix/decisions.jsonl). */
export function isUrl(location: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(location) && !location.startsWith('file://');
}

/** The log's bytes from a bucket (fetched whole), or its path to stream from. */
export async function logSource(location: string): Promise<LogSource> {
  if (!isUrl(location)) return { kind: 'file', path: location.startsWith('file://') ? new URL(location).pathname : location };
  const cut = location.lastIndexOf('/');
  const store = await openStore(location.slice(0, cut));
  try {
    const payload = await store.read(location.slice(cut + 1));
    return { kind: 'bytes', name: location, data: payloadToBytes(payload) };
  } finally {
    await store.close?.();
  }
}

export class PolicyFileError extends Error {}

/**
 * ModelCheckpoint options from a policy file (or inline text), read as `ckpt simulate --policy`
 * reads them (src/policyFile.ts: an optional `name`, snake_case or camelCase, every problem with its
 * line and column), so that one policy file works in every command.
 */
export function loadPolicy(arg: string): PolicyConfig {
  const p = readPolicyArg(arg);
  if (E.isLeft(p)) throw new PolicyFileError(p.left.map(issueText).join('\n'));
  return p.right.config;
}
