/**
 * `--format json`: one object with a `policies` array. Non-finite numbers are written as the
 * strings "NaN", "Infinity" and "-Infinity" (as in the project's JSONL events).
 */
import { OPTION_NAMES, PolicyConfigCodec } from '../core/config.ts';
import { explainReason } from '../core/explain.ts';
import type { PolicyResult } from '../simulate/run.ts';
import { toReport, type ReportInput, type ReportPolicy } from '../simulate/dialects/result.ts';

/** A JSON-safe number. */
export function jnum(x: number | null | undefined): number | string | null {
  if (x === null || x === undefined) return null;
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/** The options that differ from Lightning's defaults, under Lightning's names. */
export function policyOptions(p: PolicyResult): Record<string, unknown> {
  const all = PolicyConfigCodec.encode(p.config);
  const out: Record<string, unknown> = {};
  for (const k of OPTION_NAMES) {
    const v = all[k];
    if (v !== DEFAULT_ENCODED[k]) out[k] = v;
  }
  return out;
}

const DEFAULT_ENCODED: Record<string, unknown> = (() => {
  const d = PolicyConfigCodec.decode({});
  return d._tag === 'Right' ? PolicyConfigCodec.encode(d.right) : {};
})();

/** The figures every dialect has, under the same keys. */
function figuresJson(p: ReportPolicy) {
  return {
    best: p.best ? { path: p.best.path, score: jnum(p.best.score) } : null,
    last: p.lastPath,
    bestObserved: p.bestObserved ? { metric: p.bestObserved.metric, value: jnum(p.bestObserved.value), epoch: p.bestObserved.epoch, step: p.bestObserved.step, logStep: p.bestObserved.logStep } : null,
    bestKept: p.bestKept ? { path: p.bestKept.path, value: jnum(p.bestKept.value) } : null,
    regret: jnum(p.regret),
    checkpointsWritten: p.checkpointsWritten,
    linksWritten: p.linksWritten,
    peakCheckpoints: p.peakFiles,
    bytesWritten: p.bytesWritten,
    peakBytes: p.peakBytes,
    undetermined: p.undetermined,
    errors: p.errors,
    warnings: p.warnings,
  };
}

const keptJson = (p: ReportPolicy) => p.kept.map((k) => ({ path: k.path, type: k.type, ...(k.target ? { target: k.target } : {}), score: jnum(k.score), epoch: k.epoch, step: k.step }));

function policyJson(p: ReportPolicy) {
  if (p.dialect !== 'lightning') {
    return {
      name: p.name,
      dialect: p.dialect,
      options: p.options,
      metric: p.metric,
      mapping: p.mapping,
      saves: p.saves.map((s) => ({ fit: s.fit, epoch: s.epoch, step: s.step, path: s.path, ...(s.overwrote ? { overwrote: true } : {}), score: jnum(s.score), metricValue: jnum(s.metricValue), reason: s.why })),
      removals: p.removals.map((r) => ({ fit: r.fit, epoch: r.epoch, step: r.step, path: r.path, reason: r.why })),
      kept: keptJson(p),
      ...figuresJson(p),
    };
  }
  return {
    name: p.name,
    dialect: p.dialect,
    options: policyOptions(p),
    metric: p.metric,
    saves: p.saves.map((s) => ({
      fit: s.fit,
      epoch: s.epoch,
      step: s.step,
      path: s.path,
      ...(s.kind === 'link' ? { link: true, target: s.target } : {}),
      rule: s.reason.rule,
      ...('trigger' in s.reason ? { trigger: s.reason.trigger } : {}),
      score: jnum(s.score),
      metricValue: jnum(s.metricValue),
      reason: explainReason(s.reason),
    })),
    removals: p.removals.map((r) => ({ fit: r.fit, epoch: r.epoch, step: r.step, path: r.path, rule: r.reason.rule, reason: explainReason(r.reason) })),
    kept: keptJson(p),
    ...figuresJson(p),
  };
}

export type ReportJson = ReturnType<typeof reportJson>;

export function reportJson(input: ReportInput) {
  const r = toReport(input);
  return {
    fits: r.fits.map((f) => ({
      fit: f.fit,
      log: f.log,
      kind: f.kind,
      ...(f.readBy ? { readBy: f.readBy } : {}),
      records: f.records,
      start: f.start ? { epoch: f.start.epoch, globalStep: f.start.globalStep, how: f.start.how } : null,
      end: f.end,
      facts: f.facts
        ? {
            max_epochs: f.facts.maxEpochs,
            max_steps: f.facts.maxSteps,
            val_check_interval: f.facts.valCheckInterval.value,
            check_val_every_n_epoch: f.facts.checkValEveryNEpoch,
            log_every_n_steps: f.facts.logEveryNSteps,
            num_training_batches: f.facts.numTrainingBatches,
            num_val_batches: f.facts.numValBatches,
          }
        : null,
    })),
    ckptSize: r.ckptSize,
    notes: r.notes,
    skipped: r.skipped,
    policies: r.policies.map(policyJson),
  };
}

export function renderJson(r: ReportInput): string {
  return JSON.stringify(reportJson(r), null, 2) + '\n';
}
