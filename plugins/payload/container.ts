/**
 * The single-file layout of a TensorFlow.js checkpoint, so that a filesystem or an object store
 * holds exactly one file per checkpoint and a save stays one atomic write:
 *
 *   offset 0   8 bytes  magic  89 54 46 4A 53 0D 0A 1A   ("\x89TFJS\r\n\x1a": non-ASCII first byte and
 *                                                        CR LF / ^Z catch text-mode mangling, as PNG does)
 *   offset 8   u32 LE   version (1)
 *   offset 12  u32 LE   H, the byte length of the header
 *   offset 16  H bytes  UTF-8 JSON header:
 *                         { "artifacts": ModelArtifacts without weightData (an ArrayBuffer modelTopology
 *                                        is written as {"$base64": "..."}),
 *                           "weightDataBytes": N, "weightDataSha256": "<hex>" }
 *   offset 16+H N bytes weight data (tfjs' concatenated buffer; weightSpecs give the slices)
 *
 * The file is exactly 16 + H + N bytes and the weights carry their SHA-256, so a truncated or
 * damaged file is detected on decode rather than loaded as wrong weights.
 *
 * Node only (node:crypto's SHA-256, Buffer, node:fs): the stores a web page has (memory://,
 * indexeddb://) keep artifacts as they are and never encode, so the browser path imports
 * weights.ts / clone.ts / model.ts instead.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TfjsArtifacts } from '../../src/core/store.ts';
import { joinWeightData } from './weights.ts';

export { joinWeightData } from './weights.ts';

export const CONTAINER_MAGIC = Uint8Array.of(0x89, 0x54, 0x46, 0x4a, 0x53, 0x0d, 0x0a, 0x1a);
export const CONTAINER_VERSION = 1;
const FIXED = 16;

export class ContainerError extends Error {
  override readonly name = 'ContainerError';
}

/** True when `bytes` starts with the container magic (the content decides how `read` returns it). */
export function isTfjsContainer(bytes: Uint8Array): boolean {
  if (bytes.length < CONTAINER_MAGIC.length) return false;
  return CONTAINER_MAGIC.every((b, i) => bytes[i] === b);
}

function headerArtifacts(artifacts: TfjsArtifacts): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(artifacts)) {
    if (k === 'weightData' || v === undefined) continue;
    out[k] = v instanceof ArrayBuffer ? { $base64: Buffer.from(v).toString('base64') } : v;
  }
  return out;
}

export function encodeTfjsCheckpoint(artifacts: TfjsArtifacts): Uint8Array {
  const weights = joinWeightData(artifacts.weightData);
  const header = Buffer.from(
    JSON.stringify({
      artifacts: headerArtifacts(artifacts),
      weightDataBytes: weights.byteLength,
      weightDataSha256: createHash('sha256').update(weights).digest('hex'),
    }),
    'utf8',
  );
  const out = new Uint8Array(FIXED + header.length + weights.byteLength);
  const view = new DataView(out.buffer);
  out.set(CONTAINER_MAGIC, 0);
  view.setUint32(8, CONTAINER_VERSION, true);
  view.setUint32(12, header.length, true);
  out.set(header, FIXED);
  out.set(weights, FIXED + header.length);
  return out;
}

export function decodeTfjsCheckpoint(bytes: Uint8Array): TfjsArtifacts {
  if (!isTfjsContainer(bytes)) throw new ContainerError('not a tfjs checkpoint container: the file does not start with the container magic 89 54 46 4A 53 0D 0A 1A');
  if (bytes.length < FIXED) throw new ContainerError(`tfjs checkpoint container truncated: ${bytes.length} bytes, the fixed header alone is ${FIXED}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CONTAINER_VERSION) throw new ContainerError(`tfjs checkpoint container version ${version} is not supported (this reader knows version ${CONTAINER_VERSION})`);
  const headerLength = view.getUint32(12, true);
  if (FIXED + headerLength > bytes.length) throw new ContainerError(`tfjs checkpoint container truncated: header says ${headerLength} header bytes, the file has ${bytes.length - FIXED} after the fixed part`);
  let header: { artifacts?: Record<string, unknown>; weightDataBytes?: unknown; weightDataSha256?: unknown };
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + FIXED, headerLength).toString('utf8'));
  } catch (e) {
    throw new ContainerError(`tfjs checkpoint container header is not valid JSON: ${(e as Error).message}`);
  }
  const n = header.weightDataBytes;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || typeof header.weightDataSha256 !== 'string' || typeof header.artifacts !== 'object' || header.artifacts === null) {
    throw new ContainerError('tfjs checkpoint container header lacks artifacts, weightDataBytes or weightDataSha256');
  }
  const expected = FIXED + headerLength + n;
  if (bytes.length !== expected) throw new ContainerError(`tfjs checkpoint container has ${bytes.length} bytes, its header says ${expected} (truncated or appended to)`);
  const start = bytes.byteOffset + FIXED + headerLength;
  // A copy, so the artifacts do not pin (or alias) the whole file buffer.
  const weightData = bytes.buffer.slice(start, start + n) as ArrayBuffer;
  const digest = createHash('sha256').update(new Uint8Array(weightData)).digest('hex');
  if (digest !== header.weightDataSha256) throw new ContainerError('tfjs checkpoint container weight data does not match its SHA-256 (damaged file)');
  const artifacts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(header.artifacts)) {
    const b64 = v !== null && typeof v === 'object' && '$base64' in v ? (v as { $base64: unknown }).$base64 : undefined;
    if (typeof b64 === 'string') {
      const raw = Buffer.from(b64, 'base64');
      artifacts[k] = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length);
    } else artifacts[k] = v;
  }
  artifacts.weightData = weightData;
  return artifacts as TfjsArtifacts;
}

/** The names tfjs' own exporters use; `tf.loadLayersModel('http://…/model.json')` fetches weights.bin beside it. */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/**
 * Writes tfjs' standard two-file layout (`model.json` + `weights.bin`) into `dir`, which tfjs'
 * http loader (and tfjs-node's file:// loader) read. Weights are written first and each file is
 * renamed into place, so a reader that finds model.json finds complete weights.
 */
export async function exportTfjsModelDir(artifacts: TfjsArtifacts, dir: string): Promise<{ modelJson: string; weights: string }> {
  await mkdir(dir, { recursive: true });
  const weights = joinWeightData(artifacts.weightData);
  const modelJson: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(artifacts)) {
    if (k === 'weightData' || k === 'weightSpecs' || v === undefined) continue;
    if (v instanceof ArrayBuffer) throw new ContainerError(`exportTfjsModelDir: artifact field "${k}" is binary (a GraphModel protobuf); model.json holds JSON topologies only`);
    modelJson[k] = v;
  }
  modelJson.weightsManifest = [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }];
  const put = async (name: string, data: Uint8Array | string) => {
    const tmp = join(dir, `.${name}.export-${process.pid}`);
    await writeFile(tmp, data);
    await rename(tmp, join(dir, name));
  };
  await put(WEIGHTS_BIN, weights);
  await put(MODEL_JSON, JSON.stringify(modelJson));
  return { modelJson: join(dir, MODEL_JSON), weights: join(dir, WEIGHTS_BIN) };
}

/** Reads a `model.json` + weight files directory (tfjs' layout, any number of shards) back into artifacts. */
export async function readTfjsModelDir(dir: string): Promise<TfjsArtifacts> {
  const json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as Record<string, unknown> & {
    weightsManifest?: Array<{ paths: string[]; weights: NonNullable<TfjsArtifacts['weightSpecs']> }>;
  };
  const { weightsManifest, ...rest } = json;
  const specs: Array<NonNullable<TfjsArtifacts['weightSpecs']>[number]> = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of weightsManifest ?? []) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      if (p.includes('/') || p.includes('\\') || p === '..') throw new ContainerError(`model.json in ${dir} names weight file ${JSON.stringify(p)} outside its folder`);
      const b = await readFile(join(dir, p));
      buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer);
    }
  }
  const weightData = joinWeightData(buffers);
  return { ...rest, weightSpecs: specs, weightData: weightData.buffer as ArrayBuffer };
}
