/**
 * `--format table` (the default): plain text for a terminal. `simulate` lists every decision with
 * its reason, the files kept and the figures; `compare` puts the figures side by side.
 */
import Table from 'cli-table3';
import { explainReason } from '../core/explain.ts';
import { simulatedLogLine } from '../audit/explain.ts';
import { formatBytes } from '../simulate/size.ts';
import type { PolicyResult, SimulationResult } from '../simulate/run.ts';

const PLAIN = { head: [] as string[], border: [] as string[], compact: true };
/** No rule between rows: one line per decision. */
const CHARS = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export function num(x: number | null | undefined, digits = 6): string {
  if (x === null || x === undefined) return '-';
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(digits)));
}

function where(epoch: number | null, step: number | null): string {
  if (epoch === null && step === null) return '';
  return `epoch ${epoch ?? '?'}, step ${step ?? '?'}`;
}

/** The figures users compare, as label/value rows. */
export function figureRows(p: PolicyResult): [string, string][] {
  const bo = p.bestObserved;
  return [
    ['monitored metric', p.metric ? `${p.metric.name} (${p.metric.mode})` : '- (no monitor; give --metric)'],
    ['best observed', bo ? `${num(bo.value)} (${bo.metric}, epoch ${bo.epoch}, step ${bo.step})` : '-'],
    ['best kept', p.bestKept ? `${num(p.bestKept.value)} (${p.bestKept.path})` : '-'],
    ['regret', num(p.regret)],
    ['best_model_path', p.best ? p.best.path : '-'],
    ['best_model_score', p.best ? num(p.best.score) : '-'],
    ['checkpoints written', `${p.checkpointsWritten}${p.linksWritten ? ` (+${p.linksWritten} links)` : ''}`],
    ['files kept', String(p.kept.length)],
    ['peak checkpoints on disk', String(p.peakFiles)],
    ['bytes written', p.bytesWritten === null ? `- (give --ckpt-size)` : formatBytes(p.bytesWritten)],
    ['peak storage', p.peakBytes === null ? `- (give --ckpt-size)` : formatBytes(p.peakBytes)],
    ['undetermined decisions', String(p.undetermined.length)],
    ...(p.errors.length ? ([['errors', p.errors.map((e) => `${e.errorType} at ${where(e.epoch, e.step)}`).join('; ')]] as [string, string][]) : []),
  ];
}

function header(r: SimulationResult): string[] {
  const out: string[] = [];
  for (const f of r.fits) {
    const facts = f.facts;
    const loop = facts
      ? `${facts.numTrainingBatches ?? '?'} batches/epoch, validation ${facts.valCheckInterval.kind === 'fraction' ? `every ${facts.valCheckInterval.value} epoch` : `every ${facts.valCheckInterval.value} batches`}${facts.checkValEveryNEpoch !== 1 ? `, every ${facts.checkValEveryNEpoch ?? 'n/a'} epochs` : ''}`
      : 'events as recorded';
    out.push(`log${r.fits.length > 1 ? ` (fit ${f.fit})` : ''}: ${f.log} (${f.kind}, ${f.records} records; ${loop})`);
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return out;
}

function decisions(p: PolicyResult): string {
  const t = new Table({ head: ['epoch', 'step', 'action', 'path', 'why'], style: PLAIN, chars: CHARS });
  const rows: { seq: number; row: string[] }[] = [];
  for (const s of p.saves) rows.push({ seq: s.seq, row: [String(s.epoch), String(s.step), s.kind === 'link' ? 'link' : 'save', s.kind === 'link' ? `${s.path} -> ${s.target}` : s.path, explainReason(s.reason)] });
  for (const r of p.removals) rows.push({ seq: r.seq, row: [String(r.epoch), String(r.step), 'remove', r.path, explainReason(r.reason)] });
  rows.sort((a, b) => a.seq - b.seq);
  for (const r of rows) t.push(r.row);
  return rows.length ? t.toString() : '(no checkpoint saved or removed)';
}

function keptTable(p: PolicyResult): string {
  if (p.kept.length === 0) return '(no files kept)';
  const t = new Table({ head: ['kept', 'score', 'epoch', 'step'], style: PLAIN, chars: CHARS });
  for (const k of p.kept) t.push([`${k.path}${k.type === 'symlink' ? ` -> ${k.target}` : ''}${p.best?.path === k.path ? '  (best)' : ''}`, num(k.score), String(k.epoch), String(k.step)]);
  return t.toString();
}

function undeterminedLines(p: PolicyResult, limit = 50): string[] {
  if (p.undetermined.length === 0) return ['every decision is determined by the log'];
  const out = [`${p.undetermined.length} decision${p.undetermined.length === 1 ? '' : 's'} the log cannot determine:`];
  for (const u of p.undetermined.slice(0, limit)) out.push(`  - ${where(u.epoch, u.step) ? `${where(u.epoch, u.step)}: ` : ''}${u.decision}: ${u.reason}`);
  if (p.undetermined.length > limit) out.push(`  ... and ${p.undetermined.length - limit} more (--format json lists them all)`);
  return out;
}

export function renderSimulateTable(r: SimulationResult): string {
  const p = r.policies[0]!;
  const out = [...header(r), ''];
  out.push(`policy: ${p.name}`);
  out.push(decisions(p), '');
  out.push(keptTable(p), '');
  const f = new Table({ style: PLAIN, chars: CHARS });
  for (const [k, v] of figureRows(p)) f.push({ [k]: v });
  out.push(f.toString(), '');
  out.push(...undeterminedLines(p));
  // Lightning's warnings in the simulated run, not about the user's folders now
  for (const w of p.warnings) out.push(simulatedLogLine('warning', w));
  for (const e of p.errors) out.push(`error: Lightning would raise ${e.errorType} at ${where(e.epoch, e.step)}: ${e.message}`);
  return out.join('\n') + '\n';
}

export function renderCompareTable(r: SimulationResult): string {
  const out = [...header(r), ''];
  const t = new Table({ head: ['', ...r.policies.map((p) => p.name)], style: PLAIN, chars: CHARS });
  const rows = r.policies.map((p) => figureRows(p));
  for (let i = 0; i < rows[0]!.length; i++) t.push([rows[0]![i]![0], ...rows.map((x) => x[i]?.[1] ?? '')]);
  out.push(t.toString(), '');
  for (const p of r.policies) {
    out.push(`${p.name}: kept ${p.kept.length ? p.kept.map((k) => k.path + (k.type === 'symlink' ? ` -> ${k.target}` : '')).join(', ') : 'nothing'}`);
    for (const l of undeterminedLines(p, 10)) out.push(`  ${l}`);
    for (const e of p.errors) out.push(`  error: Lightning would raise ${e.errorType} at ${where(e.epoch, e.step)}: ${e.message}`);
  }
  return out.join('\n') + '\n';
}
