/**
 * The decision log's JSON encodings. `encodeJson` writes records: no whitespace, keys in the
 * object's own order (a metrics map keeps its logging order, which Lightning's messages show),
 * `undefined` fields left out, and the numbers JSON cannot hold written as strings ("NaN",
 * "Infinity", "-Infinity", and "-0", which Lightning's messages print differently from 0). A
 * record's hash is the SHA-256 of exactly that text. `canonicalJson` (keys sorted) compares two
 * values for equality whatever order their keys were written in.
 */
import { createHash } from 'node:crypto';
import { jsonNumber } from '../core/stateCodec.ts';

/** The text a record is written as (and hashed over). */
export function encodeJson(value: unknown): string {
  return encode(value, false);
}

/** Equal for values equal as JSON data, whatever their key order. */
export function canonicalJson(value: unknown): string {
  return encode(value, true);
}

function encode(value: unknown, sortKeys: boolean): string {
  switch (typeof value) {
    case 'number':
      return JSON.stringify(jsonNumber(value));
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return '[' + value.map((v) => (v === undefined ? 'null' : encode(v, sortKeys))).join(',') + ']';
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
      if (sortKeys) keys.sort();
      return '{' + keys.map((k) => JSON.stringify(k) + ':' + encode(obj[k], sortKeys)).join(',') + '}';
    }
    default:
      throw new TypeError(`the decision log cannot encode a ${typeof value}`);
  }
}

/** A number as the log writes it. */

export function sha256Hex(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A number read back from the log: finite numbers as themselves, the rest from their strings. */
/** Numbers in the log are the core's JSON numbers: NaN, infinities and -0 as strings. */
export { JsonNumber as LogNumber } from '../core/stateCodec.ts';

/** A record's line: its encoding with the hash of that encoding added as the last field. */
export function sealRecord(body: object): { line: string; hash: string } {
  const json = encodeJson(body);
  const hash = sha256Hex(json);
  return { line: `${json.slice(0, -1)},"hash":"${hash}"}`, hash };
}

const SEAL = /,"hash":"([0-9a-f]{64})"\}$/;

/** Splits a line into the text its hash covers and the hash it carries (null: no hash at its end). */
export function unsealLine(line: string): { body: string; hash: string } | null {
  const m = SEAL.exec(line);
  return m ? { body: line.slice(0, m.index) + '}', hash: m[1]! } : null;
}
