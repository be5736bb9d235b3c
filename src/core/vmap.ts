/**
 * A persistent string-keyed map with insertion order (Python dict semantics), made persistent by
 * rerooting (Baker's trick, as in Conchon & Filliâtre's persistent arrays): the newest version owns
 * a native Map; every older version is a chain of one-entry undo records leading to it. Working on
 * the newest version costs one native Map operation and one small record; reading an older version
 * first walks its chain, swapping the records back (so every version always answers the same).
 *
 * Why not a HAMT (immutable.js)? The reducer is linear in practice (each state is used once, then
 * its successor), and there a HAMT pays a path copy and a string hash per operation: with a million
 * kept checkpoints that was ~8x slower per event. Observably this map is as immutable as a HAMT.
 *
 * Order: each entry carries the sequence number of its insertion; updating an existing key keeps
 * it, deleting and re-inserting moves the key to the end (exactly what Python's dict does).
 */

interface Entry<V> {
  readonly v: V;
  readonly s: number;
}

export class VMap<V> implements Iterable<[string, V]> {
  /** the root's native map; null for an undo record */
  private map: Map<string, Entry<V>> | null;
  /** the insertion counter of this version */
  private readonly seq: number;
  /** an undo record: restore `prev` at `key`, then continue at `next` */
  private key: string;
  private prev: Entry<V> | undefined;
  private next: VMap<V> | null;

  /**
   * Makes `node` the root: walks to the current root, then undoes records back to `node`. A version
   * is its own node (no wrapper object): either the root, owning the native map, or an undo record
   * pointing towards the root; a write allocates one version and one entry.
   */
  private static reroot<V>(node: VMap<V>): Map<string, Entry<V>> {
    if (node.map !== null) return node.map;
    const path: VMap<V>[] = [];
    let n: VMap<V> = node;
    while (n.map === null) {
      path.push(n);
      n = n.next!;
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const d = path[i]!;
      const root = d.next!;
      const map = root.map!;
      const current = map.get(d.key);
      if (d.prev === undefined) map.delete(d.key);
      else map.set(d.key, d.prev);
      // the old root becomes the record that redoes what was just undone; `seq` stays with each
      // node, because it is the counter of that node's own version
      root.map = null;
      root.key = d.key;
      root.prev = current;
      root.next = d;
      d.map = map;
      d.key = '';
      d.prev = undefined;
      d.next = null;
    }
    return node.map!;
  }

  private constructor(map: Map<string, Entry<V>>, seq: number) {
    this.map = map;
    this.seq = seq;
    this.key = '';
    this.prev = undefined;
    this.next = null;
  }

  static empty<V>(): VMap<V> {
    return new VMap<V>(new Map(), 0);
  }

  static from<V>(entries: Iterable<readonly [string, V]>): VMap<V> {
    const map = new Map<string, Entry<V>>();
    let s = 0;
    for (const [k, v] of entries) {
      const old = map.get(k);
      map.set(k, { v, s: old ? old.s : s++ });
    }
    return new VMap<V>(map, s);
  }

  private get m(): Map<string, Entry<V>> {
    return this.map ?? VMap.reroot(this);
  }

  get size(): number {
    return this.m.size;
  }

  get(key: string): V | undefined {
    return this.m.get(key)?.v;
  }

  has(key: string): boolean {
    return this.m.has(key);
  }

  /** This version with key -> value; an existing key keeps its place in the order. */
  set(key: string, value: V): VMap<V> {
    const map = this.m;
    const old = map.get(key);
    const seq = this.seq;
    return this.write(map, key, old, { v: value, s: old ? old.s : seq }, old ? seq : seq + 1);
  }

  /** This version without key (the same version when the key is absent). */
  delete(key: string): VMap<V> {
    const map = this.m;
    const old = map.get(key);
    if (old === undefined) return this;
    return this.write(map, key, old, undefined, this.seq);
  }

  private write(map: Map<string, Entry<V>>, key: string, old: Entry<V> | undefined, entry: Entry<V> | undefined, nextSeq: number): VMap<V> {
    if (entry === undefined) map.delete(key);
    else map.set(key, entry);
    const root = new VMap<V>(map, nextSeq);
    // this version becomes an undo record: restoring `old` at `key` (its `seq` is restored with it)
    this.map = null;
    this.key = key;
    this.prev = old;
    this.next = root;
    return root;
  }

  /** Entries in insertion order. */
  entries(): Array<[string, V]> {
    const list = [...this.m.entries()];
    list.sort((a, b) => a[1].s - b[1].s);
    return list.map(([k, e]) => [k, e.v]);
  }

  keys(): string[] {
    return this.entries().map(([k]) => k);
  }

  [Symbol.iterator](): Iterator<[string, V]> {
    return this.entries()[Symbol.iterator]();
  }

  /** Visits every entry with its insertion rank (in no particular order): order-aware scans without sorting. */
  forEachRanked(fn: (value: V, key: string, rank: number) => void): void {
    for (const [k, e] of this.m) fn(e.v, k, e.s);
  }

  /** Does any entry satisfy `pred`? (any order) */
  some(pred: (value: V, key: string) => boolean): boolean {
    for (const [k, e] of this.m) if (pred(e.v, k)) return true;
    return false;
  }

  /** This version without every key matching `pred`. */
  deleteWhere(pred: (value: V, key: string) => boolean): VMap<V> {
    const doomed: string[] = [];
    for (const [k, e] of this.m) if (pred(e.v, k)) doomed.push(k);
    let out: VMap<V> = this;
    for (const k of doomed) out = out.delete(k);
    return out;
  }
}
