/**
 * Which logged names are validation or test metrics. Nothing in a CSV or event file says so, so
 * names decide by default (`val_loss`, `val/acc`, `valid-loss`, `loss/val`, `valLoss`; `test_*`
 * likewise), and `--val-metrics` / `--test-metrics` replace the guess with exact names.
 */

export type MetricRole = 'val' | 'test' | 'train';

export interface RoleOptions {
  /** exact validation metric names (replaces the name pattern) */
  readonly valMetrics?: readonly string[];
  /** exact test metric names (replaces the name pattern) */
  readonly testMetrics?: readonly string[];
}

const VAL_SEGMENT = /^(val|valid|validation)([_\-. ]|$)/i;
const VAL_CAMEL = /^val[A-Z0-9]/;
const TEST_SEGMENT = /^(test|testing)([_\-. ]|$)/i;
const TEST_CAMEL = /^test[A-Z0-9]/;

function anySegment(name: string, re: RegExp, camel: RegExp): boolean {
  for (const seg of name.split('/')) if (re.test(seg) || camel.test(seg)) return true;
  return false;
}

/** A memoising classifier: logs repeat the same few names millions of times. */
export function metricRoles(opts: RoleOptions = {}): (name: string) => MetricRole {
  const val = opts.valMetrics ? new Set(opts.valMetrics) : null;
  const test = opts.testMetrics ? new Set(opts.testMetrics) : null;
  const memo = new Map<string, MetricRole>();
  return (name) => {
    let r = memo.get(name);
    if (r !== undefined) return r;
    const isVal = val ? val.has(name) : anySegment(name, VAL_SEGMENT, VAL_CAMEL);
    const isTest = test ? test.has(name) : anySegment(name, TEST_SEGMENT, TEST_CAMEL);
    r = isTest && !isVal ? 'test' : isVal ? 'val' : 'train';
    memo.set(name, r);
    return r;
  };
}

/** Names Lightning's loggers write that never reach callback_metrics. */
export function isLoggerOnly(name: string): boolean {
  return name === 'hp_metric';
}
