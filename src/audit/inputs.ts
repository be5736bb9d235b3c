/**
 * Where the audit commands read from: a decision log in a file or in a bucket, and a policy file
 * (ModelCheckpoint options as JSON or YAML, Lightning's names or camelCase).
 */
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { parse as parseYaml } from 'yaml';
import { decodeConfig, type PolicyConfig } from '../core/config.ts';
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

/** Reads ModelCheckpoint options from a JSON or YAML file; every problem is named. */
export function loadPolicy(file: string): PolicyConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PolicyFileError(`cannot read the policy ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new PolicyFileError(`${file}: not JSON or YAML: ${(e as Error).message}`);
  }
  const r = decodeConfig(doc ?? {});
  if (E.isLeft(r)) throw new PolicyFileError(`${file}: ${r.left.map((i) => i.message).join('; ')}`);
  return r.right;
}
