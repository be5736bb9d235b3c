/**
 * Plain sentences for decisions not to act ("epoch 7, step 1400: val_loss 0.412 did not enter the
 * top 3 (3rd best 0.398); nothing saved") and for whole decision-log records, next to
 * src/explain.ts's sentences for effects.
 */
import { DEFAULTS, PolicyConfigCodec } from '../core/config.ts';
import type { Effect, Trigger } from '../core/effects.ts';
import { explainEffect, memberName } from '../core/explain.ts';
import type { LoopEvent } from '../core/events.ts';
import type { NotDue, Note, NoteKind } from '../core/notes.ts';
import { isDialectHead, type LogRecord } from './format.ts';
import { explainLineRecord } from './explainDialect.ts';

const num = (x: number | null) => (x === null ? 'none' : Number.isNaN(x) ? 'nan' : Number.isFinite(x) ? String(Number(x.toPrecision(6))) : x > 0 ? 'inf' : '-inf');

export function ordinal(k: number): string {
  const tens = k % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : k % 10 === 1 ? 'st' : k % 10 === 2 ? 'nd' : k % 10 === 3 ? 'rd' : 'th';
  return `${k}${suffix}`;
}

const TRIGGER_NAME: Record<Trigger, string> = {
  trainEpochEnd: 'the end-of-epoch check',
  validationEnd: 'the after-validation check',
  deferredToValidationEnd: 'the deferred check after validation',
  everyNTrainSteps: 'every_n_train_steps',
  trainTimeInterval: 'train_time_interval',
  exception: 'the exception',
  trainEnd: 'the end of training',
};

/** Where a note happened, when the note itself does not say. */
export interface NoteContext {
  readonly epoch: number;
  readonly step: number;
  /** the hook saved, linked or removed something */
  readonly acted: boolean;
}

function notDue(c: NotDue): string {
  switch (c.trigger) {
    case 'everyNTrainSteps':
      if (c.n < 1) return 'no every_n_train_steps or train_time_interval is set, so training batches never trigger a checkpoint';
      return `every_n_train_steps=${c.n}: step ${c.step} is not a multiple of ${c.n} (next at step ${Math.ceil((c.step + 1) / c.n) * c.n})`;
    case 'trainTimeInterval':
      return `train_time_interval=${num(c.interval)}s: ${c.elapsed === null ? 'no time measured since the last check yet' : `only ${num(c.elapsed)}s since the last check`}`;
    case 'everyNEpochs': {
      if (c.n < 1) return 'every_n_epochs=0: epochs never trigger a checkpoint';
      const next = (Math.floor((c.epoch + 1) / c.n) + 1) * c.n - 1;
      return `every_n_epochs=${c.n}: epoch ${c.epoch} is not due (next at epoch ${next})`;
    }
  }
}

/** One sentence for a note. */
export function explainNote(note: Note, ctx: NoteContext): string {
  const at = `epoch ${ctx.epoch}, step ${ctx.step}: `;
  const nothing = ctx.acted ? '' : '; nothing saved';
  switch (note.kind) {
    case 'noDecision':
      return {
        setup: 'setup: the checkpoint directory is resolved and its files listed; nothing to decide',
        stateLoaded: "the callback's state was restored from a checkpoint; nothing to decide",
        trainStarted: 'training started (the clock for train_time_interval starts); nothing to decide',
        filesListed: "the policy's view of storage was refreshed; nothing to decide",
      }[note.event];
    case 'skipped': {
      const why = {
        fastDevRun: 'fast_dev_run is on, so checkpointing is off',
        notFitting: `the trainer is running ${note.stateFn}, not fit; only fit saves`,
        sanityCheck: 'this is the sanity-check validation; it never saves',
        sameGlobalStep: `global step ${note.step} was already saved; the same step is never saved twice`,
      }[note.cause];
      return `${at}skipped: ${why}`;
    }
    case 'notDue':
      return `${at}no trigger due: ${note.checks.map(notDue).join('; ')}${nothing}`;
    case 'otherHook': {
      const how = note.setting === 'given' ? `save_on_train_epoch_end=${note.actsAt === 'trainEpochEnd' ? 'True' : 'False'}` : 'derived from the loop';
      return note.actsAt === 'trainEpochEnd'
        ? `${at}not checked here: the callback acts at the end of the training epoch (${how})`
        : `${at}not checked here: the callback acts after validation (${how})`;
    }
    case 'deferred':
      return note.cause === 'monitorMissing'
        ? `${at}${TRIGGER_NAME[note.trigger]} fired but ${note.monitor} has not been logged yet; the save waits for the end of the next validation`
        : `${at}${TRIGGER_NAME[note.trigger]} fired on the epoch's last batch with validation about to run; the save waits for a fresh ${note.monitor}`;
    case 'topKZero':
      return `${at}save_top_k=0: no top-k checkpoint is kept`;
    case 'monitorMissing':
      return `epoch ${note.epoch}, step ${note.step}: the monitored ${note.monitor} was not logged (logged: ${note.available.join(', ')}); nothing compared${nothing}`;
    case 'rejected': {
      const kth = note.k === 1 ? 'best' : `${ordinal(note.k)} best`;
      const why = Number.isNaN(note.score) ? ', and nan never beats a kept score' : note.score === note.kthValue ? ', and a tie never displaces' : '';
      return `epoch ${note.epoch}, step ${note.step}: ${note.monitor} ${num(note.score)} did not enter the top ${note.k} (${kth} ${num(note.kthValue)}${why})${nothing}`;
    }
    case 'lastNotDue':
      return note.cause === 'nothingSavedAtThisStep'
        ? `${at}the last checkpoint is not updated: nothing was saved at this step`
        : `${at}no last checkpoint at the end: one was already saved in this fit`;
    case 'lastUnchanged':
      return `${at}the last checkpoint already is ${note.path}; no link to itself`;
    case 'noExceptionSave': {
      const why = {
        disabled: 'save_on_exception is off',
        fastDevRun: 'fast_dev_run is on',
        sanityCheck: 'it happened during the sanity check',
        sameGlobalStep: 'this global step was already saved',
      }[note.cause];
      return `${at}nothing saved for the exception: ${why}`;
    }
    case 'noLastConfigured':
      return `${at}end of training: save_last is off, nothing to write`;
    case 'versionBump':
      return `${at}${note.path} got a version suffix because ${note.taken} already exists`;
    case 'keptBy':
      return `${at}${memberName(note.released)} let go of ${note.path}, but ${note.members.map(memberName).join(' and ')} still keep${note.members.length === 1 ? 's' : ''} it, so it stays`;
    case 'raised':
      return `${at}Lightning raises ${note.errorType}: ${note.message}`;
  }
}

function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}

/** Notes a reader usually does not need: hooks where nothing can happen. */
const ROUTINE = new Set<NoteKind>(['noDecision', 'otherHook']);

export interface ExplainOptions {
  /** every note and log line, routine ones included */
  readonly all?: boolean;
  /**
   * the events are replayed here, not recorded from a run: the policy's log lines (Lightning's
   * messages) are labelled as simulated, so that "Checkpoint directory ... exists" is not read as
   * a statement about the user's folder
   */
  readonly simulated?: boolean;
}

/** A log line the simulation produced, labelled as such (tables and explanations of replayed events). */
export function simulatedLogLine(level: string, message: string): string {
  return `simulated Lightning ${level}: ${message}`;
}

function viewOf(e: LoopEvent): { epoch: number; step: number } {
  return 'view' in e && e.view ? { epoch: e.view.epoch, step: e.view.globalStep } : { epoch: 0, step: 0 };
}

/** Lines for one decision: its effects with their reasons, then the rules that did not act. */
export function explainDecision(prefix: string, event: LoopEvent, effects: readonly Effect[], notes: readonly Note[], opts: ExplainOptions = {}): string[] {
  const out: string[] = [];
  const acted = effects.some((e) => e.type === 'save' || e.type === 'remove' || e.type === 'link');
  const { epoch, step } = viewOf(event);
  for (const e of effects) {
    if (e.type === 'log' && e.level !== 'warning' && !opts.all) continue;
    out.push(`${prefix}${e.type === 'log' && opts.simulated ? simulatedLogLine(e.level, e.message) : explainEffect(e)}`);
  }
  for (const n of notes) {
    if (!opts.all && (ROUTINE.has(n.kind) || (n.kind === 'notDue' && event.type === 'trainBatchEnded'))) continue;
    out.push(`${prefix}${explainNote(n, { epoch, step, acted })}`);
  }
  return out;
}

/** Lines for one log record. */
export function explainRecord(r: LogRecord, opts: ExplainOptions = {}): string[] {
  const p = `#${r.n} `;
  switch (r.type) {
    case 'head': {
      if (isDialectHead(r)) return [`${p}${r.dialect} session starts (ckpt serve --dialect ${r.dialect}): each line below is an input line and its answer`];
      // the options that differ from Lightning's defaults, as they would be written in Python
      const defaults = PolicyConfigCodec.encode(DEFAULTS);
      const cfg = Object.entries(r.config)
        .filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(defaults[k]))
        .map(([k, v]) => `${k}=${pyLiteral(v)}`)
        .join(', ');
      const from = r.resumedFrom === null ? 'a fresh start' : `resumed from ${r.resumedFrom}${r.state ? ' (exact policy state)' : ''}`;
      return [`${p}run starts (${from}) with ModelCheckpoint(${cfg}) in ${r.cwd}`];
    }
    case 'decision':
      return explainDecision(p, r.event, r.effects, r.notes, opts);
    case 'outcome': {
      const what = `${r.effect}${r.key !== undefined ? ` ${r.key}` : r.path !== undefined ? ` ${r.path}` : ''} (decision seq ${r.seq})`;
      if (r.status === 'failed') return [`${p}failed: ${what}: ${r.cause ?? 'no cause given'}`];
      if (!opts.all && r.size === undefined) return [];
      return [`${p}done: ${what}${r.size !== undefined ? `, ${r.size} bytes, sha256 ${r.sha256?.slice(0, 12)}…` : ''}`];
    }
    case 'close':
      return [`${p}run ends: ${r.decisions} decisions, ${r.outcomes} outcomes${r.unsettled > 0 ? `, ${r.unsettled} storage effect(s) never settled` : ''}`];
    case 'line':
      return explainLineRecord(p, r, opts);
  }
}
