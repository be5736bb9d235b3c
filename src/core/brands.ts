/**
 * Two kinds of name that are both strings and must never be mixed up. A checkpoint path is what
 * the policy's effects name: absolute or a URL, under the resolved dirpath ('/run/ckpts/epoch=3.ckpt',
 * 's3://b/run/last.ckpt'). A store key is relative to a store's root ('epoch=3.ckpt'). Branding them
 * makes a key passed where a path is wanted (or the reverse) a compile error; at run time both are
 * plain strings, so branding costs nothing and JSON stays as it was.
 */
import { t } from './deps.cts';

export interface CheckpointPathBrand {
  readonly CheckpointPath: unique symbol;
}
export interface StoreKeyBrand {
  readonly StoreKey: unique symbol;
}

/** A checkpoint path as the decision log and other records carry it: any non-empty string. */
export const CheckpointPathCodec = t.brand(t.string, (s): s is t.Branded<string, CheckpointPathBrand> => s.length > 0, 'CheckpointPath');
export type CheckpointPath = t.TypeOf<typeof CheckpointPathCodec>;

/**
 * A store key as records carry it: relative (no leading '/'), non-empty, no '..' segment. The
 * plugins' checkKey applies the full rules (NUL, length, temporaries) before touching storage.
 */
export const StoreKeyCodec = t.brand(
  t.string,
  (s): s is t.Branded<string, StoreKeyBrand> => s.length > 0 && !s.startsWith('/') && !s.split('/').includes('..'),
  'StoreKey',
);
export type StoreKey = t.TypeOf<typeof StoreKeyCodec>;

/** Names `s` a checkpoint path. Unchecked: for names the policy built or a caller vouches for. */
export function checkpointPath(s: string): CheckpointPath {
  return s as CheckpointPath;
}

/** Names `s` a store key. Unchecked: for keys a store listed or that went through checkKey / keyOf. */
export function storeKey(s: string): StoreKey {
  return s as StoreKey;
}
