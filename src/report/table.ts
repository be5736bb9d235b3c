/**
 * `--format table` (the default): plain text for a terminal. `simulate` lists every decision with
 * its reason, the files kept and the figures; `compare` puts the figures side by side.
 */
import { explainReason } from '../core/explain.ts';
import { formatBytes } from '../simulate/size.ts';
import { FRAMEWORK, headingOf, toReport, toReportPolicy, type ReportInput, type ReportPolicy } from '../simulate/dialects/result.ts';
import type { PolicyResult } from '../simulate/run.ts';
import { drawGrid } from './textGrid.ts';

/** How wide a table may be: a terminal's columns (`process.stdout.columns` on a TTY); none: every cell on one line. */
export interface TableWidth {
  readonly width?: number;
}

/** Characters a cell's text takes on a terminal (code points; wide CJK characters count once). */
const textWidth = (s: string) => Math.max(0, ...s.split('\n').map((l) => [...l].length));

/** cli-table3's default padding: one space either side of a cell's text. */
const PAD = 2;
/** a column is not squeezed narrower than this (text and padding) */
const MIN_COLUMN = 8;

/**
 * Column widths (padding included) for a table whose columns naturally take `natural`, so that it
 * fits `width` terminal columns with its borders (one character before each column, one after the
 * last), or null when it already fits. The widest columns give way first, down to a common cap
 * (narrow columns like epoch and step keep their width), and never below MIN_COLUMN: a terminal
 * too narrow even for that gets the narrowest table possible.
 */
export function fitColumnWidths(natural: readonly number[], width: number): number[] | null {
  const budget = width - (natural.length + 1);
  const total = natural.reduce((a, b) => a + b, 0);
  if (total <= budget) return null;
  const floor = (w: number) => Math.min(w, MIN_COLUMN);
  // the largest cap c with sum(min(w, max(c, floor(w)))) <= budget
  const sized = (c: number) => natural.map((w) => Math.min(w, Math.max(c, floor(w))));
  let lo = 0;
  let hi = Math.max(...natural);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sized(mid).reduce((a, b) => a + b, 0) <= budget) lo = mid;
    else hi = mid - 1;
  }
  const widths = sized(lo);
  // what the cap leaves over goes one column each to the columns it cut, left to right
  let spare = budget - widths.reduce((a, b) => a + b, 0);
  for (let i = 0; i < widths.length && spare > 0; i++) {
    if (widths[i]! < natural[i]!) {
      widths[i]!++;
      spare--;
    }
  }
  return widths;
}

/**
 * A cell's text in lines of at most `width` characters: words as they fit, and a word longer than
 * a line (a path) cut after its last '/' past the first third of the line, else after '=', '-',
 * '_', ',' or '.' in the second half, else at the width. Nothing is dropped, unlike cli-table3's own wrapping, which truncates long words.
 */
export function wrapText(text: string, width: number): string {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (let word of para.split(' ')) {
      if (line !== '' && [...line].length + 1 + [...word].length <= w) {
        line += ' ' + word;
        continue;
      }
      if (line !== '') out.push(line);
      line = '';
      while ([...word].length > w) {
        const chars = [...word];
        const cut = breakAt(chars.slice(0, w), '/', 3) ?? breakAt(chars.slice(0, w), '=-_,.', 2) ?? w;
        out.push(chars.slice(0, cut).join(''));
        word = chars.slice(cut).join('');
      }
      line = word;
    }
    out.push(line);
  }
  return out.join('\n');
}

/** Just after the last of `seps` past the first 1/`part` of `chars`, or null: where a long word (a path) is cut. */
function breakAt(chars: readonly string[], seps: string, part: number): number | null {
  for (let i = chars.length - 1; i >= Math.floor(chars.length / part); i--) if (seps.includes(chars[i]!)) return i + 1;
  return null;
}

/** A plain table; with a width, its columns are fitted to it and the cells wrapped (see fitColumnWidths). */
export function grid(head: readonly string[], rows: readonly (readonly string[])[], layout: TableWidth): string {
  const widths = layout.width === undefined ? null : fitColumnWidths(naturalWidths([head, ...rows]), layout.width);
  return drawGrid(head, widths ? rows.map((r) => r.map((c, i) => wrapText(c, widths[i]! - PAD))) : rows, widths);
}

function naturalWidths(rows: readonly (readonly string[])[]): number[] {
  const n = Math.max(...rows.map((r) => r.length));
  return Array.from({ length: n }, (_, i) => Math.max(...rows.map((r) => textWidth(r[i] ?? ''))) + PAD);
}

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
export function figureRows(policy: ReportPolicy | PolicyResult): [string, string][] {
  const p = toReportPolicy(policy);
  const bo = p.bestObserved;
  return [
    ['monitored metric', p.metric ? `${p.metric.name} (${p.metric.mode})` : '- (no monitor; give --metric)'],
    ['best observed', bo ? `${num(bo.value)} (${bo.metric}, epoch ${bo.epoch}, step ${bo.step}${bo.logStep !== bo.step ? `; logged at step ${bo.logStep}` : ''})` : '-'],
    ['best kept', p.bestKept ? `${num(p.bestKept.value)} (${p.bestKept.path})` : '-'],
    ['regret', num(p.regret)],
    // Lightning's best_model_path; the Trainer's best_model_checkpoint, Orbax's best step; Keras tracks none
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

function header(r: ReturnType<typeof toReport>): string[] {
  const out: string[] = [];
  for (const f of r.fits) {
    const facts = f.facts;
    const loop = facts
      ? `${facts.numTrainingBatches ?? '?'} batches/epoch, validation ${facts.valCheckInterval.kind === 'fraction' ? `every ${facts.valCheckInterval.value} epoch` : `every ${facts.valCheckInterval.value} batches`}${facts.checkValEveryNEpoch !== 1 ? `, every ${facts.checkValEveryNEpoch ?? 'n/a'} epochs` : ''}`
      : f.kind === 'jsonl' ? 'events as recorded' : "read by the policy's dialect";
    if (f.readBy) out.push(`log for ${f.readBy.join(', ')}: ${f.log} (${f.kind}, ${f.records} records)`);
    else out.push(`log${r.fits.filter((x) => !x.readBy).length > 1 ? ` (fit ${f.fit})` : ''}: ${f.log} (${f.kind}, ${f.records} records; ${loop})`);
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return out;
}

/** Every save, link and removal of a policy in order, with its reason in words. */
export function decisionRows(p: ReportPolicy): { seq: number; epoch: number; step: number; action: 'save' | 'link' | 'remove'; path: string; why: string }[] {
  const rows =
    p.dialect === 'lightning'
      ? [
          ...p.saves.map((s) => ({ seq: s.seq, epoch: s.epoch, step: s.step, action: s.kind, path: s.kind === 'link' ? `${s.path} -> ${s.target}` : s.path, why: explainReason(s.reason) })),
          ...p.removals.map((r) => ({ seq: r.seq, epoch: r.epoch, step: r.step, action: 'remove' as const, path: r.path, why: explainReason(r.reason) })),
        ]
      : [
          ...p.saves.map((s) => ({ seq: s.seq, epoch: s.epoch, step: s.step, action: 'save' as const, path: s.path, why: s.why })),
          ...p.removals.map((r) => ({ seq: r.seq, epoch: r.epoch, step: r.step, action: 'remove' as const, path: r.path, why: r.why })),
        ];
  return rows.sort((a, b) => a.seq - b.seq);
}

/** "Lightning would raise ...": the framework whose error it is. */
export function raisedText(p: ReportPolicy, e: ReportPolicy['errors'][number]): string {
  return `${FRAMEWORK[p.dialect]} would raise ${e.errorType} at ${where(e.epoch, e.step)}: ${e.message}`;
}

function decisions(p: ReportPolicy, layout: TableWidth): string {
  const rows = decisionRows(p).map((d) => ({ seq: d.seq, row: [String(d.epoch), String(d.step), d.action, d.path, d.why] }));
  return rows.length ? grid(['epoch', 'step', 'action', 'path', 'why'], rows.map((r) => r.row), layout) : '(no checkpoint saved or removed)';
}

function keptTable(p: ReportPolicy, layout: TableWidth): string {
  if (p.kept.length === 0) return '(no files kept)';
  const rows = p.kept.map((k) => [`${k.path}${k.type === 'symlink' ? ` -> ${k.target}` : ''}${p.best?.path === k.path ? '  (best)' : ''}`, num(k.score), String(k.epoch), String(k.step)]);
  return grid(['kept', 'score', 'epoch', 'step'], rows, layout);
}

function undeterminedLines(p: ReportPolicy, limit = 50): string[] {
  if (p.undetermined.length === 0) return ['every decision is determined by the log'];
  const out = [`${p.undetermined.length} decision${p.undetermined.length === 1 ? '' : 's'} the log cannot determine:`];
  for (const u of p.undetermined.slice(0, limit)) out.push(`  - ${where(u.epoch, u.step) ? `${where(u.epoch, u.step)}: ` : ''}${u.decision}: ${u.reason}`);
  if (p.undetermined.length > limit) out.push(`  ... and ${p.undetermined.length - limit} more (--format json lists them all)`);
  return out;
}

function mappingLines(p: ReportPolicy): string[] {
  return p.dialect === 'lightning' ? [] : p.mapping.map((m) => `mapping: ${m}`);
}

export function renderSimulateTable(input: ReportInput, layout: TableWidth = {}): string {
  const r = toReport(input);
  const p = r.policies[0]!;
  const out = [...header(r), ''];
  out.push(`policy: ${headingOf(p)}`);
  out.push(...mappingLines(p));
  out.push(decisions(p, layout), '');
  out.push(keptTable(p, layout), '');
  out.push(grid([], figureRows(p), layout), '');
  out.push(...undeterminedLines(p));
  // Lightning's warnings in the simulated run, not about the user's folders now
  for (const w of p.warnings) out.push(p.dialect === 'lightning' ? `simulated Lightning warning: ${w}` /* audit/explain.ts simulatedLogLine's words, without loading the audit modules */ : `simulated ${FRAMEWORK[p.dialect]} warning: ${w}`);
  for (const e of p.errors.slice(0, 20)) out.push(`error: ${raisedText(p, e)}`);
  if (p.errors.length > 20) out.push(`... and ${p.errors.length - 20} more errors (--format json lists them all)`);
  return out.join('\n') + '\n';
}

export function renderCompareTable(input: ReportInput, layout: TableWidth = {}): string {
  const r = toReport(input);
  const out = [...header(r), ''];
  const rows = r.policies.map((p) => figureRows(p));
  const lines = rows[0]!.map(([label], i) => [label, ...rows.map((x) => x[i]?.[1] ?? '')]);
  out.push(grid(['', ...r.policies.map(headingOf)], lines, layout), '');
  for (const p of r.policies) {
    out.push(`${headingOf(p)}: kept ${p.kept.length ? p.kept.map((k) => k.path + (k.type === 'symlink' ? ` -> ${k.target}` : '')).join(', ') : 'nothing'}`);
    for (const m of mappingLines(p)) out.push(`  ${m}`);
    for (const l of undeterminedLines(p, 10)) out.push(`  ${l}`);
    for (const e of p.errors.slice(0, 5)) out.push(`  error: ${raisedText(p, e)}`);
    if (p.errors.length > 5) out.push(`  ... and ${p.errors.length - 5} more errors (--format json lists them all)`);
  }
  return out.join('\n') + '\n';
}
