/**
 * A persistent sorted map: a treap whose updates copy only the path they change (O(log n) nodes),
 * so a new map shares the rest with the old one and the old one keeps answering the same. The
 * manager's state holds its checkpoint list, step lookup, retention ranking and directory listing
 * in these, so that a save costs the same with 10 or 10^5 checkpoints kept and the reducer stays
 * pure (a state used twice is as good as new).
 *
 * Priorities are a hash of the key, not random draws: the same keys give the same shape whatever
 * the order they came in, and nothing here reads a random source.
 */

/** How keys compare and spread: `compare` a total order, `hash` any 32-bit mix of the key. */
export interface KeyOrder<K> {
  readonly compare: (a: K, b: K) => number;
  readonly hash: (k: K) => number;
}

interface Node<K, V> {
  readonly k: K;
  readonly v: V;
  /** the heap priority: a parent's is at least its children's */
  readonly p: number;
  readonly l: Node<K, V> | null;
  readonly r: Node<K, V> | null;
  /** entries in this subtree */
  readonly n: number;
}

type Tree<K, V> = Node<K, V> | null;

const size = (t: Tree<unknown, unknown>): number => (t === null ? 0 : t.n);

function node<K, V>(k: K, v: V, p: number, l: Tree<K, V>, r: Tree<K, V>): Node<K, V> {
  return { k, v, p, l, r, n: size(l) + size(r) + 1 };
}

/** murmur3's finaliser: spreads consecutive integers over 32 bits. */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of a number (integers exactly, others by their float bits' halves). */
export function hashNumber(x: number): number {
  if (Number.isInteger(x) && Math.abs(x) <= 0x7fffffff) return mix32(x);
  const f = new Float64Array([x]);
  const u = new Uint32Array(f.buffer);
  return mix32(u[0]! ^ mix32(u[1]!));
}

/** FNV-1a over UTF-16 code units, then mixed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

export const numberOrder: KeyOrder<number> = { compare: (a, b) => a - b, hash: hashNumber };
/** JavaScript's `<` on strings (UTF-16 code units): the order `sortEntries` gives a listing. */
export const stringOrder: KeyOrder<string> = { compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0), hash: hashString };

/** `t` split into the keys below `k` and the rest (`k` itself goes right, or left when `kLeft`). */
function split<K, V>(t: Tree<K, V>, k: K, cmp: (a: K, b: K) => number, kLeft: boolean): [Tree<K, V>, Tree<K, V>] {
  if (t === null) return [null, null];
  const c = cmp(t.k, k);
  if (c < 0 || (kLeft && c === 0)) {
    const [a, b] = split(t.r, k, cmp, kLeft);
    return [node(t.k, t.v, t.p, t.l, a), b];
  }
  const [a, b] = split(t.l, k, cmp, kLeft);
  return [a, node(t.k, t.v, t.p, b, t.r)];
}

/** Every key of `a` below every key of `b`. */
function merge<K, V>(a: Tree<K, V>, b: Tree<K, V>): Tree<K, V> {
  if (a === null) return b;
  if (b === null) return a;
  return a.p >= b.p ? node(a.k, a.v, a.p, a.l, merge(a.r, b)) : node(b.k, b.v, b.p, merge(a, b.l), b.r);
}

function insert<K, V>(t: Tree<K, V>, k: K, v: V, p: number, cmp: (a: K, b: K) => number): Node<K, V> {
  if (t === null) return node(k, v, p, null, null);
  const c = cmp(k, t.k);
  if (c === 0) return node(k, v, t.p, t.l, t.r);
  if (p > t.p) {
    // the new key roots this subtree; it is not below: a key's node always has the key's hash,
    // and every node above it a priority at least that
    const [a, b] = split(t, k, cmp, false);
    return node(k, v, p, a, b);
  }
  return c < 0 ? node(t.k, t.v, t.p, insert(t.l, k, v, p, cmp), t.r) : node(t.k, t.v, t.p, t.l, insert(t.r, k, v, p, cmp));
}

function remove<K, V>(t: Tree<K, V>, k: K, cmp: (a: K, b: K) => number): Tree<K, V> {
  if (t === null) return null;
  const c = cmp(k, t.k);
  if (c === 0) return merge(t.l, t.r);
  if (c < 0) {
    const l = remove(t.l, k, cmp);
    return l === t.l ? t : node(t.k, t.v, t.p, l, t.r);
  }
  const r = remove(t.r, k, cmp);
  return r === t.r ? t : node(t.k, t.v, t.p, t.l, r);
}

function lookup<K, V>(t: Tree<K, V>, k: K, cmp: (a: K, b: K) => number): Node<K, V> | undefined {
  while (t !== null) {
    const c = cmp(k, t.k);
    if (c === 0) return t;
    t = c < 0 ? t.l : t.r;
  }
  return undefined;
}

/** The entries from position `from` on, in order, into `out`. */
function collect<K, V>(t: Tree<K, V>, from: number, out: Array<[K, V]>): void {
  while (t !== null) {
    const ln = size(t.l);
    if (from < ln) {
      collect(t.l, from, out);
      out.push([t.k, t.v]);
      from = 0;
    } else if (from === ln) {
      out.push([t.k, t.v]);
      from = 0;
    } else from -= ln + 1;
    t = t.r;
  }
}

export class SortedMap<K, V> {
  private constructor(
    private readonly order: KeyOrder<K>,
    private readonly root: Tree<K, V>,
  ) {}

  static empty<K, V>(order: KeyOrder<K>): SortedMap<K, V> {
    return new SortedMap<K, V>(order, null);
  }

  /** A map of entries already sorted by key with no key twice (checked). */
  static fromSorted<K, V>(order: KeyOrder<K>, entries: Iterable<readonly [K, V]>): SortedMap<K, V> {
    let m = SortedMap.empty<K, V>(order);
    let prev: { k: K } | null = null;
    for (const [k, v] of entries) {
      if (prev !== null && order.compare(prev.k, k) >= 0) throw new RangeError('SortedMap.fromSorted: keys not strictly increasing');
      prev = { k };
      m = m.set(k, v);
    }
    return m;
  }

  get size(): number {
    return size(this.root);
  }

  get(k: K): V | undefined {
    return lookup(this.root, k, this.order.compare)?.v;
  }

  has(k: K): boolean {
    return lookup(this.root, k, this.order.compare) !== undefined;
  }

  /** `k` mapped to `v` (replacing any value it had). */
  set(k: K, v: V): SortedMap<K, V> {
    return new SortedMap(this.order, insert(this.root, k, v, this.order.hash(k), this.order.compare));
  }

  /** Without `k`; the same map when it is absent. */
  delete(k: K): SortedMap<K, V> {
    const r = remove(this.root, k, this.order.compare);
    return r === this.root ? this : new SortedMap(this.order, r);
  }

  /** Without the keys in `[lo, hi)`; the same map when there are none. */
  deleteRange(lo: K, hi: K): SortedMap<K, V> {
    const first = this.ceiling(lo);
    if (first === undefined || this.order.compare(first[0], hi) >= 0) return this;
    const [a, bc] = split(this.root, lo, this.order.compare, false);
    const [, c] = split(bc, hi, this.order.compare, false);
    return new SortedMap(this.order, merge(a, c));
  }

  /** The entry with the least key at or above `k`. */
  ceiling(k: K): [K, V] | undefined {
    let t = this.root;
    let best: Node<K, V> | null = null;
    while (t !== null) {
      if (this.order.compare(t.k, k) >= 0) {
        best = t;
        t = t.l;
      } else t = t.r;
    }
    return best === null ? undefined : [best.k, best.v];
  }

  /** The entry at position `i` in key order (0-based). */
  at(i: number): [K, V] | undefined {
    let t = this.root;
    if (i < 0 || i >= size(t)) return undefined;
    while (t !== null) {
      const ln = size(t.l);
      if (i < ln) t = t.l;
      else if (i === ln) return [t.k, t.v];
      else {
        i -= ln + 1;
        t = t.r;
      }
    }
    return undefined;
  }

  /** How many keys are below `k`. */
  rank(k: K): number {
    let t = this.root;
    let r = 0;
    while (t !== null) {
      if (this.order.compare(t.k, k) < 0) {
        r += size(t.l) + 1;
        t = t.r;
      } else t = t.l;
    }
    return r;
  }

  last(): [K, V] | undefined {
    let t = this.root;
    if (t === null) return undefined;
    while (t.r !== null) t = t.r;
    return [t.k, t.v];
  }

  /** The entries from position `from` on (all by default), in key order. */
  entries(from = 0): Array<[K, V]> {
    const out: Array<[K, V]> = [];
    collect(this.root, Math.max(0, from), out);
    return out;
  }

  values(from = 0): V[] {
    return this.entries(from).map((e) => e[1]);
  }
}
