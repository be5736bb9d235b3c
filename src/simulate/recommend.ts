/**
 * The policy a set of runs should have used: a grid of policies, every one simulated on every run
 * (each run read once, all policies side by side), and the Pareto frontier of storage against
 * regret among those within a budget. Storage is the largest peak of any one run (what a run of
 * the kind needs on disk), regret the mean over the runs; a policy on which Lightning would raise
 * in any run is never recommended.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig, PolicyConfigCodec, type PolicyConfig } from '../core/config.ts';
import type { PolicySpec } from './run.ts';
import type { RunInput } from './runs.ts';
import { simulateRuns, type PolicyTotals, type SweepOptions, type SweepResult, type SweepSettings } from './sweep.ts';

/** Values to try per option (Lightning's names), crossed with each other on top of a base policy. */
export type Grid = Readonly<Record<string, readonly unknown[]>>;

/** The budget a recommended policy must stay within, on every run. */
export type Budget = { readonly kind: 'files'; readonly max: number } | { readonly kind: 'bytes'; readonly max: number } | { readonly kind: 'none' };

/**
 * The default grid: how many best to keep, how often to check, whether to keep last.ckpt and the
 * newest checkpoint besides (keep_latest). 5 x 4 x 2 x 2 = 80 policies.
 */
export const DEFAULT_GRID: Grid = {
  save_top_k: [1, 2, 3, 5, -1],
  every_n_epochs: [null, 2, 5, 10],
  save_last: [null, true],
  keep_latest: [null, 1],
};

export interface GridPolicy extends PolicySpec {
  /** the options the grid set, under Lightning's names */
  readonly options: Readonly<Record<string, unknown>>;
}

/** Every combination of the grid on the base options; combinations Lightning refuses are returned apart, with why. */
export function expandGrid(base: Readonly<Record<string, unknown>>, grid: Grid): { policies: GridPolicy[]; refused: { options: Record<string, unknown>; why: string }[] } {
  const keys = Object.keys(grid);
  let combos: Record<string, unknown>[] = [{}];
  for (const k of keys) combos = combos.flatMap((c) => grid[k]!.map((v) => ({ ...c, [k]: v })));
  const policies: GridPolicy[] = [];
  const refused: { options: Record<string, unknown>; why: string }[] = [];
  const seen = new Set<string>();
  for (const c of combos) {
    const r = decodeConfig({ ...base, ...c });
    if (E.isLeft(r)) {
      refused.push({ options: c, why: r.left.map((i) => i.message).join('; ') });
      continue;
    }
    // two combinations the decoder makes the same policy are one policy
    const key = JSON.stringify(PolicyConfigCodec.encode(r.right));
    if (seen.has(key)) continue;
    seen.add(key);
    policies.push({ name: policyName(c), config: r.right, options: c });
  }
  return { policies, refused };
}

function policyName(options: Readonly<Record<string, unknown>>): string {
  return Object.entries(options).map(([k, v]) => `${k}=${v === null ? 'None' : String(v)}`).join(' ') || 'base';
}

/** One grid policy's figures over all runs. */
export interface Candidate {
  readonly policy: GridPolicy;
  readonly totals: PolicyTotals;
  /** the largest peak of one run, in the budget's unit (bytes with a size, else files) */
  readonly storage: number;
  /** mean regret over the runs where it is defined (null: never defined) */
  readonly regret: number | null;
  readonly withinBudget: boolean;
  readonly raises: boolean;
}

export interface Recommendation {
  readonly candidates: readonly Candidate[];
  /** not dominated by any other eligible candidate, by storage then regret; one per figure pair (the first in grid order) */
  readonly frontier: readonly Candidate[];
  readonly refused: readonly { options: Record<string, unknown>; why: string }[];
  readonly sweep: SweepResult;
  readonly storageUnit: 'bytes' | 'files';
}

/** q dominates p: no worse on both, better on one. */
export function dominates(q: Pick<Candidate, 'storage' | 'regret'>, p: Pick<Candidate, 'storage' | 'regret'>): boolean {
  const qr = q.regret ?? Infinity;
  const pr = p.regret ?? Infinity;
  return q.storage <= p.storage && qr <= pr && (q.storage < p.storage || qr < pr);
}

export function frontierOf(cs: readonly Candidate[]): Candidate[] {
  const eligible = cs.filter((c) => c.withinBudget && !c.raises && c.regret !== null);
  const out: Candidate[] = [];
  for (const c of eligible) {
    if (eligible.some((q) => dominates(q, c))) continue;
    if (out.some((o) => o.storage === c.storage && o.regret === c.regret)) continue;
    out.push(c);
  }
  return out.sort((a, b) => a.storage - b.storage || (a.regret ?? 0) - (b.regret ?? 0));
}

export async function recommend(runs: readonly RunInput[], settings: Omit<SweepSettings, 'policies'>, policies: readonly GridPolicy[], budget: Budget, o: SweepOptions = {}): Promise<Omit<Recommendation, 'refused'>> {
  const sweep = await simulateRuns(runs, { ...settings, policies }, o);
  const storageUnit = settings.ckptSize === null ? 'files' : 'bytes';
  const candidates = policies.map((policy, i): Candidate => {
    const t = sweep.totals[i]!;
    const storage = storageUnit === 'bytes' ? (t.maxPeakBytes ?? 0) : t.maxPeakFiles;
    const within = budget.kind === 'none' ? true : budget.kind === 'files' ? t.maxPeakFiles <= budget.max : t.maxPeakBytes !== null && t.maxPeakBytes <= budget.max;
    return { policy, totals: t, storage, regret: t.meanRegret, withinBudget: within, raises: t.runsRaised > 0 };
  });
  return { candidates, frontier: frontierOf(candidates), sweep, storageUnit };
}

/** A value as Python writes it in `ModelCheckpoint(...)`. */
function pyValue(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return String(v);
}

/** The options of a policy that differ from the defaults, under Lightning's names. */
export function nonDefault(config: PolicyConfig): Record<string, unknown> {
  const all = PolicyConfigCodec.encode(config) as Record<string, unknown>;
  const defaults = E.getOrElse((): PolicyConfig => config)(decodeConfig({}));
  const d = PolicyConfigCodec.encode(defaults) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) if (JSON.stringify(v) !== JSON.stringify(d[k])) out[k] = v;
  return out;
}

/** The policy as text to paste: Python for Lightning's own options, YAML (inline) for ckpt. */
export function policyText(config: PolicyConfig): { python: string; yaml: string } {
  const opts = nonDefault(config);
  const lightning = Object.entries(opts).filter(([k]) => !k.startsWith('keep_') && k !== 'tie_break');
  const extra = Object.entries(opts).filter(([k]) => k.startsWith('keep_') || k === 'tie_break');
  const python = `ModelCheckpoint(${lightning.map(([k, v]) => `${k}=${pyValue(v)}`).join(', ')})${extra.length ? `  # plus ckpt-policy's ${extra.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')}` : ''}`;
  const yaml = `{${Object.entries(opts).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')}}`;
  return { python, yaml };
}
