/**
 * `ckpt audit lightning`: a run made by Lightning itself has no decision log, but its metrics log
 * and its ModelCheckpoint arguments say what the callback must have kept. The policy is simulated
 * on the log (src/simulate) and the prediction is compared with the checkpoint folder: a file
 * missing (deleted by hand?), a file the policy never keeps (a stray, or a callback configured
 * differently from what was given), a link pointing elsewhere.
 *
 * Where a decision rests on a value the log does not hold (a per-step monitor checked at a step
 * that was not a logging step), the prediction is one guess among several. Then each such top-k
 * check is tried both ways (the value far better or far worse than anything logged), and the
 * folder is compared with the closest outcome: clean if one way the checks could have gone gives
 * exactly the folder; otherwise the drift that every closest outcome shares is certain, and the
 * rest is reported as "one of" the files the log cannot tell apart.
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { triggers, type PolicyConfig } from '../core/config.ts';
import type { LoopEvent, LoggerFacts } from '../core/events.ts';
import { templateKeys } from '../core/format/template.ts';
import { reduce } from '../core/reduce.ts';
import { DEFAULT_RUN, fitFacts, type RunFacts } from '../sources/loopFacts.ts';
import { loggerOfDir, readRecords, type FitLog } from '../sources/open.ts';
import { LoopReconstructor, type TimelineItem } from '../sources/reconstruct.ts';
import { metricRoles } from '../sources/roles.ts';
import { simulate, type KeptFile, type PolicyResult } from '../simulate/run.ts';
import { PolicyWorld, type FedEvent, type Undetermined } from '../simulate/world.ts';

export interface LightningAuditInput {
  readonly config: PolicyConfig;
  /** the run's fits in order (a resumed run has several logs) */
  readonly logs: readonly FitLog[];
  /** Trainer facts (from --trainer); default: Lightning's defaults plus what the log shows */
  readonly run?: RunFacts;
  /** where relative dirpaths resolve (the directory the training script ran in) */
  readonly cwd: string;
  /** the first logger's version folder, when it is not the first log's folder */
  readonly loggerDir?: string | null;
  /** the checkpoint folder to compare with */
  readonly dir: string;
  /** at most this many unknown top-k checks are tried both ways (2^n outcomes; default 12) */
  readonly maxUnknownChecks?: number;
}

export type LightningFindingKind = 'missing' | 'unexpected' | 'target' | 'kind' | 'elsewhere';

export interface LightningFinding {
  readonly kind: LightningFindingKind;
  /** relative to the checkpoint folder */
  readonly key: string;
  readonly message: string;
}

export type LightningStatus = 'clean' | 'drift' | 'unreadable' | 'undetermined';
export const LIGHTNING_EXIT: Record<LightningStatus, number> = { clean: 0, drift: 1, unreadable: 2, undetermined: 3 };

export interface LightningReport {
  readonly dir: string;
  readonly status: LightningStatus;
  readonly exitCode: number;
  /** what the policy keeps (keys in the folder, links as 'key -> text') */
  readonly predicted: readonly string[];
  /** what the folder holds */
  readonly actual: readonly string[];
  readonly findings: readonly LightningFinding[];
  /** drift the log cannot pin to one file: "one of these" */
  readonly uncertain: readonly string[];
  readonly notes: readonly string[];
  readonly undetermined: readonly Undetermined[];
  /** outcomes tried for the checks the log cannot decide (0 when none were needed) */
  readonly outcomesTried: number;
  readonly unreadable?: string;
}

/** A folder entry or a predicted file, keyed by its path inside the folder. */
interface Entry {
  readonly kind: 'file' | 'symlink';
  /** link text (relative to the link's folder) */
  readonly target?: string;
}

type Listing = Map<string, Entry>;

const show = (key: string, e: Entry) => (e.kind === 'symlink' ? `${key} -> ${e.target}` : key);

/** Every file and symlink below `dir`, by path relative to it. */
function listFolder(dir: string): Listing {
  const out: Listing = new Map();
  const walk = (abs: string, rel: string) => {
    for (const d of readdirSync(abs, { withFileTypes: true })) {
      const key = rel + d.name;
      const path = join(abs, d.name);
      if (d.isDirectory()) walk(path, key + '/');
      else if (d.isSymbolicLink()) out.set(key, { kind: 'symlink', target: readlinkSync(path) });
      else if (d.isFile()) out.set(key, { kind: 'file' });
    }
  };
  walk(dir, '');
  return out;
}

/** The policy's kept files as folder entries; files it keeps outside the folder are returned apart. */
function predictedListing(kept: Iterable<{ path: string; kind: 'file' | 'symlink'; target?: string }>, cwd: string, dir: string): { inside: Listing; outside: string[] } {
  const inside: Listing = new Map();
  const outside: string[] = [];
  for (const k of kept) {
    const abs = resolve(cwd, k.path);
    const key = relative(dir, abs);
    if (key === '' || key.startsWith('..') || key.startsWith('/')) {
      outside.push(abs);
      continue;
    }
    const posix = key.split('\\').join('/');
    inside.set(posix, k.kind === 'symlink' && k.target !== undefined ? { kind: 'symlink', target: relative(dirname(abs), resolve(cwd, k.target)).split('\\').join('/') } : { kind: 'file' });
  }
  return { inside, outside };
}

interface Comparison {
  readonly findings: LightningFinding[];
}

/** Folder against prediction; `why` says where a predicted or a removed file came from. */
function compare(predicted: Listing, actual: Listing, extension: string, why: (key: string, present: boolean) => string): Comparison {
  const findings: LightningFinding[] = [];
  for (const [key, want] of predicted) {
    const got = actual.get(key);
    if (got === undefined) findings.push({ kind: 'missing', key, message: `missing     ${key}: ${why(key, false)}, not in the folder` });
    else if (got.kind !== want.kind) findings.push({ kind: 'kind', key, message: `kind        ${key}: the policy keeps a ${want.kind === 'symlink' ? `link to ${want.target}` : 'file'} here, the folder holds a ${got.kind === 'symlink' ? `link to ${got.target}` : 'file'}` });
    else if (want.kind === 'symlink' && got.target !== want.target) findings.push({ kind: 'target', key, message: `target      ${key}: the policy links it to ${want.target}, it points to ${got.target}` });
  }
  for (const [key, got] of actual) {
    if (predicted.has(key)) continue;
    if (got.kind === 'file' && !key.endsWith(extension)) continue; // not a checkpoint
    findings.push({ kind: 'unexpected', key, message: `unexpected  ${show(key, got)}: ${why(key, true)}` });
  }
  return { findings };
}

function describeOrigin(policy: PolicyResult | null, cwd: string, dir: string): (key: string, present: boolean) => string {
  const keyOfPath = (p: string) => relative(dir, resolve(cwd, p)).split('\\').join('/');
  return (key, present) => {
    if (policy === null) return present ? 'the policy as configured never keeps it' : 'the policy keeps it';
    if (!present) {
      const k = policy.kept.find((x: KeptFile) => keyOfPath(x.path) === key);
      return k ? `the policy keeps it (written at epoch ${k.epoch}, global step ${k.step})` : 'the policy keeps it';
    }
    const removed = [...policy.removals].reverse().find((r) => keyOfPath(r.path) === key);
    if (removed) return `the policy removed it at epoch ${removed.epoch}, global step ${removed.step} (${removed.reason.rule === 'displaced' ? `displaced by ${keyOfPath(removed.reason.by)}` : removed.reason.rule === 'superseded' ? `replaced by ${keyOfPath(removed.reason.by)}` : removed.reason.rule})`;
    return 'the policy as configured never writes it';
  };
}

export async function auditLightning(input: LightningAuditInput): Promise<LightningReport> {
  const dir = resolve(input.cwd, input.dir);
  const base = { dir, predicted: [] as string[], actual: [] as string[], findings: [] as LightningFinding[], uncertain: [] as string[], notes: [] as string[], undetermined: [] as Undetermined[], outcomesTried: 0 };
  let actual: Listing;
  try {
    if (!lstatSync(dir).isDirectory()) throw new Error('not a folder');
    actual = listFolder(dir);
  } catch (e) {
    return { ...base, status: 'unreadable', exitCode: LIGHTNING_EXIT.unreadable, unreadable: `cannot list the checkpoint folder ${dir}: ${(e as Error).message}` };
  }
  let sim;
  try {
    sim = await simulate({ policies: [{ name: 'policy', config: input.config }], logs: input.logs, ...(input.run ? { run: input.run } : {}), cwd: input.cwd, ...(input.loggerDir !== undefined ? { loggerDir: input.loggerDir } : {}) });
  } catch (e) {
    return { ...base, status: 'unreadable', exitCode: LIGHTNING_EXIT.unreadable, unreadable: `cannot simulate the policy on the logs: ${(e as Error).message}` };
  }
  const policy = sim.policies[0]!;
  const { inside, outside } = predictedListing(policy.kept.map((k) => ({ path: k.path, kind: k.type, ...(k.target !== undefined ? { target: k.target } : {}) })), input.cwd, dir);
  const notes = [...sim.notes, ...policy.errors.map((e) => `the policy raised ${e.errorType} at epoch ${e.epoch}, global step ${e.step}: ${e.message}`)];
  const why = describeOrigin(policy, input.cwd, dir);
  const ext = input.config.fileExtension;
  const listed = {
    predicted: [...inside].map(([k, e]) => show(k, e)).sort(),
    actual: [...actual].filter(([k, e]) => e.kind === 'symlink' || k.endsWith(ext)).map(([k, e]) => show(k, e)).sort(),
  };
  const elsewhere: LightningFinding[] = outside.map((p) => ({ kind: 'elsewhere', key: p, message: `elsewhere   ${p}: the policy keeps it outside ${dir} (is this folder the callback's dirpath?)` }));
  const first = compare(inside, actual, ext, why);
  const undetermined = policy.undetermined;
  const result = (findings: LightningFinding[], uncertain: string[], tried: number, extraNotes: string[] = []): LightningReport => {
    const status: LightningStatus = findings.length + uncertain.length > 0 ? 'drift' : 'clean';
    return { ...base, ...listed, status, exitCode: LIGHTNING_EXIT[status], findings, uncertain, notes: [...notes, ...extraNotes], undetermined, outcomesTried: tried };
  };
  if (first.findings.length === 0 || undetermined.length === 0) return result([...elsewhere, ...first.findings], [], 0);

  // the prediction disagrees and some of it is a guess: try the undecidable checks both ways
  const search = await searchOutcomes(input, actual, dir, why);
  if (search === null) {
    return { ...base, ...listed, status: 'undetermined', exitCode: LIGHTNING_EXIT.undetermined, findings: [...elsewhere, ...first.findings], uncertain: [], notes: [...notes, `${undetermined.length} decision(s) rest on values the log does not hold and cannot be tried both ways here; the differences above may be the simulation's guesses`], undetermined, outcomesTried: 0 };
  }
  const checks = search.unknownChecks;
  const explain = `${checks} top-k check(s) used values the log does not hold; each was tried both ways (${search.tried} of ${2 ** checks} outcomes)`;
  if (search.best.length === 0) return result(elsewhere, [], search.tried, [`${explain}: the folder is one of the outcomes the policy can give`]);
  return result([...elsewhere, ...search.certain], search.uncertain, search.tried, [`${explain}: the folder matches none; the drift reported is what the closest outcome(s) show`]);
}

interface SearchResult {
  readonly unknownChecks: number;
  readonly tried: number;
  /** findings of the closest outcome (empty: an outcome matches the folder) */
  readonly best: readonly LightningFinding[];
  readonly certain: LightningFinding[];
  readonly uncertain: string[];
}

/**
 * One fit, unknowns only in the monitor (not in file names): rebuild the fit's events, find the
 * top-k checks whose value the log lacks, and replay every combination of "far better" / "far
 * worse" values. Null when that is not possible (several fits, unknown name fields, too many).
 */
async function searchOutcomes(input: LightningAuditInput, actual: Listing, dir: string, why: (key: string, present: boolean) => string): Promise<SearchResult | null> {
  const { config, cwd } = input;
  const monitor = config.monitor;
  const log = input.logs[0];
  if (input.logs.length !== 1 || log === undefined || log.kind === 'jsonl' || monitor === null || templateKeys(config.filename).includes(monitor)) return null;
  const run = input.run ?? DEFAULT_RUN;
  const rec = new LoopReconstructor({
    facts: fitFacts(run, 0),
    given: run.given,
    role: metricRoles(),
    stepTriggers: [triggers(config).everyNTrainSteps].filter((n) => n > 0),
    watch: [...new Set([monitor, ...templateKeys(config.filename)])],
    hasNextFit: false,
  });
  const items: TimelineItem[] = [];
  for await (const batch of readRecords(log)) items.push(...rec.push(batch));
  items.push(...rec.end());
  const begin = items.find((i): i is Extract<TimelineItem, { kind: 'begin' }> => i.kind === 'begin');
  if (begin === undefined) return null;
  const fed: FedEvent[] = items.flatMap((i) => (i.kind === 'event' ? [{ event: i.event, unknown: i.unknown, stepRange: i.stepRange, batchesDone: i.batchesDone }] : []));
  if (fed.some((f) => f.unknown.some((u) => u.name !== monitor) || f.stepRange !== null)) return null;
  const lg = loggerOfDir(resolve(cwd, input.loggerDir ?? log.dir));
  const loggers: LoggerFacts[] = [{ saveDir: lg.saveDir, name: lg.name, version: lg.version }];
  const start = { epoch: begin.start.epoch, globalStep: begin.start.globalStep };
  const play = (value: (i: number) => number | undefined): PolicyWorld => {
    const w = new PolicyWorld('policy', config, cwd, monitor);
    w.startFit(0, begin.trainer, loggers, null, null, start);
    fed.forEach((f, i) => {
      const v = value(i);
      const event = v === undefined ? f.event : withMonitor(f.event, monitor, v);
      w.feed({ ...f, event, unknown: [] });
    });
    return w;
  };
  // which events are top-k checks on an unknown value (found on the simulator's own guess)
  const unknownAt: number[] = [];
  {
    const w = new PolicyWorld('policy', config, cwd, monitor);
    w.startFit(0, begin.trainer, loggers, null, null, start);
    fed.forEach((f, i) => {
      const before = w.state;
      const [after, effects, notes] = reduce(before, f.event);
      const checked = effects.some((e) => e.type === 'save' && e.reason.rule === 'topK') || notes.some((n) => n.kind === 'rejected');
      if (checked && f.unknown.some((u) => u.name === monitor)) unknownAt.push(i);
      w.feed(f);
    });
  }
  const max = input.maxUnknownChecks ?? 12;
  if (unknownAt.length === 0 || unknownAt.length > max) return null;
  const slot = new Map(unknownAt.map((ev, j) => [ev, j]));
  const sign = config.mode === 'min' ? 1 : -1;
  let best: LightningFinding[][] = [];
  let bestSize = Infinity;
  const n = 2 ** unknownAt.length;
  let tried = 0;
  for (let mask = 0; mask < n; mask++) {
    tried++;
    const w = play((i) => {
      const j = slot.get(i);
      if (j === undefined) return undefined;
      // far better or far worse than anything logged; distinct, so ties do not decide
      const far = Math.fround(1e30 * (1 + j / 64));
      return (mask >> j) & 1 ? -sign * far : sign * far;
    });
    const { inside } = predictedListing([...w.files.values()].map((f) => ({ path: f.path, kind: f.kind, ...(f.target !== undefined ? { target: f.target } : {}) })), cwd, dir);
    const { findings } = compare(inside, actual, config.fileExtension, why);
    if (findings.length < bestSize) [best, bestSize] = [[findings], findings.length];
    else if (findings.length === bestSize && best.length < 64) best.push(findings);
    if (bestSize === 0) break;
  }
  const key = (f: LightningFinding) => `${f.kind} ${f.key}`;
  const common = best[0]!.filter((f) => best.every((b) => b.some((g) => key(g) === key(f))));
  const commonKeys = new Set(common.map(key));
  const uncertain: string[] = [];
  for (const kind of ['missing', 'unexpected', 'target', 'kind'] as const) {
    const keys = [...new Set(best.flatMap((b) => b.filter((f) => f.kind === kind && !commonKeys.has(key(f))).map((f) => f.key)))].sort();
    if (keys.length > 0) uncertain.push(`${kind.padEnd(11)} one of ${keys.join(', ')} (the log cannot tell which: these outcomes differ only in checks whose values it does not hold)`);
  }
  return { unknownChecks: unknownAt.length, tried, best: best[0]!, certain: common, uncertain };
}

/** The event with the monitored value replaced. */
function withMonitor(e: LoopEvent, monitor: string, value: number): LoopEvent {
  if (!('view' in e) || !e.view) return e;
  return { ...e, view: { ...e.view, metrics: { ...e.view.metrics, [monitor]: value } } } as LoopEvent;
}

export function formatLightningReport(r: LightningReport): string[] {
  if (r.status === 'unreadable') return [`unreadable: ${r.unreadable ?? r.dir}`, 'result: unreadable'];
  const out = [`${r.dir}: the policy keeps ${r.predicted.length} file(s), the folder holds ${r.actual.length} checkpoint file(s)`];
  for (const f of r.findings) out.push(f.message);
  for (const u of r.uncertain) out.push(u);
  for (const n of r.notes) out.push(`note: ${n}`);
  if (r.status === 'undetermined') for (const u of r.undetermined.slice(0, 5)) out.push(`undetermined: fit ${u.fit}, epoch ${u.epoch ?? '?'}, step ${u.step ?? '?'}: ${u.decision}: ${u.reason}`);
  out.push(`result: ${r.status}${r.findings.length + r.uncertain.length ? ` (${r.findings.length + r.uncertain.length} finding${r.findings.length + r.uncertain.length > 1 ? 's' : ''})` : ''}`);
  return out;
}
