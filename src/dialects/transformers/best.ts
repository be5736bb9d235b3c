/**
 * Best-metric tracking (`_determine_best_metric`): the key gets an `eval_` prefix, a missing key is
 * transformers' KeyError, the comparison is strict (ties and NaN never win), and the first evaluation
 * starts from -inf/+inf.
 */
import { pyStrListRepr, pyStrRepr } from '../../core/format/pyformat.ts';
import type { ResolvedArgs } from './args.ts';

export type BestOutcome =
  | { readonly type: 'untracked' }
  | { readonly type: 'missing'; readonly error: { readonly type: 'KeyError'; readonly message: string } }
  | { readonly type: 'compared'; readonly key: string; readonly value: number; readonly previous: number; readonly newBest: boolean };

export const metricKey = (name: string): string => (name.startsWith('eval_') ? name : `eval_${name}`);

export function determineBest(args: ResolvedArgs, bestMetric: number | null, metrics: Readonly<Record<string, number>>): BestOutcome {
  if (args.metric_for_best_model === null) return { type: 'untracked' };
  const key = metricKey(args.metric_for_best_model);
  if (!(key in metrics)) {
    const text = `The \`metric_for_best_model\` training argument is set to '${key}', which is not found in the evaluation metrics. The available evaluation metrics are: ${pyStrListRepr(Object.keys(metrics))}. Consider changing the \`metric_for_best_model\` via the TrainingArguments.`;
    return { type: 'missing', error: { type: 'KeyError', message: pyStrRepr(text) } };
  }
  const value = metrics[key]!;
  const previous = bestMetric ?? (args.greater_is_better ? -Infinity : Infinity);
  const newBest = args.greater_is_better ? value > previous : value < previous;
  return { type: 'compared', key, value, previous, newBest };
}
