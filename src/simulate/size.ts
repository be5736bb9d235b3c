/** Checkpoint sizes as users write them (`1.5GB`, `700MiB`, `1e9`) and back to text. */

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  pib: 2 ** 50,
};

/** Bytes in `text`; units are decimal (kB, MB, GB, TB) or binary (KiB, MiB, GiB, TiB), B by default. */
export function parseSize(text: string): number | { error: string } {
  const m = /^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return { error: `expected a size like 1.5GB, 700MiB or 123456 (bytes), got ${JSON.stringify(text)}` };
  const unit = (m[2] ?? '').toLowerCase();
  const mul = unit === '' ? 1 : UNITS[unit];
  if (mul === undefined) return { error: `unknown size unit '${m[2]}' in ${JSON.stringify(text)}; use B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)` };
  const bytes = Number(m[1]) * mul;
  if (!Number.isFinite(bytes) || bytes < 0) return { error: `size out of range: ${JSON.stringify(text)}` };
  return Math.round(bytes);
}

/** A byte count for people: 3 significant digits and a decimal unit (1.5 GB). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))} ${units[i]}`;
}
