/**
 * Replaying policies on a run's logs: the log is read once, turned into loop events (or read as
 * events, for JSONL), and every policy's reducer sees the same events side by side. Figures come
 * from what each policy would have written and kept.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { triggers, type PolicyConfig } from '../core/config.ts';
import type { LoggerFacts, TrainerFacts } from '../core/events.ts';
import { templateKeys } from '../core/format/template.ts';
import { DEFAULT_RUN, fitFacts, type RunFacts } from '../sources/loopFacts.ts';
import { loggerOfDir, readEvents, readRecords, type FitLog, type ReadOptions } from '../sources/open.ts';
import { LoopReconstructor, type FitStart, type ResolvedFacts, type ResumeCandidate, type TimelineItem } from '../sources/reconstruct.ts';
import type { BadInputPolicy, SourceError } from '../sources/records.ts';
import { metricRoles, type RoleOptions } from '../sources/roles.ts';
import type { SeriesPoint } from './series.ts';
import type { NoteSummary } from './noteTally.ts';
import { Observed, observeEvent, observeRecord, rel, result } from './figures.ts';
import { PolicyWorld, type RemovalRecord, type SaveRecord, type SavedFile, type Undetermined } from './world.ts';

export interface PolicySpec {
  readonly name: string;
  readonly config: PolicyConfig;
}

export interface MetricChoice {
  readonly name: string;
  readonly mode: 'min' | 'max';
}

export interface SimulateOptions {
  readonly policies: readonly PolicySpec[];
  /** the run's fits in order (a resumed run has several) */
  readonly logs: readonly FitLog[];
  readonly run?: RunFacts;
  /** absolute working directory: relative dirpaths and the reported paths are relative to it */
  readonly cwd: string;
  /** the first logger's version folder (checkpoints go to <it>/checkpoints when dirpath is None); default: the first log's folder */
  readonly loggerDir?: string | null;
  readonly roles?: RoleOptions;
  /** the metric regret is measured on (default: each policy's monitor and mode) */
  readonly metric?: MetricChoice | null;
  /** bytes per checkpoint, for bytes written and peak storage */
  readonly ckptSize?: number | null;
  readonly skipBad?: boolean;
  /** bytes read so far of all logs */
  readonly progress?: (done: number, total: number) => void;
  /** keep every effect per policy (tests compare them with a plain fold) */
  readonly keepEffects?: boolean;
  readonly inferenceBuffer?: number;
}

export interface KeptFile {
  readonly path: string;
  readonly type: 'file' | 'symlink';
  readonly target?: string;
  /** the monitored score Lightning recorded (top-k files), else the figures' metric when it was written */
  readonly score: number | null;
  readonly metricValue: number | null;
  readonly epoch: number;
  readonly step: number;
}

export interface PolicyResult {
  readonly name: string;
  readonly config: PolicyConfig;
  readonly metric: MetricChoice | null;
  readonly saves: readonly SaveRecord[];
  readonly removals: readonly RemovalRecord[];
  readonly kept: readonly KeptFile[];
  readonly best: { readonly path: string; readonly score: number | null } | null;
  readonly lastPath: string | null;
  /** `step` as checkpoint names write it (the hook's global step); `logStep` as the log wrote it (Lightning logs the steps done before the batch: one less) */
  readonly bestObserved: { readonly metric: string; readonly value: number; readonly epoch: number; readonly step: number; readonly logStep: number } | null;
  readonly bestKept: { readonly path: string; readonly value: number } | null;
  readonly regret: number | null;
  readonly checkpointsWritten: number;
  readonly linksWritten: number;
  readonly peakFiles: number;
  readonly bytesWritten: number | null;
  readonly peakBytes: number | null;
  readonly undetermined: readonly Undetermined[];
  readonly errors: readonly { fit: number; epoch: number; step: number; errorType: string; message: string }[];
  readonly warnings: readonly string[];
  /** the reducer's notes: counts by kind, the nearest top-k rejections, the first deferrals */
  readonly notes?: NoteSummary;
  /** the final reducer state's effects (kept only with keepEffects) */
  readonly effects?: readonly unknown[];
}

export interface FitSummary {
  readonly fit: number;
  readonly log: string;
  readonly kind: FitLog['kind'];
  readonly facts: ResolvedFacts | null;
  readonly start: FitStart | null;
  readonly end: { readonly epoch: number; readonly globalStep: number; readonly crashed: boolean; readonly interruptedAt: number | null } | null;
  readonly records: number;
}

export interface SimulationResult {
  readonly cwd: string;
  readonly fits: readonly FitSummary[];
  readonly notes: readonly string[];
  readonly skipped: { readonly count: number; readonly examples: readonly string[] };
  readonly ckptSize: number | null;
  readonly policies: readonly PolicyResult[];
  /** each figures' metric over global steps (bounded for charts) */
  readonly series: ReadonlyMap<string, readonly SeriesPoint[]>;
}

function metricOf(p: PolicySpec, choice: MetricChoice | null | undefined): MetricChoice | null {
  if (choice) return choice;
  return p.config.monitor === null ? null : { name: p.config.monitor, mode: p.config.mode };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Runs every policy over the logs. Throws SourceError on malformed input unless skipBad. */
export async function simulate(opts: SimulateOptions): Promise<SimulationResult> {
  const run = opts.run ?? DEFAULT_RUN;
  const cwd = opts.cwd;
  const role = metricRoles(opts.roles);
  const notes: string[] = [...run.notes];
  const skipped: string[] = [];
  let skippedCount = 0;
  const bad: BadInputPolicy = {
    skipBad: opts.skipBad ?? false,
    onSkip: (e: SourceError) => {
      skippedCount++;
      if (skipped.length < 5) skipped.push(e.message);
    },
  };
  const metrics = opts.policies.map((p) => metricOf(p, opts.metric));
  const observed = new Map<string, Observed>();
  for (const m of metrics) if (m && !observed.has(`${m.name}\u0000${m.mode}`)) observed.set(`${m.name}\u0000${m.mode}`, new Observed(m));
  const observedNames = new Map<string, Observed[]>();
  for (const o of observed.values()) for (const n of o.names()) observedNames.set(n, [...(observedNames.get(n) ?? []), o]);

  const worlds = opts.policies.map((p, i) => new PolicyWorld(p.name, p.config, cwd, metrics[i]?.name ?? null, opts.keepEffects));
  /** other resume choices, tried beside each policy's own world */
  let alternates: { policy: number; world: PolicyWorld; from: string }[] = [];

  const stepTriggers = [...new Set(opts.policies.map((p) => triggers(p.config).everyNTrainSteps).filter((n) => n > 0))];
  const watch = [...new Set(opts.policies.flatMap((p, i) => [...(p.config.monitor ? [p.config.monitor] : []), ...templateKeys(p.config.filename), ...(metrics[i] ? [metrics[i]!.name] : [])]))];
  for (const [i, p] of opts.policies.entries()) {
    if (p.config.trainTimeInterval !== null) {
      worlds[i]!.note({ fit: 0, epoch: null, step: null, decision: 'every train_time_interval trigger', reason: 'train_time_interval fires on wall-clock time, which the log does not record for the loop; the simulation never fires it' });
    }
  }

  const totalBytes = opts.logs.reduce((a, l) => a + fileSize(l.path), 0);
  let doneBytes = 0;
  const fits: FitSummary[] = [];
  const firstLogDir = opts.logs[0]?.dir ?? cwd;
  const loggerDir = resolve(cwd, opts.loggerDir ?? firstLogDir);
  /** each fit's logger from its own log: a fit resumed into a new version writes into that version's checkpoints/ (dirpath unset) */
  const loggersOf = (log: FitLog): LoggerFacts[] => {
    const lg = loggerOfDir(fitLoggerDir(loggerDir, resolve(cwd, firstLogDir), resolve(cwd, log.dir)));
    return [{ saveDir: lg.saveDir, name: lg.name, version: lg.version }];
  };

  const jsonl = opts.logs.filter((l) => l.kind === 'jsonl');
  if (jsonl.length > 0 && jsonl.length !== opts.logs.length) throw new Error('a JSONL event log cannot be combined with CSV or TensorBoard logs');

  let fitIndex = 0;
  let previousEnd: { epoch: number; globalStep: number } | null = null;
  let previousException: number | null = null;
  for (let li = 0; li < opts.logs.length; li++) {
    const log = opts.logs[li]!;
    const base = doneBytes;
    const progress = (read: number) => opts.progress?.(base + read, totalBytes);
    if (log.kind === 'jsonl') {
      let n = 0;
      for await (const batch of readEvents(log, { bad, progress })) {
        for (const { event } of batch) {
          n++;
          observeEvent(event, observedNames);
          for (const w of worlds) w.feed({ event, unknown: [], stepRange: null, batchesDone: 0 });
        }
      }
      fits.push({ fit: fitIndex++, log: rel(log.path, cwd), kind: log.kind, facts: null, start: null, end: null, records: n });
      doneBytes += fileSize(log.path);
      continue;
    }
    const facts = fitFacts(run, fitIndex);
    const loggers = loggersOf(log);
    const hasNextFit = li < opts.logs.length - 1;
    const candidates: ResumeCandidate[] = [];
    if (fitIndex > 0) {
      for (const w of worlds) for (const f of w.files.values()) candidates.push({ globalStep: f.globalStep, epoch: f.epoch, atEpochEnd: f.atEpochEnd, batchesDone: f.batchesDone });
    }
    const rec = new LoopReconstructor({
      facts,
      given: run.given,
      role,
      stepTriggers,
      watch,
      hasNextFit,
      inferenceBuffer: opts.inferenceBuffer,
      observe: [...observedNames.keys()],
      ...(fitIndex > 0 && previousEnd ? { resume: { candidates, exceptionStep: previousException, previousEnd } } : {}),
    });
    let skip = false; // a segment with no module rows (only hp_metric, say) is not a fit
    const truncated: string[] = [];
    const dispatch = (items: readonly TimelineItem[]) => {
      for (const it of items) {
        switch (it.kind) {
          case 'begin':
            if (it.empty && opts.logs.length > 1) {
              skip = true;
              notes.push(`${rel(log.path, cwd)}: no training rows; not counted as a fit`);
              break;
            }
            alternates = [];
            beginFit(it, fitIndex);
            break;
          case 'event':
            if (skip) break;
            for (const w of worlds) w.feed(it);
            for (const a of alternates) a.world.feed(it);
            break;
          case 'observation':
            if (skip) break;
            observeRecord(it.record, it.epoch, it.globalStep, observedNames);
            break;
        }
      }
    };
    const beginFit = (it: Extract<TimelineItem, { kind: 'begin' }>, fit: number) => {
      const view = { epoch: it.start.epoch, globalStep: it.start.globalStep };
      const trainer: TrainerFacts = it.trainer;
      for (const [pi, w] of worlds.entries()) {
        if (fit === 0) {
          w.startFit(0, trainer, loggers, null, null, view);
          if (it.start.how === 'unknown-resume') {
            w.note({
              fit,
              epoch: it.start.epoch,
              step: it.start.globalStep,
              decision: 'every decision of this fit',
              reason: `the log starts at epoch ${it.start.epoch}, global step ${it.start.range?.[0] ?? it.start.globalStep}${it.start.range && it.start.range[1] !== it.start.range[0] ? `..${it.start.range[1]}` : ''}: the run resumed from a checkpoint the log does not show, so the callback state it restored and the files already on disk are unknown; the simulation starts with none`,
            });
          }
          continue;
        }
        const chosen = chooseResume(w, facts.ckptPath, it.start, cwd);
        if (chosen.files.length === 0) {
          w.note({
            fit,
            epoch: it.start.epoch,
            step: it.start.globalStep,
            decision: 'the state the resumed fit starts from',
            reason: `this policy has no checkpoint written at global step ${it.start.globalStep}, where fit ${fit} resumed${chosen.fallback ? `; using its latest earlier checkpoint ${rel(chosen.fallback.path, cwd)}` : '; starting with a fresh callback state'}`,
          });
          w.startFit(fit, trainer, loggers, chosen.fallback, chosen.fallback?.path ?? null, view);
          continue;
        }
        const [first, ...others] = chosen.files;
        for (const o of others) {
          const alt = w.clone();
          alt.startFit(fit, trainer, loggers, o, o.path, view);
          alternates.push({ policy: pi, world: alt, from: o.path });
        }
        w.startFit(fit, trainer, loggers, first!, first!.path, view);
        if (others.length > 0) resumeChoice.set(pi, { chosen: first!.path, fit });
      }
    };
    const resumeChoice = new Map<number, { chosen: string; fit: number }>();
    const records = await feedRecords(log, rec, dispatch, { bad, progress, onTruncated: (t) => truncated.push(t) });
    dispatch(rec.end());
    doneBytes += fileSize(log.path);
    notes.push(...truncated);
    if (skip) continue;
    for (const r of rec.remarks) notes.push(`${rel(log.path, cwd)}: ${r}`);
    const facts2 = rec.resolvedFacts;
    if (facts2) for (const i of facts2.inferred) notes.push(`${rel(log.path, cwd)}: inferred ${i}`);
    // resume choices that change the outcome
    for (const a of alternates) {
      const w = worlds[a.policy]!;
      const mine = keptKey(w);
      const theirs = keptKey(a.world);
      if (mine !== theirs || w.state.bestModelPath !== a.world.state.bestModelPath) {
        const c = resumeChoice.get(a.policy);
        w.note({
          fit: fitIndex,
          epoch: null,
          step: null,
          decision: `which checkpoint fit ${fitIndex} resumed from`,
          reason: `${rel(c?.chosen ?? '', cwd)} and ${rel(a.from, cwd)} were both written at the step the fit resumed at, and they lead to different kept files (give ckpt_path in the trainer facts); the report assumes ${rel(c?.chosen ?? '', cwd)}`,
        });
      }
    }
    alternates = [];
    const end = rec.endPosition;
    if (end.interruptedAt !== null) {
      for (const w of worlds) {
        if (!w.config.saveOnException) continue;
        w.note({
          fit: fitIndex,
          epoch: end.epoch,
          step: end.interruptedAt,
          decision: `a checkpoint on exception at the end of fit ${fitIndex}`,
          reason: `the log of fit ${fitIndex} stops at global step ${end.interruptedAt} in the middle of epoch ${end.epoch}; if training raised there, save_on_exception wrote a checkpoint the log does not show (give exception_at_step for that fit)`,
        });
      }
    }
    fits.push({ fit: fitIndex, log: rel(log.path, cwd), kind: log.kind, facts: facts2, start: rec.fitStart, end, records });
    previousEnd = end;
    previousException = facts.exceptionAtStep;
    fitIndex++;
  }
  if (skippedCount > 0) notes.push(`skipped ${skippedCount} malformed record${skippedCount === 1 ? '' : 's'} (--skip-bad)`);

  const size = opts.ckptSize ?? null;
  const policies = worlds.map((w, i) => result(w, opts.policies[i]!, metrics[i] ?? null, observed, cwd, size, opts.keepEffects ?? false));
  const series = new Map<string, readonly SeriesPoint[]>();
  for (const o of observed.values()) {
    const r = o.result();
    const name = r?.metric ?? o.metric.name;
    if (!series.has(name)) series.set(name, o.points());
  }
  return { cwd, fits, notes: dedupe(notes), skipped: { count: skippedCount, examples: skipped }, ckptSize: size, policies, series };
}

/**
 * A log's records through the reconstruction, batch by batch; returns how many were read. The hot
 * loop of a simulation, kept apart from `simulate` so the JIT compiles a small function for it:
 * compiled inside `simulate` (with everything it inlines) it took ~0.1 s per compilation, four
 * times per thread in a sweep, on a core the other sweep thread needed.
 */
async function feedRecords(log: FitLog, rec: LoopReconstructor, dispatch: (items: readonly TimelineItem[]) => void, options: ReadOptions): Promise<number> {
  let records = 0;
  for await (const batch of readRecords(log, options)) {
    records += batch.length;
    dispatch(rec.push(batch));
  }
  return records;
}

/**
 * The logger folder of a fit whose log is in `logDir`: the first fit's (`first`, given or the
 * first log's folder) when it logs into the same folder; else the version the fit's own log names,
 * beside the first logger's (the given logger is a CSVLogger's `csv/version_0` and the fit's
 * TensorBoard log `tb/version_1`: `csv/version_1`, since Lightning's loggers take versions together);
 * else, a folder that is no sibling version, the fit's own log folder.
 */
export function fitLoggerDir(first: string, firstLogDir: string, logDir: string): string {
  if (logDir === firstLogDir) return first;
  const version = /^version_\d+$/;
  const mine = loggerOfDir(logDir);
  const theirs = loggerOfDir(firstLogDir);
  const given = loggerOfDir(first);
  if (version.test(mine.version) && version.test(given.version) && mine.saveDir === theirs.saveDir && mine.name === theirs.name) return resolve(dirname(first), mine.version);
  return logDir;
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

function keptKey(w: PolicyWorld): string {
  return [...w.files.values()]
    .map((f) => `${f.path}${f.kind === 'symlink' ? `->${f.target}` : ''}`)
    .sort()
    .join('\n');
}

/** The files a resumed fit may have loaded: the given ckpt_path, or every file written at the resume step. */
function chooseResume(w: PolicyWorld, ckptPath: string | null, start: FitStart, cwd: string): { files: SavedFile[]; fallback: SavedFile | null } {
  const all = [...w.files.values()];
  if (ckptPath !== null) {
    const path = ckptPath === 'last' ? w.state.lastModelPath : ckptPath === 'best' ? w.state.bestModelPath : resolve(cwd, ckptPath);
    const f = w.files.get(path);
    if (f) return { files: [f], fallback: null };
  }
  const at = all.filter((f) => f.globalStep === start.globalStep);
  // an exception resume loads the exception checkpoint; otherwise last.ckpt (ckpt_path='last') comes first
  const rank = (f: SavedFile) => (f.rule === 'exception' ? 0 : f.rule === 'last' ? 1 : 2);
  at.sort((a, b) => rank(a) - rank(b) || (a.path < b.path ? -1 : 1));
  const earlier = all.filter((f) => f.globalStep <= start.globalStep).sort((a, b) => b.globalStep - a.globalStep)[0] ?? null;
  return { files: at, fallback: earlier };
}

