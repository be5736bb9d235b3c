/**
 * `ckpt audit trainer`: a Trainer output_dir against its arguments. The run's trainer_state.json
 * (the top-level one train() writes at the end, else the newest checkpoint's) is simulated with the
 * arguments (simulate.ts); the checkpoint-* folders the simulation keeps are compared with those on
 * disk. Exit codes as the other audits: 0 clean, 1 drift, 2 unreadable, 3 the log cannot tell.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseStructured, issueText } from '../../sources/structuredText.ts';
import { readTrainerStateFile } from './readTrainerStateFile.ts';
import { argsFromTrainerState } from './runArgs.ts';
import type { HfFixes } from './fixes.ts';
import { simulateTrainerState, type TrainerSimulation } from './simulate.ts';

export interface TrainerAuditReport {
  readonly status: 'clean' | 'drift' | 'unreadable' | 'cannotTell';
  readonly exitCode: 0 | 1 | 2 | 3;
  readonly trainerState?: string;
  readonly expected?: readonly string[];
  readonly present?: readonly string[];
  readonly missing?: readonly string[];
  readonly unexpected?: readonly string[];
  readonly best?: TrainerSimulation['best'];
  readonly undetermined?: readonly string[];
  readonly unknownArgs?: readonly string[];
  readonly assumptions?: readonly string[];
  readonly unreadable?: string;
}

const CKPT = /^checkpoint-(\d+)$/;
const byStep = (a: string, b: string) => Number(CKPT.exec(a)![1]) - Number(CKPT.exec(b)![1]);

/** `fixes`: audit against the policy with these opt-in fixes (fixes.ts) instead of transformers' own. */
export function auditTrainerOutputDir(dir: string, argsFile: string, fixes: HfFixes = {}): TrainerAuditReport {
  const unreadable = (why: string): TrainerAuditReport => ({ status: 'unreadable', exitCode: 2, unreadable: why });
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return unreadable(`${dir} is not a folder (give the Trainer's output_dir)`);
    names = readdirSync(dir).filter((n) => CKPT.test(n) && statSync(join(dir, n)).isDirectory()).sort(byStep);
  } catch (e) {
    return unreadable(`cannot read the output_dir ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as Error).message}`);
  }
  const top = join(dir, 'trainer_state.json');
  const newest = [...names].reverse().map((n) => join(dir, n, 'trainer_state.json')).find((p) => existsSync(p));
  const statePath = existsSync(top) ? top : newest;
  if (statePath === undefined) return unreadable(`no trainer_state.json in ${dir} or in any of its checkpoint-* folders`);
  let given: Record<string, unknown>;
  try {
    const doc = parseStructured(readFileSync(argsFile, 'utf8'), argsFile);
    if (!doc.ok) return unreadable(doc.issues.map(issueText).join('; '));
    const v = doc.doc.value;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return unreadable(`${argsFile}: expected a mapping of TrainingArguments options`);
    given = v as Record<string, unknown>;
  } catch (e) {
    return unreadable(`cannot read the arguments ${argsFile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let log;
  try {
    log = readTrainerStateFile(statePath);
  } catch (e) {
    return unreadable((e as Error).message);
  }
  const a = argsFromTrainerState(log, given);
  if (!a.ok) {
    // an argument read from trainer_state.json is that file's problem, not the arguments file's
    const fromState = (f: string | null) => f !== null && f in a.derived;
    const given = a.issues.filter((i) => !fromState(i.field));
    const read = a.issues.filter((i) => fromState(i.field));
    return unreadable([...(given.length ? [`${argsFile}: ${given.map((i) => i.message).join('; ')}`] : []), ...read.map((i) => `${statePath}: ${i.field}=${JSON.stringify(a.derived[i.field!])} (read from it; give ${i.field} in ${argsFile} to override): ${i.message}`)].join('; '));
  }
  const unknownArgs = a.unknown.filter((u) => u.startsWith('save_steps') || u.startsWith('eval_strategy') || u.startsWith('metric_for_best_model'));
  const sim = simulateTrainerState(log, a.args, fixes);
  if (sim.error) return unreadable(`the arguments make transformers raise at step ${sim.error.atStep}: ${sim.error.type}: ${sim.error.message}`);
  const expected = sim.kept;
  const missing = expected.filter((n) => !names.includes(n));
  const unexpected = names.filter((n) => !expected.includes(n));
  // the log ending early is expected of a checkpoint's copy; missing evaluations or arguments are not
  const cannot = [...sim.undetermined.filter((u) => !u.startsWith('the log ends at step')), ...unknownArgs];
  const drift = missing.length > 0 || unexpected.length > 0;
  const [status, exitCode] = drift ? (['drift', 1] as const) : cannot.length > 0 ? (['cannotTell', 3] as const) : (['clean', 0] as const);
  return { status, exitCode, trainerState: statePath, expected, present: names, missing, unexpected, best: sim.best, undetermined: sim.undetermined, unknownArgs, assumptions: sim.assumptions };
}

export function formatTrainerAudit(r: TrainerAuditReport): string[] {
  if (r.status === 'unreadable') return [`unreadable: ${r.unreadable}`, 'result: unreadable'];
  const list = (xs: readonly string[] | undefined) => (xs && xs.length > 0 ? xs.join(', ') : '(none)');
  const b = r.best;
  return [
    `trainer_state: ${r.trainerState}`,
    `should exist: ${list(r.expected)}`,
    `present:      ${list(r.present)}`,
    `missing:      ${list(r.missing)}`,
    `unexpected:   ${list(r.unexpected)}`,
    b === null || b === undefined
      ? 'best: no metric_for_best_model, nothing protected'
      : `best: ${b.metric}=${b.value} at step ${b.step}; best_model_checkpoint ${b.checkpoint ?? 'None'}${b.checkpoint === null ? ' (the best step was never saved)' : r.present?.includes(b.checkpoint) ? ' survived' : ' is NOT on disk'}${b.bestStepSaved ? '' : ` (checkpoint-${b.step} was never saved: transformers #39560)`}`,
    ...(r.undetermined ?? []).map((u) => `undetermined: ${u}`),
    ...(r.unknownArgs ?? []).map((u) => `unknown argument: ${u}`),
    ...(r.assumptions ?? []).map((u) => `assumed: ${u}`),
    `result: ${r.status === 'cannotTell' ? 'cannot tell' : r.status}`,
  ];
}
