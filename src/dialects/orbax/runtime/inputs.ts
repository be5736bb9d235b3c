/**
 * What a loop hands the runtime, checked before anything is decided or written: steps, metrics,
 * items (name → bytes, a Payload, or a function giving either when the write happens). Bad input
 * throws an OrbaxInputError naming the field, the value and what is allowed.
 */
import type { Payload } from '../../../core/store.ts';
import type { Metrics, MetricValue } from '../checkpointInfo.ts';
import { TMP_SUFFIX } from '../directory.ts';
import { MARKER } from './layout.ts';

export class OrbaxInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrbaxInputError';
  }
}

/** An Orbax exception, as the pure manager reports it (`type` is Python's class name). */
export class OrbaxError extends Error {
  constructor(
    readonly type: string,
    readonly pyMessage: string,
  ) {
    super(`${type}: ${pyMessage}`);
    this.name = 'OrbaxError';
  }
}

export type ItemValue = Payload | Uint8Array;
/** An item's content, or a function giving it: called only when the manager decides to write. */
export type Item = ItemValue | (() => ItemValue | Promise<ItemValue>);
export type Items = Readonly<Record<string, Item>>;

const show = (v: unknown): string => {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) return JSON.stringify(v) ?? String(v);
  if (v === undefined) return 'undefined';
  if (v instanceof Uint8Array) return `a ${v.constructor.name}`;
  return Array.isArray(v) ? 'a list' : typeof v === 'function' ? 'a function' : typeof v;
};

export function checkStep(step: unknown, what: string): number {
  if (typeof step !== 'number' || !Number.isSafeInteger(step)) throw new OrbaxInputError(`${what}: step ${show(step)} is not allowed: expected an integer`);
  return step;
}

/** JS numbers to the manager's metric values: non-finite numbers become Orbax's strings. */
export function checkMetrics(m: unknown): Metrics {
  if (m === undefined || m === null) return null;
  if (typeof m !== 'object' || Array.isArray(m)) throw new OrbaxInputError(`metrics: ${show(m)} is not allowed: expected an object of metric names to numbers (or null)`);
  const out: Record<string, MetricValue> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'number') out[k] = Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
    else if (v === null || v === 'NaN' || v === 'Infinity' || v === '-Infinity') out[k] = v;
    else throw new OrbaxInputError(`metrics.${k}: ${show(v)} is not allowed: expected a number, null, or one of "NaN", "Infinity", "-Infinity"`);
  }
  return out;
}

const ITEM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Item names are one path segment of the step folder, clear of the marker, the metrics and temporaries. */
export function checkItems(items: unknown): Items {
  if (items === undefined) return {};
  if (typeof items !== 'object' || items === null || Array.isArray(items) || items instanceof Uint8Array) throw new OrbaxInputError(`items: ${show(items)} is not allowed: expected an object of item names to bytes, e.g. { state: bytes }`);
  for (const [name, v] of Object.entries(items)) {
    if (!ITEM_NAME.test(name) || name === MARKER || name === 'metrics' || name.endsWith(TMP_SUFFIX) || name.includes('.ckpt-tmp-') || name.length > 200) {
      throw new OrbaxInputError(`items: item name ${JSON.stringify(name)} is not allowed: expected one path segment of letters, digits, '_', '.', '-' (not starting with '.' or '-'), other than ${MARKER} and metrics`);
    }
    const ok = v instanceof Uint8Array || typeof v === 'function' || (typeof v === 'object' && v !== null && ((v as Payload).kind === 'bytes' || (v as Payload).kind === 'tfjs'));
    if (!ok) throw new OrbaxInputError(`items.${name}: ${show(v)} is not allowed: expected a Uint8Array, a Payload ({kind: 'bytes', data}) or a function returning one`);
  }
  return items as Items;
}

export async function itemPayload(name: string, item: Item): Promise<Payload> {
  const v = typeof item === 'function' ? await item() : item;
  if (v instanceof Uint8Array) return { kind: 'bytes', data: v };
  if (typeof v === 'object' && v !== null && (v.kind === 'bytes' || v.kind === 'tfjs')) return v;
  throw new OrbaxInputError(`items.${name}: the function gave ${show(v)}: expected a Uint8Array or a Payload`);
}
