/** A dialect policy replayed on a log: the adapter of its framework (one result shape for the report). */
import type { AdapterContext, AdapterOutput, DialectPolicy } from './context.ts';
import { runKeras } from './keras.ts';
import { runOrbax } from './orbax.ts';
import { runTransformers } from './transformers.ts';

export { detectLog, sourceName, type LogSource } from './logSource.ts';
export { UnreadableLog, type DialectPolicy, type AdapterContext, type AdapterOutput } from './context.ts';
export { lightningReport, FRAMEWORK, type Report, type ReportPolicy, type DialectPolicyResult } from './result.ts';

export function runDialect(policy: DialectPolicy, ctx: AdapterContext): Promise<AdapterOutput> {
  switch (policy.dialect) {
    case 'keras':
      return runKeras(policy, ctx);
    case 'orbax':
      return runOrbax(policy, ctx);
    case 'transformers':
      return runTransformers(policy, ctx);
  }
}
