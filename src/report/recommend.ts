/**
 * `ckpt recommend`'s output: the Pareto frontier of storage against regret, cheapest first, each
 * policy with its figures over the runs and its text ready to paste; then how many grid policies
 * were tried, over budget, raising, or refused by Lightning's own checks.
 */
import { formatBytes } from '../simulate/size.ts';
import { policyText, type Budget, type Candidate, type Recommendation } from '../simulate/recommend.ts';
import { jnum } from './json.ts';
import { grid, num, type TableWidth } from './table.ts';

function budgetText(b: Budget): string {
  switch (b.kind) {
    case 'none':
      return 'no budget';
    case 'files':
      return `budget: at most ${b.max} checkpoint${b.max === 1 ? '' : 's'} on disk at once in any run`;
    case 'bytes':
      return `budget: at most ${formatBytes(b.max)} on disk at once in any run`;
  }
}

const storage = (c: Candidate, unit: Recommendation['storageUnit']) => (unit === 'bytes' ? `${formatBytes(c.storage)} (${c.totals.maxPeakFiles} files)` : `${c.storage} files`);

export function renderRecommendTable(r: Recommendation, budget: Budget, layout: TableWidth = {}): string {
  const metric = r.sweep.settings.metric;
  const out = [`${r.sweep.runs.length} run${r.sweep.runs.length === 1 ? '' : 's'}, ${r.candidates.length} policies; regret on ${metric ? `${metric.name} (${metric.mode})` : '-'}; ${budgetText(budget)}`];
  for (const n of r.sweep.notes) out.push(`note: ${n}`);
  out.push('', 'Pareto frontier of peak storage against regret (no policy of the grid is better on both):');
  const rows = r.frontier.map((c, i) => [String(i + 1), storage(c, r.storageUnit), num(c.regret), num(c.totals.maxRegret), `${c.totals.runsLostBest}/${c.totals.runs}`, String(c.totals.checkpointsWritten), c.policy.name]);
  out.push(rows.length ? grid(['#', 'peak storage (one run)', 'mean regret', 'max regret', 'runs that lost the best', 'checkpoints written', 'grid options'], rows, layout) : '(none: no policy fits the budget without Lightning raising)');
  out.push('');
  for (const [i, c] of r.frontier.entries()) {
    const t = policyText(c.policy.config);
    out.push(`${i + 1}. ${t.python}`, `   ckpt: '${t.yaml}'`);
  }
  const over = r.candidates.filter((c) => !c.withinBudget).length;
  const raising = r.candidates.filter((c) => c.raises).length;
  const undefinedRegret = r.candidates.filter((c) => c.regret === null && !c.raises).length;
  out.push('', `tried ${r.candidates.length} policies: ${over} over the budget, ${raising} on which Lightning would raise, ${undefinedRegret} with no regret defined (the metric never logged)${r.refused.length ? `; ${r.refused.length} grid combinations Lightning refuses (e.g. ${JSON.stringify(r.refused[0]!.options)}: ${r.refused[0]!.why})` : ''}`);
  const unread = r.sweep.runs.filter((x) => x.kind === 'unreadable');
  for (const u of unread) if (u.kind === 'unreadable') out.push(`not read: ${u.run}: ${u.problem}`);
  return out.join('\n') + '\n';
}

function candidateJson(c: Candidate) {
  return {
    name: c.policy.name,
    options: c.policy.options,
    text: policyText(c.policy.config),
    storage: c.storage,
    regret: jnum(c.regret),
    withinBudget: c.withinBudget,
    raises: c.raises,
    totals: { ...c.totals, meanRegret: jnum(c.totals.meanRegret), maxRegret: jnum(c.totals.maxRegret) },
  };
}

export function renderRecommendJson(r: Recommendation, budget: Budget): string {
  return (
    JSON.stringify(
      {
        metric: r.sweep.settings.metric,
        ckptSize: r.sweep.settings.ckptSize,
        budget,
        storageUnit: r.storageUnit,
        runs: r.sweep.runs.map((x) => ({ run: x.run, kind: x.kind, ...(x.kind === 'unreadable' ? { problem: x.problem } : {}) })),
        notes: r.sweep.notes,
        frontier: r.frontier.map(candidateJson),
        candidates: r.candidates.map(candidateJson),
        refused: r.refused,
      },
      null,
      2,
    ) + '\n'
  );
}
