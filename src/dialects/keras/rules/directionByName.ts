/**
 * `mode='auto'` from a log: Keras resolves it from the compiled metric objects (rules/monitorOp.ts),
 * which a log does not hold. Where the name alone decides, it is decided here:
 * - `loss` (after one `val_` is stripped): MonitorCallback itself takes it as `less`;
 * - a name Keras 3's `compile(metrics=[...])` accepts as a string and turns into a metric of that
 *   name whose class declares `_direction`: the accuracy family ('accuracy' and 'acc' become
 *   Binary/Categorical/SparseCategoricalAccuracy by the shapes, all 'up'), AUC, Precision, Recall
 *   ('up'), and the losses used as metrics (MeanMetricWrapper over a Keras loss declares 'down').
 * Anything else (a custom function, an auto-numbered object such as `auc_1` or `mean_io_u_5`,
 * `learning_rate`) depends on the object and is undetermined: the caller must give `mode`.
 */
import type { CompiledMetric } from './monitorOp.ts';

const UP = new Set([
  'accuracy', 'acc', 'binary_accuracy', 'categorical_accuracy', 'sparse_categorical_accuracy',
  'top_k_categorical_accuracy', 'sparse_top_k_categorical_accuracy', 'auc', 'precision', 'recall',
]);
const DOWN = new Set([
  'mse', 'mae', 'mape', 'msle', 'mean_squared_error', 'mean_absolute_error', 'mean_absolute_percentage_error',
  'mean_squared_logarithmic_error', 'binary_crossentropy', 'categorical_crossentropy', 'sparse_categorical_crossentropy',
  'hinge', 'squared_hinge', 'categorical_hinge', 'kl_divergence', 'poisson', 'log_cosh',
]);

/** The compiled metric the name stands for, or null when the name does not decide (`loss` needs none). */
export function metricFromName(monitor: string): CompiledMetric | 'loss' | null {
  const name = monitor.startsWith('val_') ? monitor.slice(4) : monitor;
  if (name === 'loss') return 'loss';
  if (UP.has(name)) return { name, direction: 'up' };
  if (DOWN.has(name)) return { name, direction: 'down' };
  return null;
}
