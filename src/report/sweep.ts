/**
 * The report of a sweep (many runs, the same policies): one row per run and policy, and the
 * totals per policy, as a table, JSON or a self-contained HTML page (no script, nothing fetched).
 */
import { formatBytes } from '../simulate/size.ts';
import type { PolicyTotals, RunSummary, SweepResult } from '../simulate/sweep.ts';
import { jnum } from './json.ts';
import { COLORS } from './colors.ts';
import { grid, num, type TableWidth } from './table.ts';

const bytes = (b: number | null) => (b === null ? '-' : formatBytes(b));

/** One line per run and policy: what a reader scans for (lost best, cost, what could not be known). */
function runRows(r: SweepResult): string[][] {
  const rows: string[][] = [];
  for (const run of r.runs) {
    if (run.kind === 'unreadable') {
      rows.push([run.run, '-', `not read: ${run.problem}`, '', '', '', '', '']);
      continue;
    }
    for (const p of run.policies) {
      rows.push([
        run.run,
        p.name,
        p.errors.length ? `Lightning raises ${p.errors[0]}` : p.lostBest ? 'lost the best' : p.regret === null ? '-' : 'kept the best',
        num(p.regret),
        String(p.checkpointsWritten),
        String(p.peakFiles),
        bytes(p.peakBytes),
        String(p.undetermined),
      ]);
    }
  }
  return rows;
}

export function totalsRows(t: readonly PolicyTotals[]): string[][] {
  return t.map((p) => [
    p.name,
    String(p.runs),
    String(p.runsLostBest),
    String(p.runsRaised),
    num(p.meanRegret),
    num(p.maxRegret),
    String(p.checkpointsWritten),
    bytes(p.bytesWritten),
    `${p.maxPeakFiles} (${bytes(p.maxPeakBytes)})`,
    `${p.sumPeakFiles} (${bytes(p.sumPeakBytes)})`,
    String(p.undetermined),
  ]);
}

const RUN_HEAD = ['run', 'policy', 'best checkpoint', 'regret', 'written', 'peak files', 'peak storage', 'undetermined'];
const TOTAL_HEAD = ['policy', 'runs', 'runs that lost the best', 'runs raising', 'mean regret', 'max regret', 'checkpoints written', 'bytes written', 'peak of one run', 'all runs\' peaks together', 'undetermined'];

function unreadable(r: SweepResult): RunSummary[] {
  return r.runs.filter((x) => x.kind === 'unreadable');
}

export function renderSweepTable(r: SweepResult, layout: TableWidth = {}): string {
  const out: string[] = [`${r.runs.length} run${r.runs.length === 1 ? '' : 's'}${r.settings.metric ? `; regret on ${r.settings.metric.name} (${r.settings.metric.mode})` : ''}${r.settings.ckptSize === null ? '' : `; ${formatBytes(r.settings.ckptSize)} per checkpoint`}`];
  for (const n of r.notes) out.push(`note: ${n}`);
  out.push('', grid(RUN_HEAD, runRows(r), layout), '', 'totals:', grid(TOTAL_HEAD, totalsRows(r.totals), layout));
  const bad = unreadable(r);
  if (bad.length) out.push('', `${bad.length} run${bad.length === 1 ? '' : 's'} could not be read (listed above)`);
  return out.join('\n') + '\n';
}

export function sweepJson(r: SweepResult) {
  return {
    metric: r.settings.metric,
    ckptSize: r.settings.ckptSize,
    notes: r.notes,
    runs: r.runs.map((run) =>
      run.kind === 'unreadable'
        ? run
        : { ...run, policies: run.policies.map((p) => ({ ...p, bestObserved: jnum(p.bestObserved), bestKept: jnum(p.bestKept), regret: jnum(p.regret) })) },
    ),
    totals: r.totals.map((t) => ({ ...t, meanRegret: jnum(t.meanRegret), maxRegret: jnum(t.maxRegret) })),
  };
}

export function renderSweepJson(r: SweepResult): string {
  return JSON.stringify(sweepJson(r), null, 2) + '\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function htmlTable(head: readonly string[], rows: readonly (readonly string[])[], cls: (row: readonly string[]) => string = () => ''): string {
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>\n${rows.map((r) => `<tr class="${cls(r)}">${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}</table>`;
}

export function renderSweepHtml(r: SweepResult, title = 'Checkpoint policies over many runs'): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body { font: 14px/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 6px 0; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; } th { background: #f6f6f6; }
tr.lost td:nth-child(3) { color: ${COLORS.remove}; } tr.kept td:nth-child(3) { color: ${COLORS.save}; } tr.raised td { color: ${COLORS.remove}; }
</style></head>
<body>
<h1>${esc(title)}</h1>
<p>${r.runs.length} runs${r.settings.metric ? `; regret on <code>${esc(r.settings.metric.name)}</code> (${r.settings.metric.mode})` : ''}${r.settings.ckptSize === null ? '' : `; ${esc(formatBytes(r.settings.ckptSize))} per checkpoint`}.</p>
<h2>Totals</h2>
${htmlTable(TOTAL_HEAD, totalsRows(r.totals))}
<h2>Runs</h2>
${htmlTable(RUN_HEAD, runRows(r), (row) => (row[2]!.startsWith('lost') ? 'lost' : row[2]!.startsWith('kept') ? 'kept' : row[2]!.startsWith('Lightning') || row[2]!.startsWith('not read') ? 'raised' : ''))}
${r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
