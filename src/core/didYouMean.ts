/** "Did you mean" hints for misspelt option and key names. */

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

export function didYouMean(key: string, names: readonly string[]): string {
  let best: string | null = null;
  let bestD = Infinity;
  for (const n of names) {
    const dist = editDistance(key.toLowerCase(), n.toLowerCase());
    if (dist < bestD) [best, bestD] = [n, dist];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(key.length / 4)) ? ` (did you mean '${best}'?)` : '';
}
