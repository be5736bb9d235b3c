/**
 * `ckpt serve --stdio`: the policy for loops in any language. Each input line (a loop event or a
 * control message, see protocol.ts) is answered by exactly one output line:
 *
 *   {"line": 7, "ok": true, "type": "trainEpochEnded", "effects": [{"type": "save", "path": ..., "key": ..., "explain": ...}],
 *    "best_model_path": ..., "best_model_score": ..., "last_model_path": ..., "record": {...}}
 *   {"line": 8, "ok": false, "error": {"kind": "shape", "message": "trainEpochEnded event: view.globalStep: got \"7\", expected number"}}
 *
 * Decide mode (default): the loop carries out the effects itself, in order, and stores `record`
 * (present when the decision saves) inside its checkpoint; to resume it sends {"type":"resume","record":...}
 * before setup. Store mode (`--store LOCATION`): the sidecar carries out the effects through a store
 * plugin; a decision that saves answers with "awaiting": "payload", the loop writes the checkpoint
 * bytes to a file and sends {"type":"payload","file":...}, answered with the outcomes.
 *
 * With a decision log (`--decision-log PATH`, src/audit/writer.ts) every decision is appended to it
 * before it is answered. In store mode the runtime reports the outcomes; in decide mode the loop
 * does, with {"type":"outcome","seq":N,"index":i,"status":"done"|"failed","cause":...} naming effect
 * `i` of the answer numbered `seq`.
 */
import { readFile } from 'node:fs/promises';
import * as E from 'fp-ts/lib/Either.js';
import { ConfigError, parseConfig, PolicyConfigCodec, stateKey, type PolicyConfig } from '../core/config.ts';
import type { Effect } from '../core/effects.ts';
import type { LoopEvent } from '../core/events.ts';
import { explainEffect } from '../core/explain.ts';
import { fileKey, listing } from '../core/files.ts';
import { init, reduce } from '../core/reduce.ts';
import { lightningStateDict, type PolicyState } from '../core/state.ts';
import { decodeState } from '../core/stateCodec.ts';
import type { CheckpointStore, Payload } from '../core/store.ts';
import { checkpointPath } from '../core/brands.ts';
import { withDigests } from '../audit/digests.ts';
import { combineObservers } from '../audit/observers.ts';
import type { DecisionLog } from '../audit/writer.ts';
import { Checkpointer, type CaptureRequest } from '../runtime/checkpointer.ts';
import { CheckpointWriteError, PolicyRaisedError, describeCause } from '../runtime/errors.ts';
import { keyOf } from '../runtime/keys.ts';
import type { Decision, EffectOutcome, RuntimeObserver } from '../runtime/observer.ts';
import { decodeRecord, makeRecord, type CheckpointRecord } from '../runtime/record.ts';
import { LineError, parseLine, type ControlMessage } from './protocol.ts';

export interface ServeOptions {
  /** ModelCheckpoint options given on the command line (an init line may replace them) */
  readonly options?: Record<string, unknown>;
  readonly cwd: string;
  /** store mode: opens the store the sidecar writes through */
  readonly openStore?: () => Promise<CheckpointStore>;
  /** a decision log to append every decision and outcome to; the caller closes it after serve() */
  readonly decisionLog?: DecisionLog;
  /** what happened after the loop's last line, which no answer can carry (the CLI prints it on stderr) */
  readonly report?: (message: string) => void;
  /** the store's writer lease (docs/reliability.md): take it from a live run, and how long it lasts unrenewed */
  readonly lease?: { readonly takeOver?: boolean; readonly ttlMs?: number };
}

/** An effect of a decide-mode answer as the decision log numbers it. */
interface LoggedEffect {
  readonly seq: number;
  readonly index: number;
  readonly effect: Effect;
}

type Out = Record<string, unknown>;

/** Serves until the input ends; returns the number of lines answered with an error. */
export async function serve(input: AsyncIterator<string>, write: (o: Out) => void, opts: ServeOptions): Promise<number> {
  const session = new Session(input, write, opts);
  return session.run();
}

class Session {
  private lineNo = 0;
  private errors = 0;
  private config: PolicyConfig | null = null;
  private cwd: string;
  private runId = `sidecar-${Date.now().toString(36)}`;
  private seq = 0;
  // decide mode
  private state: PolicyState | null = null;
  private resumedFiles: PolicyState | null = null;
  private lightningResume: PolicyState | null = null;
  /** a decision was answered since the last init (a resume must come before) */
  private started = false;
  /** the next decision starts a run in the decision log (a new segment) */
  private logOpen: { resumedFrom: string | null } | null = { resumedFrom: null };
  /** answers (by seq) with storage effects whose outcomes the loop has not reported yet */
  private readonly awaitingOutcomes = new Map<number, { effects: readonly LoggedEffect[]; settled: Set<number> }>();
  // store mode
  private ck: Checkpointer | null = null;
  private resumeRecord: unknown = null;
  /** the input ended while a decision awaited its payload (that decision's line is answered already) */
  private endedAwaitingPayload = false;

  constructor(
    private readonly input: AsyncIterator<string>,
    private readonly write: (o: Out) => void,
    private readonly opts: ServeOptions,
  ) {
    this.cwd = opts.cwd;
    if (opts.options !== undefined) this.configure(opts.options);
  }

  async run(): Promise<number> {
    for (;;) {
      const next = await this.nextLine();
      if (next === null) break;
      await this.handle(next);
    }
    // the store mode runtime settles its last writes before the caller closes the decision log
    if (this.ck) await this.ck.close().catch(() => undefined);
    return this.errors;
  }

  private async nextLine(): Promise<string | null> {
    for (;;) {
      const r = await this.input.next();
      if (r.done) return null;
      this.lineNo++;
      if (r.value.trim() !== '') return r.value;
      this.lineNo--; // blank lines are not counted or answered
    }
  }

  private fail(line: number, kind: string, message: string) {
    this.errors++;
    this.write({ line, ok: false, error: { kind, message } });
  }

  private async handle(text: string) {
    const line = this.lineNo;
    let msg;
    try {
      msg = parseLine(text);
    } catch (e) {
      if (e instanceof LineError) return this.fail(line, e.kind, e.message);
      throw e;
    }
    try {
      if (msg.kind === 'control') await this.control(line, msg.message);
      else if (this.opts.openStore) await this.storeEvent(line, msg.event);
      else this.decideEvent(line, msg.event);
    } catch (e) {
      if (e instanceof LineError) return this.fail(line, e.kind, e.message);
      if (e instanceof ConfigError) return this.fail(line, 'config', e.message);
      if (e instanceof CheckpointWriteError) return this.fail(line, 'store', e.message);
      return this.fail(line, 'internal', describeCause(e));
    }
  }

  private configure(options: Record<string, unknown>, cwd?: string) {
    this.config = parseConfig(options);
    if (cwd !== undefined) this.cwd = cwd;
    this.state = null;
    this.ck = null;
    this.started = false;
    this.resumedFiles = null;
    this.lightningResume = null;
    this.logOpen = { resumedFrom: null };
  }

  /** Appends to the decision log, if there is one; a log that cannot append answers with kind "log". */
  private logged(f: (log: DecisionLog) => void) {
    const log = this.opts.decisionLog;
    if (log === undefined) return;
    try {
      f(log);
    } catch (e) {
      // the writer's messages name the log; once an append failed it accepts no more records
      throw new LineError('log', e instanceof Error ? e.message : `decision log ${log.path}: ${describeCause(e)}`);
    }
  }

  private async control(line: number, m: ControlMessage) {
    switch (m.type) {
      case 'init': {
        if (this.ck) throw new LineError('order', 'init after setup in store mode: the store is already open; restart the sidecar for a new run');
        this.configure(m.options, m.cwd);
        const [state, effects] = init(this.config!, { cwd: this.cwd });
        this.state = state;
        return this.write({ line, ok: true, type: 'init', effects: effects.map((e) => this.describeEffect(e)) });
      }
      case 'resume':
        return this.resume(line, m.record);
      case 'payload':
        throw new LineError('order', 'payload line with no decision awaiting a payload (payloads follow a decision that answered "awaiting": "payload")');
      case 'outcome':
        return this.outcome(line, m);
      case 'query': {
        const s = this.ck?.state ?? this.state;
        if (s === null) throw new LineError('order', 'query before init: send {"type":"init","options":{...}} or start with --options');
        return this.write({ line, ok: true, type: 'query', ...summary(s), best_k_models: [...s.bestKModels.entries()], state_dict: lightningStateDict(s) });
      }
    }
  }

  private requireConfig(): PolicyConfig {
    if (this.config === null) throw new LineError('order', 'no ModelCheckpoint options yet: send {"type":"init","options":{...}} first or start the sidecar with --options/--config');
    return this.config;
  }

  private resume(line: number, raw: unknown) {
    const config = this.requireConfig();
    if (this.ck !== null || this.started) {
      throw new LineError('order', 'resume after the run started: send the resume line before setup (or an init line first, to start a new run)');
    }
    const r = decodeRecord(raw);
    if (E.isLeft(r)) throw new LineError('shape', `resume record: ${r.left.join('; ')}`);
    const prior = decodeState(r.right.state);
    if (E.isLeft(prior)) throw new LineError('shape', `resume record state: ${prior.left.join('; ')}`);
    if (this.opts.openStore) {
      this.resumeRecord = raw;
      return this.write({ line, ok: true, type: 'resume', from: r.right.key, epoch: r.right.epoch, globalStep: r.right.globalStep });
    }
    const exact = JSON.stringify(PolicyConfigCodec.encode(prior.right.config)) === JSON.stringify(PolicyConfigCodec.encode(config));
    if (!exact && stateKey(prior.right.config) !== stateKey(config)) {
      throw new LineError('order', `the record was written with different ModelCheckpoint options (${stateKey(prior.right.config)}); its state cannot be restored under ${stateKey(config)}`);
    }
    // a resume replaces an earlier one; the decision log starts a segment that names the checkpoint
    this.seq = r.right.seq;
    this.awaitingOutcomes.clear();
    this.logOpen = { resumedFrom: r.right.key };
    let pending: string[] = [];
    if (exact) {
      this.runId = r.right.runId;
      this.state = prior.right;
      this.resumedFiles = prior.right;
      this.lightningResume = null;
      const d = prior.right.dirpath ?? '';
      pending = r.right.pendingRemovals.map((k) => (d.endsWith('/') ? d + k : `${d}/${k}`)).filter((p) => !prior.right.files.has(fileKey(p, prior.right.cwd)));
    } else {
      this.state = init(config, { cwd: this.cwd })[0];
      this.resumedFiles = null;
      this.lightningResume = prior.right;
    }
    this.write({ line, ok: true, type: 'resume', mode: exact ? 'exact' : 'lightning', epoch: r.right.epoch, globalStep: r.right.globalStep, pending_removals: pending });
  }

  // ---- decide mode ------------------------------------------------------------------------------

  private decideEvent(line: number, event: LoopEvent) {
    const config = this.requireConfig();
    if (this.state === null) this.state = init(config, { cwd: this.cwd })[0];
    const before = this.state;
    let ev = event;
    const resumedFiles = this.resumedFiles;
    if (ev.type === 'setup' && resumedFiles !== null) {
      // an exact resume continues with the files the uninterrupted run believed in
      ev = { ...ev, files: listing(resumedFiles.files, fileKey(resumedFiles.dirpath ?? this.cwd, resumedFiles.cwd)) };
    } else if (ev.type !== 'setup' && before.trainer === null) {
      throw new LineError('order', `${ev.type} before setup: send a setup event first (it resolves the checkpoint directory)`);
    }
    // one answer, one decision; but Lightning's resume is two (setup, then the state dict loaded),
    // answered together and recorded as two so that the log replays them as the policy decides them
    const [s1, e1] = reduce(before, ev);
    const decisions: Decision[] = [{ seq: this.seq + 1, event: ev, effects: e1, stateAfter: s1 }];
    if (ev.type === 'setup' && this.lightningResume !== null) {
      const loaded: LoopEvent = { type: 'stateLoaded', stateDict: lightningStateDict(this.lightningResume) };
      const [s2, e2] = reduce(s1, loaded);
      decisions.push({ seq: this.seq + 2, event: loaded, effects: e2, stateAfter: s2 });
    }
    // recorded before anything changes: a log that cannot append leaves the policy where it was
    const open = this.logOpen;
    this.logged((log) => {
      if (open !== null) log.opened({ state: before, resumedFrom: open.resumedFrom });
      for (const d of decisions) log.decided(d);
    });
    this.logOpen = null;
    if (ev.type === 'setup') this.resumedFiles = null;
    if (decisions.length > 1) this.lightningResume = null;
    this.started = true;
    const last = decisions.at(-1)!;
    const state = last.stateAfter;
    this.state = state;
    this.seq = last.seq;
    const seq = decisions[0]!.seq;
    const effects = decisions.flatMap((d) => d.effects);
    // the loop names an effect by the answer's seq and its index in the answer's effects
    const numbered: LoggedEffect[] = decisions.flatMap((d) => d.effects.map((effect, index) => ({ seq: d.seq, index, effect })));
    if (effects.some((e) => e.type !== 'log')) this.awaitingOutcomes.set(seq, { effects: numbered, settled: new Set() });
    const out: Out = { line, ok: true, type: ev.type, seq, effects: effects.map((e) => this.describeEffect(e, state)), ...summary(state) };
    const firstSave = effects.find((e) => e.type === 'save');
    if (firstSave) out.record = this.recordOf(last.seq, ev, this.keyFor(state, firstSave.path), effects, state);
    this.write(out);
  }

  /** Decide mode: the loop reports how an effect of an answer went; the decision log records it. */
  private outcome(line: number, m: Extract<ControlMessage, { type: 'outcome' }>) {
    if (this.opts.openStore) throw new LineError('order', 'outcome lines are for decide mode: in store mode the sidecar carries out the effects and records their outcomes itself');
    const a = this.awaitingOutcomes.get(m.seq);
    if (a === undefined) {
      if (m.seq > this.seq) throw new LineError('order', `seq=${m.seq} names no answer: the latest answer is seq=${this.seq} (give the "seq" of the answer whose effect you carried out)`);
      throw new LineError('order', `answer seq=${m.seq} awaits no outcomes: it has no save, remove, link or error effect, each of them has its outcome already, or it was answered before the last resume`);
    }
    const target = a.effects[m.index];
    if (target === undefined) throw new LineError('order', `index=${m.index} is not an effect of answer seq=${m.seq}: it has ${a.effects.length} effect(s), index 0 to ${a.effects.length - 1}`);
    const e = target.effect;
    if (e.type === 'log') throw new LineError('order', `effect #${m.index} of answer seq=${m.seq} is a log line: it has no outcome (report saves, removes, links and errors)`);
    if (a.settled.has(m.index)) throw new LineError('order', `effect #${m.index} (${e.type}) of answer seq=${m.seq} already has an outcome`);
    if (m.size !== undefined && e.type !== 'save') throw new LineError('shape', `outcome message: size, sha256: effect #${m.index} of answer seq=${m.seq} is a ${e.type}; only a save writes bytes to describe`);
    const outcome = m.status === 'done' ? { status: 'done' as const, ...(m.size !== undefined ? { size: m.size, sha256: m.sha256 } : {}) } : { status: 'failed' as const, cause: m.cause! };
    this.logged((log) => log.effectSettled({ seq: target.seq, index: target.index, effect: e, outcome }));
    a.settled.add(m.index);
    if (a.effects.every((x, i) => x.effect.type === 'log' || a.settled.has(i))) this.awaitingOutcomes.delete(m.seq);
    this.write({ line, ok: true, type: 'outcome', seq: m.seq, index: m.index, recorded: this.opts.decisionLog !== undefined });
  }

  private recordOf(seq: number, ev: LoopEvent, key: string, effects: readonly Effect[], state: PolicyState): CheckpointRecord {
    const removals = effects.flatMap((e) => (e.type === 'remove' ? [this.keyFor(state, e.path)] : []));
    return makeRecord(this.runId, seq, ev, key, state, { removals, saves: [] });
  }

  private keyFor(state: PolicyState, path: string): string {
    return keyOf(state.dirpath ?? this.cwd, checkpointPath(path), state.cwd);
  }

  private describeEffect(e: Effect, at?: PolicyState): Out {
    const s = at ?? this.ck?.state ?? this.state;
    const key = (e.type === 'save' || e.type === 'remove' || e.type === 'link') && s ? { key: this.keyFor(s, e.path) } : {};
    return { ...e, ...key, explain: explainEffect(e) };
  }

  // ---- store mode -------------------------------------------------------------------------------

  /** The decision in progress (store mode): which line it answers and what it has gathered. */
  private cur: { line: number; type: string; answered: boolean; answerLine: number; payload: Payload | null; outcomes: Out[]; setupEffects: Effect[] } | null = null;

  private readonly storeObserver = {
    decided: (d: { effects: readonly Effect[]; stateAfter: PolicyState }) => {
      const c = this.cur;
      if (!c) return;
      if (c.type === 'setup') c.setupEffects.push(...d.effects);
      else if (d.effects.some((e) => e.type === 'save')) {
        c.answered = true;
        this.write({ line: c.line, ok: true, type: c.type, awaiting: 'payload', effects: d.effects.map((e) => this.describeEffect(e, d.stateAfter)), ...summary(d.stateAfter) });
      }
    },
    effectSettled: (st: { index: number; effect: Effect; outcome: EffectOutcome }) => {
      const e = st.effect;
      if (this.cur && (e.type === 'save' || e.type === 'remove' || e.type === 'link')) this.cur.outcomes.push({ index: st.index, type: e.type, path: e.path, ...st.outcome });
    },
  };

  /** The decision log as the runtime's observer, its failures reported as kind "log". */
  private loggedObserver(): RuntimeObserver {
    return {
      opened: (info) => this.logged((log) => log.opened(info)),
      decided: (d) => this.logged((log) => log.decided(d)),
      effectSettled: (s) => this.logged((log) => log.effectSettled(s)),
    };
  }

  /** A save's bytes: the next payload line (one payload serves every save of the decision). */
  private readonly capture = async (_req: CaptureRequest): Promise<Payload> => {
    const c = this.cur!;
    if (c.payload !== null) return c.payload;
    for (;;) {
      const text = await this.nextLine();
      if (text === null) {
        this.endedAwaitingPayload = true;
        throw new Error('the input ended while a decision awaited its payload');
      }
      const pl = this.lineNo;
      let m;
      try {
        m = parseLine(text);
      } catch (e) {
        if (!(e instanceof LineError)) throw e;
        this.fail(pl, e.kind, `${e.message} (a payload line is awaited)`);
        continue;
      }
      if (m.kind !== 'control' || m.message.type !== 'payload') {
        this.fail(pl, 'order', `a payload line is awaited: the decision of line ${c.line} saves a checkpoint; send {"type":"payload","file":"..."}`);
        continue;
      }
      try {
        c.payload = { kind: 'bytes', data: new Uint8Array(await readFile(m.message.file)) };
      } catch (e) {
        this.fail(pl, 'payload', `cannot read payload file ${JSON.stringify(m.message.file)}: ${describeCause(e)}`);
        continue;
      }
      c.answerLine = pl;
      return c.payload;
    }
  };

  private async storeEvent(line: number, event: LoopEvent) {
    const config = this.requireConfig();
    const c = (this.cur = { line, type: event.type, answered: false, answerLine: line, payload: null, outcomes: [], setupEffects: [] });
    try {
      if (event.type === 'setup') {
        if (this.ck) throw new LineError('order', 'a second setup in store mode: restart the sidecar for a new run');
        const log = this.opts.decisionLog;
        const store = await this.opts.openStore!();
        this.ck = await Checkpointer.open({
          options: PolicyConfigCodec.encode(config),
          // the log's outcome records carry each save's size and SHA-256 (for `ckpt audit storage`)
          store: log !== undefined ? withDigests(store, log) : store,
          capture: this.capture,
          background: false,
          cwd: this.cwd,
          ...(event.trainer ? { trainer: event.trainer } : {}),
          resume: this.resumeRecord === null ? false : { record: this.resumeRecord },
          ...(this.opts.lease?.takeOver ? { takeOver: true } : {}),
          ...(this.opts.lease?.ttlMs !== undefined ? { leaseTtlMs: this.opts.lease.ttlMs } : {}),
          log: () => undefined, // logs are answered as effects
          // the log first: a decision is recorded before it is answered
          observer: log !== undefined ? combineObservers(this.loggedObserver(), this.storeObserver) : this.storeObserver,
        });
        const s = this.ck.state;
        return this.write({ line, ok: true, type: 'setup', effects: c.setupEffects.map((e) => this.describeEffect(e, s)), dirpath: this.ck.dirpath, ...summary(s) });
      }
      if (!this.ck) throw new LineError('order', `${event.type} before setup: send a setup event first (store mode opens the store then)`);
      const effects = await this.ck.report(event);
      const s = this.ck.state;
      if (!c.answered) return this.write({ line, ok: true, type: event.type, effects: effects.map((e) => this.describeEffect(e, s)), outcomes: c.outcomes, ...summary(s) });
      this.write({ line: c.answerLine, ok: true, type: 'payload', outcomes: c.outcomes, ...summary(s) });
    } catch (e) {
      if (e instanceof PolicyRaisedError) {
        const raised = { type: e.errorType, message: e.policyMessage };
        if (!c.answered) return this.write({ line, ok: true, type: event.type, effects: [], raised, outcomes: c.outcomes });
        return this.write({ line: c.answerLine, ok: true, type: 'payload', raised, outcomes: c.outcomes });
      }
      if (c.answered && this.endedAwaitingPayload) {
        // line c.line was answered ("awaiting": "payload") and no line came after it to answer:
        // the save is recorded as failed (nothing was removed for it); say so outside the answers
        this.errors++;
        this.opts.report?.(`the input ended while the decision of line ${c.line} awaited its payload: its save was not carried out and nothing was removed for it (${describeCause(e)})`);
        return;
      }
      if (c.answered && e instanceof CheckpointWriteError) return this.fail(c.answerLine, 'store', e.message);
      if (c.answered && e instanceof LineError) return this.fail(c.answerLine, e.kind, e.message);
      if (c.answered && c.answerLine === line) {
        // the decision's line was answered already and no payload line came: report on the same line number
        return this.fail(line, 'store', describeCause(e));
      }
      throw e;
    } finally {
      this.cur = null;
    }
  }
}

function summary(s: PolicyState): Out {
  return { best_model_path: s.bestModelPath, best_model_score: s.bestModelScore, last_model_path: s.lastModelPath };
}
