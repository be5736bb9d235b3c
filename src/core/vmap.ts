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
 * Small maps (at most SMALL entries, the usual top-k and file model) are immutable arrays instead,
 * copied on each write: the rerooting chain points from old versions to new ones, so once one old
 * version is promoted by the GC every later version is kept until the next full collection (each
 * save's nodes, entries, keys and Map tables were promoted: a third of a saving event was GC).
 * Copying a few entries makes only young garbage, and new versions point to old data, never back.
 * A small map becomes a rerooting one when it grows past SMALL (and stays one).
 *
 * Order: each entry carries the sequence number of its insertion; updating an existing key keeps
 * it, deleting and re-inserting moves the key to the end (exactly what Python's dict does).
 */

interface Entry<V> {
  readonly v: V;
  readonly s: number;
}

/** The largest size kept as a small (copied) map. */
const SMALL = 8;

/**
 * A rerooting map starts a new lineage (the newest version gets a copy of the native map) after
 * at least REBASE_AFTER writes and REBASE_PER_ENTRY writes per entry it has, so the copies cost a
 * quarter of an entry per write. Why: the undo chain points from old versions to new ones, and
 * once the GC has promoted one version (a full collection promotes the current one) every later
 * version of its lineage stays alive until the next full collection; a new lineage is not
 * reachable from the old one. One write per entry made the copy ~4% of a composed policy's event
 * (a thousand kept files); four bound what a promoted version holds to four writes per entry.
 */
const REBASE_AFTER = 64;
const REBASE_PER_ENTRY = 4;

export class VMap<V> implements Iterable<[string, V]> {
  /** a small version's keys and values, in insertion order (never mutated); null for a rerooting version */
  private readonly ks: readonly string[] | null;
  private readonly vs: readonly V[] | null;
  /** the root's native map; null for an undo record (and for a small version) */
  private map: Map<string, Entry<V>> | null;
  /** the insertion counter of this version */
  private readonly seq: number;
  /** writes since this version's lineage began (a copied map): see REBASE_AFTER */
  private age = 0;
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

  private constructor(map: Map<string, Entry<V>> | null, seq: number, ks: readonly string[] | null, vs: readonly V[] | null) {
    this.ks = ks;
    this.vs = vs;
    this.map = map;
    this.seq = seq;
    this.key = '';
    this.prev = undefined;
    this.next = null;
  }

  static empty<V>(): VMap<V> {
    return new VMap<V>(null, 0, [], []);
  }

  static from<V>(entries: Iterable<readonly [string, V]>): VMap<V> {
    const map = new Map<string, Entry<V>>();
    let s = 0;
    for (const [k, v] of entries) {
      const old = map.get(k);
      map.set(k, { v, s: old ? old.s : s++ });
    }
    if (map.size > SMALL) return new VMap<V>(map, s, null, null);
    // the map's order is the insertion order (an update keeps a key's place)
    const ks: string[] = [];
    const vs: V[] = [];
    for (const [k, e] of map) ks.push(k), vs.push(e.v);
    return new VMap<V>(null, 0, ks, vs);
  }

  /** A rerooting root holding the small version's entries (ranks are positions). */
  private static grown<V>(ks: readonly string[], vs: readonly V[]): Map<string, Entry<V>> {
    const map = new Map<string, Entry<V>>();
    for (let i = 0; i < ks.length; i++) map.set(ks[i]!, { v: vs[i]!, s: i });
    return map;
  }

  private get m(): Map<string, Entry<V>> {
    return this.map ?? VMap.reroot(this);
  }

  get size(): number {
    return this.ks !== null ? this.ks.length : this.m.size;
  }

  get(key: string): V | undefined {
    if (this.ks !== null) {
      const i = indexIn(this.ks, key);
      return i < 0 ? undefined : this.vs![i];
    }
    return this.m.get(key)?.v;
  }

  has(key: string): boolean {
    return this.ks !== null ? indexIn(this.ks, key) >= 0 : this.m.has(key);
  }

  /** This version with key -> value; an existing key keeps its place in the order. */
  set(key: string, value: V): VMap<V> {
    const ks = this.ks;
    if (ks !== null) {
      const i = indexIn(ks, key);
      if (i >= 0) {
        const vs = this.vs!.slice();
        vs[i] = value;
        return new VMap<V>(null, 0, ks, vs);
      }
      if (ks.length < SMALL) {
        // copied by hand: a spread goes through the iterator protocol
        const vs = this.vs!;
        const nks: string[] = [];
        const nvs: V[] = [];
        for (let j = 0; j < ks.length; j++) {
          nks.push(ks[j]!);
          nvs.push(vs[j]!);
        }
        nks.push(key);
        nvs.push(value);
        return new VMap<V>(null, 0, nks, nvs);
      }
      const map = VMap.grown(ks, this.vs!);
      map.set(key, { v: value, s: ks.length });
      return new VMap<V>(map, ks.length + 1, null, null);
    }
    const map = this.m;
    const old = map.get(key);
    const seq = this.seq;
    return this.write(map, key, old, { v: value, s: old ? old.s : seq }, old ? seq : seq + 1);
  }

  /** This version without key (the same version when the key is absent). */
  delete(key: string): VMap<V> {
    const ks = this.ks;
    if (ks !== null) {
      const i = indexIn(ks, key);
      if (i < 0) return this;
      // copied by hand without the entry: splice would also allocate the removed elements' array
      const vs = this.vs!;
      const nks: string[] = [];
      const nvs: V[] = [];
      for (let j = 0; j < ks.length; j++) {
        if (j === i) continue;
        nks.push(ks[j]!);
        nvs.push(vs[j]!);
      }
      return new VMap<V>(null, 0, nks, nvs);
    }
    const map = this.m;
    const old = map.get(key);
    if (old === undefined) return this;
    return this.write(map, key, old, undefined, this.seq);
  }

  private write(map: Map<string, Entry<V>>, key: string, old: Entry<V> | undefined, entry: Entry<V> | undefined, nextSeq: number): VMap<V> {
    const age = this.age + 1;
    if (age >= REBASE_PER_ENTRY * map.size && age >= REBASE_AFTER) {
      // a new lineage: the new version gets a copy of the map, and this one keeps its own with no
      // pointer to the new one, so a promoted old version no longer keeps the new lineage's records
      const copy = new Map(map);
      if (entry === undefined) copy.delete(key);
      else copy.set(key, entry);
      return new VMap<V>(copy, nextSeq, null, null);
    }
    if (entry === undefined) map.delete(key);
    else map.set(key, entry);
    const root = new VMap<V>(map, nextSeq, null, null);
    root.age = age;
    // this version becomes an undo record: restoring `old` at `key` (its `seq` is restored with it)
    this.map = null;
    this.key = key;
    this.prev = old;
    this.next = root;
    return root;
  }

  /** Entries in insertion order. */
  entries(): Array<[string, V]> {
    const ks = this.ks;
    if (ks !== null) return ks.map((k, i) => [k, this.vs![i]!]);
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
    const ks = this.ks;
    if (ks !== null) {
      for (let i = 0; i < ks.length; i++) fn(this.vs![i]!, ks[i]!, i);
      return;
    }
    for (const [k, e] of this.m) fn(e.v, k, e.s);
  }

  /** Does any entry satisfy `pred`? (any order) */
  some(pred: (value: V, key: string) => boolean): boolean {
    const ks = this.ks;
    if (ks !== null) {
      for (let i = 0; i < ks.length; i++) if (pred(this.vs![i]!, ks[i]!)) return true;
      return false;
    }
    for (const [k, e] of this.m) if (pred(e.v, k)) return true;
    return false;
  }

  /** This version without every key matching `pred`. */
  deleteWhere(pred: (value: V, key: string) => boolean): VMap<V> {
    const doomed: string[] = [];
    if (this.ks !== null) this.forEachRanked((v, k) => void (pred(v, k) && doomed.push(k)));
    else for (const [k, e] of this.m) if (pred(e.v, k)) doomed.push(k);
    let out: VMap<V> = this;
    for (const k of doomed) out = out.delete(k);
    return out;
  }
}

/** The position of `key` in a small version's keys (a plain loop: faster than indexOf on a few strings). */
function indexIn(ks: readonly string[], key: string): number {
  for (let i = 0; i < ks.length; i++) if (ks[i] === key) return i;
  return -1;
}
