/**
 * Which way is better: MonitorCallback._set_monitor_op, run at the first epoch end (Keras delays it
 * until the compiled metrics are built) and never again. `min` is `less`, `max` is `greater`; `auto`
 * strips one leading `val_`, takes `loss` as `less`, then lets every compiled metric object whose
 * name matches decide by its direction (the last match wins). Anything else cannot be inferred.
 */
import * as t from 'io-ts';
import type { KerasConfig, PyError } from '../options.ts';

export const MonitorOpCodec = t.union([t.literal('less'), t.literal('greater')]);
export type MonitorOp = t.TypeOf<typeof MonitorOpCodec>;

/** A compiled metric object (a leaf of Keras's CompileMetrics / MetricsList): its `name` and `_direction`. */
export const CompiledMetricCodec = t.type({
  name: t.string,
  /** `null`: the metric class defines no `_direction` */
  direction: t.union([t.literal('up'), t.literal('down'), t.null]),
});
export type CompiledMetric = t.TypeOf<typeof CompiledMetricCodec>;

export function resolveMonitorOp(config: KerasConfig, metrics: readonly CompiledMetric[]): MonitorOp | PyError {
  if (config.mode === 'min') return 'less';
  if (config.mode === 'max') return 'greater';
  const monitor = config.monitor;
  if (monitor === null) return { type: 'AttributeError', message: "'NoneType' object has no attribute 'removeprefix'" };
  const name = monitor.startsWith('val_') ? monitor.slice(4) : monitor;
  let op: MonitorOp | null = name === 'loss' ? 'less' : null;
  for (const m of metrics) {
    if (m.name === name && m.direction !== null) op = m.direction === 'up' ? 'greater' : 'less';
  }
  if (op !== null) return op;
  return {
    type: 'ValueError',
    message:
      `ModelCheckpoint callback received monitor=${monitor}, but Keras isn't able to automatically determine whether ` +
      "that metric should be maximized or minimized. Pass `mode='max'` in order to monitor based on the highest metric " +
      "value, or pass `mode='min'` in order to use the lowest value.",
  };
}
