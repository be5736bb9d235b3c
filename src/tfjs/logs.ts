/** tfjs hands callbacks logs whose values may still be scalar tensors; the policy wants numbers. */
import type { Metrics } from '../core/events.ts';

/** Keys tfjs puts in batch logs that are positions, not metrics. */
const NOT_METRICS = new Set(['batch', 'size']);

export async function resolveLogs(logs: Record<string, unknown> | undefined): Promise<Metrics> {
  const out: Record<string, number> = {};
  if (!logs) return out;
  for (const [name, v] of Object.entries(logs)) {
    if (NOT_METRICS.has(name)) continue;
    if (typeof v === 'number') out[name] = v;
    else if (v !== null && typeof v === 'object' && 'data' in v && typeof (v as { data: unknown }).data === 'function') {
      const data = (await (v as { data(): Promise<ArrayLike<number>> }).data()) as ArrayLike<number>;
      if (data.length > 0) out[name] = data[0]!;
    }
  }
  return out;
}
