/**
 * `--html report.html`: one self-contained page (inline SVG and CSS, no script, nothing fetched):
 * the chart, the figures side by side, the files each policy keeps, what the log could not
 * determine, and every decision.
 */
import { formatBytes } from '../simulate/size.ts';
import { headingOf, toReport, type Report, type ReportInput, type ReportPolicy } from '../simulate/dialects/result.ts';
import { NOTE_KINDS } from '../core/notes.ts';
import { loadPeer } from '../peer.ts';
import { COLORS } from './colors.ts';
import { decisionRows, figureRows, num, raisedText } from './table.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Decision rows shown per policy at most; the JSON output has them all. */
const MAX_ROWS = 2000;

function figuresTable(r: Report): string {
  const rows = r.policies.map((p) => figureRows(p));
  const head = `<tr><th></th>${r.policies.map((p) => `<th>${esc(headingOf(p))}</th>`).join('')}</tr>`;
  const body = rows[0]!.map((_, i) => `<tr><th>${esc(rows[0]![i]![0])}</th>${rows.map((x) => `<td>${esc(x[i]?.[1] ?? '')}</td>`).join('')}</tr>`).join('\n');
  return `<table class="figures">${head}\n${body}</table>`;
}

function keptList(p: ReportPolicy): string {
  if (p.kept.length === 0) return '<p>No files kept.</p>';
  const rows = p.kept
    .map((k) => `<tr${p.best?.path === k.path ? ' class="best"' : ''}><td><code>${esc(k.path)}</code>${k.type === 'symlink' ? ` &rarr; <code>${esc(k.target ?? '')}</code>` : ''}${p.best?.path === k.path ? ' <span class="tag">best</span>' : ''}</td><td>${esc(num(k.score))}</td><td>${k.epoch}</td><td>${k.step}</td></tr>`)
    .join('\n');
  return `<table class="kept"><tr><th>kept file</th><th>score</th><th>epoch</th><th>step</th></tr>\n${rows}</table>`;
}

function undetermined(p: ReportPolicy): string {
  if (p.undetermined.length === 0) return '<p class="ok">Every decision is determined by the log.</p>';
  const items = p.undetermined
    .slice(0, 200)
    .map((u) => `<li>${u.epoch !== null ? `epoch ${u.epoch}, step ${u.step}: ` : ''}<b>${esc(u.decision)}</b>: ${esc(u.reason)}</li>`)
    .join('\n');
  return `<p class="warn">${p.undetermined.length} decision${p.undetermined.length === 1 ? '' : 's'} the log cannot determine:</p><ul>${items}</ul>${p.undetermined.length > 200 ? `<p>... and ${p.undetermined.length - 200} more (see --format json).</p>` : ''}`;
}

/** How a dialect policy's log was mapped onto its framework's loop. */
function mapping(p: ReportPolicy): string {
  if (p.dialect === 'lightning' || p.mapping.length === 0) return '';
  return `<p>How the log was read for this framework:</p><ul class="mapping">${p.mapping.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>`;
}

/** The reducer's notes (Lightning policies): what it decided not to do, counted by kind, and the nearest misses. */
function notes(p: ReportPolicy): string {
  if (p.dialect !== 'lightning' || p.notes === undefined) return '';
  const n = p.notes;
  const counts = NOTE_KINDS.filter((k) => (n.counts[k] ?? 0) > 0).map((k) => `<tr><td><code>${k}</code></td><td>${n.counts[k]}</td></tr>`).join('');
  if (counts === '') return '';
  const rej = n.nearestRejections
    .map((x) => `<tr><td>${x.epoch}</td><td>${x.step}</td><td>${esc(x.monitor)} = ${esc(num(x.score))}</td><td>${esc(num(x.kthValue))} (<code>${esc(x.kthPath)}</code>)</td><td>${x.k}</td><td>${esc(num(x.margin))}</td></tr>`)
    .join('\n');
  const def = n.deferrals.map((d) => `<li>epoch ${d.epoch}, step ${d.step}: the ${esc(d.trigger)} save waits for the validation end (${d.cause === 'monitorMissing' ? `${esc(d.monitor)} not logged yet` : 'validation runs next'})</li>`).join('');
  return `<details class="notes"><summary>the reducer's notes: what it checked and did not do</summary><table class="note-counts"><tr><th>note</th><th>count</th></tr>${counts}</table>${
    rej ? `<p>Top-k rejections nearest to being kept:</p><table class="rejections"><tr><th>epoch</th><th>step</th><th>score</th><th>k-th kept value (file)</th><th>k</th><th>margin</th></tr>\n${rej}</table>` : ''
  }${def ? `<p>Deferred saves (first ${n.deferrals.length}):</p><ul>${def}</ul>` : ''}</details>`;
}

function decisions(p: ReportPolicy): string {
  const all = decisionRows(p);
  const shown = all.slice(0, MAX_ROWS);
  const rows = shown.map((d) => `<tr class="${d.action}"><td>${d.epoch}</td><td>${d.step}</td><td>${d.action}</td><td><code>${esc(d.path)}</code></td><td>${esc(d.why)}</td></tr>`).join('\n');
  return `<details><summary>${all.length} decision${all.length === 1 ? '' : 's'} (saves, links, removals)</summary><table class="decisions"><tr><th>epoch</th><th>step</th><th>action</th><th>path</th><th>why</th></tr>\n${rows}</table>${all.length > MAX_ROWS ? `<p>... ${all.length - MAX_ROWS} more in --format json.</p>` : ''}</details>`;
}

export async function renderHtml(input: ReportInput, title = 'Checkpoint policy simulation'): Promise<string> {
  const r = toReport(input);
  // vega is an optional peer: loaded only when a report is drawn
  const { renderChartSvg } = await loadPeer(() => import('./chart.ts'), ['vega@6', 'vega-lite@6'], 'the HTML report');
  const svg = await renderChartSvg(r);
  const logs = r.fits.map((f) => `<li><code>${esc(f.log)}</code> (${f.kind}, ${f.records} records)</li>`).join('');
  const runNotes = r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  const size = r.ckptSize === null ? 'not given (use --ckpt-size)' : formatBytes(r.ckptSize);
  const policies = r.policies
    .map((p) => `<section class="policy"><h3>${esc(headingOf(p))}</h3>${mapping(p)}${keptList(p)}${undetermined(p)}${p.errors.map((e) => `<p class="err">${esc(raisedText(p, e))}</p>`).join('')}${notes(p)}${decisions(p)}</section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body { font: 14px/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin-top: 28px; } h3 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 6px 0; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
table.figures th { background: #f6f6f6; } tr.best td { background: ${COLORS.kept}33; } .tag { background: ${COLORS.kept}; padding: 0 5px; border-radius: 3px; font-size: 12px; }
tr.save td:nth-child(3) { color: ${COLORS.save}; } tr.remove td:nth-child(3) { color: ${COLORS.remove}; } tr.link td:nth-child(3) { color: ${COLORS.link}; }
.warn { color: #8a5a00; } .ok { color: #2b6e2b; } .err { color: ${COLORS.remove}; } code { font-size: 12px; }
.chart svg { max-width: 100%; height: auto; }
</style></head>
<body>
<h1>${esc(title)}</h1>
<p>Log${r.fits.length > 1 ? 's (one per fit)' : ''}:</p><ul>${logs}</ul><p>Checkpoint size: ${esc(size)}.</p>
<div class="chart">${svg}</div>
<h2>Figures</h2>
${figuresTable(r)}
<h2>Policies</h2>
${policies}
${runNotes}
</body></html>
`;
}
