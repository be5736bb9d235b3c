/**
 * A store that keeps checkpoints in this process's memory: tfjs ModelArtifacts as they are (no
 * encoding), bytes as bytes. Same keys and the same semantics as the local filesystem: links are
 * real links (a removed target leaves a dangling link that lists but does not exist), a removal
 * releases the memory, and every save/read copies so callers cannot change what is stored.
 */
import { checkKey, checkPrefix, compareKeys, relativeLinkText, resolveLinkText } from '../keys.ts';
import { clonePayload, payloadBytes } from '../payload/clone.ts';
import { StoreError, type CheckpointStore, type Payload, type StoredEntry } from '../../src/core/store.ts';

type Entry =
  | { readonly kind: 'file'; readonly payload: Payload; readonly size: number }
  | { readonly kind: 'symlink'; readonly target: string };

/** Symlink chains longer than this are a loop (Linux gives up at 40 too). */
const MAX_LINK_HOPS = 40;

export function tfjsMemoryStore(opts: { name?: string } = {}): CheckpointStore & { bytesHeld(): number } {
  const name = opts.name ?? 'default';
  const entries = new Map<string, Entry>();

  /** The file a key ends at, following links; null when absent or dangling. */
  const resolve = (key: string): (Entry & { kind: 'file' }) | null => {
    let current = key;
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const e = entries.get(current);
      if (e === undefined) return null;
      if (e.kind === 'file') return e;
      const next = resolveLinkText(current, e.target);
      if (next === null) return null;
      current = next;
    }
    throw new StoreError('io', key, `checkpoint ${key} in memory://${name}: too many levels of links (a link loop)`);
  };

  /** Removes `key` and, like `rm -r` on a folder, every key under `key/`. */
  const removeTree = (key: string) => {
    entries.delete(key);
    for (const k of [...entries.keys()]) if (k.startsWith(key + '/')) entries.delete(k);
  };

  /** A key can't be both a checkpoint and a folder of checkpoints, as on a filesystem. */
  const checkNoClash = (key: string) => {
    const parts = key.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (entries.has(parent)) throw new StoreError('conflict', key, `cannot save ${key} in memory://${name}: ${parent} is a checkpoint, not a folder`);
    }
    for (const k of entries.keys()) {
      if (k.startsWith(key + '/')) throw new StoreError('conflict', key, `cannot save ${key} in memory://${name}: it is a folder holding ${k}`);
    }
  };

  return {
    kind: 'memory',
    location: `memory://${name}`,
    supportsSymlinks: true,

    async save(key, payload) {
      checkKey(key);
      checkNoClash(key);
      const copy = clonePayload(payload);
      entries.set(key, { kind: 'file', payload: copy, size: payloadBytes(copy) });
    },

    async remove(key) {
      checkKey(key);
      removeTree(key);
    },

    async link(targetKey, linkKey) {
      checkKey(targetKey);
      checkKey(linkKey);
      if (resolve(targetKey) === null) throw new StoreError('not-found', targetKey, `cannot link ${linkKey} to ${targetKey} in memory://${name}: ${targetKey} does not exist`);
      // Replacing a key that the target resolves through would make a loop and lose that checkpoint.
      for (let k: string | null = targetKey, hop = 0; k !== null && hop <= MAX_LINK_HOPS; hop++) {
        if (k === linkKey) throw new StoreError('conflict', linkKey, `cannot link ${linkKey} to ${targetKey} in memory://${name}: ${targetKey} resolves through ${linkKey}, so the link would replace what it points to`);
        const e = entries.get(k);
        k = e?.kind === 'symlink' ? resolveLinkText(k, e.target) : null;
      }
      checkNoClash(linkKey);
      entries.set(linkKey, { kind: 'symlink', target: relativeLinkText(targetKey, linkKey) });
      return 'link';
    },

    async exists(key) {
      checkKey(key);
      return resolve(key) !== null;
    },

    async list(prefix = '') {
      checkPrefix(prefix);
      const out: StoredEntry[] = [];
      for (const [key, e] of entries) {
        if (!key.startsWith(prefix)) continue;
        if (e.kind === 'file') out.push({ key, kind: 'file', size: e.size });
        else {
          const target = resolve(key);
          out.push(target === null ? { key, kind: 'symlink', target: e.target } : { key, kind: 'symlink', target: e.target, size: target.size });
        }
      }
      return out.sort((a, b) => compareKeys(a.key, b.key));
    },

    async read(key) {
      checkKey(key);
      const e = resolve(key);
      if (e === null) throw new StoreError('not-found', key, `checkpoint ${key} does not exist in memory://${name}`);
      return clonePayload(e.payload);
    },

    bytesHeld() {
      let n = 0;
      for (const e of entries.values()) if (e.kind === 'file') n += e.size;
      return n;
    },

    // Nothing to release: removal frees memory, and a memory:// store may be shared by name (index.ts).
    async close() {},
  };
}
