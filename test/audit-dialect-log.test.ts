/**
 * Decision logs of dialect sessions: a real `ckpt serve --stdio --dialect orbax|keras|transformers
 * --decision-log FILE` process is driven with the input lines of recorded conformance scenarios (and,
 * for transformers, the lines examples/python/trainer_loop.py sent); each log verifies with
 * `ckpt audit verify`, and single-record edits (a changed op, a removed line, reordered lines, a
 * changed option) are each detected, with the chain left broken and with it recomputed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledMetrics } from '../src/dialects/keras/conformance.ts';
import { verifyLog } from '../src/audit/verify.ts';
import { CKPT, STACK, ckpt } from './helpers/cli.ts';
import { readRecords, rechain, writeRecords, type Rec } from './helpers/decision-log.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/conformance/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-dialect-log-'));
let n = 0;
const fresh = () => join(tmp, `log-${++n}.jsonl`);

type Answer = Record<string, any> & { line: number; ok: boolean };

function serveLogged(dialect: string, lines: readonly string[], log: string): Answer[] {
  const r = spawnSync(process.execPath, [...CKPT, 'serve', '--stdio', '--dialect', dialect, '--decision-log', log], { input: lines.join('\n') + '\n', encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, STACK);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Answer);
}

interface Report {
  status: string;
  exitCode: number;
  lines: number;
  segments: number;
  chain: { record: number; message: string } | null;
  divergence: { record: number; field: string; expected: unknown; recorded: unknown; message: string } | null;
  lastHash: string;
}

/** The verifier in this process (the edits: many logs), the same function the CLI runs. */
const verifyHere = (log: string): Report => verifyLog({ kind: 'file', path: log }) as unknown as Report;

function verify(log: string, ...extra: string[]): Report {
  const r = ckpt(['audit', 'verify', '--json', ...extra, log]);
  assert.doesNotMatch(r.stdout + r.stderr, STACK);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(r.code, report.exitCode);
  return report;
}

const scenarios = (set: string, file: string): any[] => readFileSync(join(FIXTURES, set, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

// ---- inputs from the conformance scenarios ------------------------------------------------------

const ORBAX_CALL_KEYS = ['call', 'step', 't', 'metrics', 'force', 'preempt', 'fail_write'];

/** An Orbax scenario's first phase as sidecar lines: the init (options, clock, listing) and its calls. */
function orbaxLines(sc: any): string[] {
  const p = sc.phases[0];
  const { start: _start, ...clock } = p.clock;
  const init = { type: 'init', options: p.options, t: p.clock.start, clock, entries: sc.preexisting, directory: p.directory };
  const calls = [...p.events, ...(p.end ? [p.end] : [])].map((e: Record<string, unknown>) => Object.fromEntries(Object.entries(e).filter(([k]) => ORBAX_CALL_KEYS.includes(k))));
  return [JSON.stringify(init), ...calls.map((c) => JSON.stringify(c))];
}

/** A Keras scenario as sidecar lines: each phase's init (a new callback), its hooks, and each save's outcome as Keras saw it. */
function kerasLines(sc: any): string[] {
  const metrics = compiledMetrics(sc.model.metrics);
  const out: string[] = [];
  for (const phase of sc.phases) {
    if (phase.callback === 'new') out.push(JSON.stringify({ type: 'init', options: phase.kwargs ?? {} }));
    for (const h of phase.hooks) {
      const logs = h.logs ?? {};
      const ev =
        h.hook === 'on_train_begin' ? { _tag: 'TrainBegan' }
        : h.hook === 'on_epoch_begin' ? { _tag: 'EpochBegan', epoch: h.epoch }
        : h.hook === 'on_train_batch_end' ? { _tag: 'TrainBatchEnded', batch: h.batch, logs }
        : h.hook === 'on_epoch_end' ? { _tag: 'EpochEnded', epoch: h.epoch, logs, metrics }
        : { _tag: 'TrainEnded', logs };
      out.push(JSON.stringify(ev));
      for (const op of h.ops ?? []) {
        if (op.op === 'makedirs' && op.failed) out.push(JSON.stringify({ _tag: 'SaveFailed', error: { type: op.failed, message: `cannot create ${op.path}` } }));
        if (op.op === 'save') out.push(JSON.stringify(op.failed ? { _tag: 'SaveFailed', error: { type: op.failed, message: `cannot write ${op.path}` } } : { _tag: 'SaveCompleted' }));
      }
    }
  }
  return out;
}

/** The lines examples/python/trainer_loop.py sent to the transformers sidecar (its transcript). */
function trainerLines(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-trainer-lines-'));
  const transcript = join(dir, 'transcript.jsonl');
  const script = fileURLToPath(new URL('../examples/python/trainer_loop.py', import.meta.url));
  const r = spawnSync('python3', [script, '--dir', join(dir, 'run'), '--transcript', transcript], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', CKPT_COMMAND: JSON.stringify([process.execPath, ...CKPT]) } });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(transcript, 'utf8').trim().split('\n').map((l) => JSON.stringify((JSON.parse(l) as { sent: unknown }).sent));
}

/** The first scenario of a file that saves something (an error scenario may raise before any save). */
const firstSaving = (set: string, file: string, saves: (sc: any) => boolean): any => scenarios(set, file).find(saves);
const orbaxSaves = (sc: any) => sc.phases[0].init.error === null && sc.phases[0].events.filter((e: any) => e.call === 'save' && e.ops?.length > 0).length >= 3;
const kerasSaves = (sc: any) => sc.phases.some((p: any) => p.hooks.filter((h: any) => (h.ops ?? []).some((o: any) => o.op === 'save')).length >= 2);

const SESSIONS: Array<{ dialect: string; label: string; lines: () => string[] }> = [
  ...['save_policies.jsonl', 'metrics.jsonl', 'preservation.jsonl', 'errors.jsonl'].map((f) => ({ dialect: 'orbax', label: `orbax ${f}`, lines: () => orbaxLines(firstSaving('orbax-0.12.4', f, orbaxSaves)) })),
  ...['best.jsonl', 'freq.jsonl', 'errors.jsonl', 'multifit.jsonl'].map((f) => ({ dialect: 'keras', label: `keras ${f}`, lines: () => kerasLines(firstSaving('keras-3.15.1', f, kerasSaves)) })),
  { dialect: 'transformers', label: 'transformers trainer_loop.py', lines: trainerLines },
];

// ---- the logs verify, and edits are detected ------------------------------------------------------

/** A line record whose answer carries something to change: an op (Orbax), a Save effect (Keras), a save (transformers). */
function decisive(recs: Rec[]): number {
  const i = recs.findIndex((r) => r.type === 'line' && r.answer.ok && ((r.answer.output?.ops?.length ?? 0) > 0 || (r.answer.effects ?? []).some((e: Rec) => e._tag === 'Save' || e.type === 'save')));
  assert.ok(i > 0, 'the session decides something');
  return i;
}

for (const s of SESSIONS) {
  test(`${s.label}: the session's log verifies, and a changed op, a removed line, reordered lines and a changed option are each detected`, () => {
    const lines = s.lines();
    const log = fresh();
    const answers = serveLogged(s.dialect, lines, log);
    assert.equal(answers.length, lines.length);
    const recs = readRecords(log);
    assert.deepEqual([recs[0]!.type, recs[0]!.dialect, recs.at(-1)!.type], ['head', s.dialect, 'close']);
    assert.equal(recs[0]!.format, 'ckpt-policy/decision-log@2');
    // each line and the answer the loop got, in order
    const lineRecs = recs.filter((r) => r.type === 'line');
    assert.deepEqual(lineRecs.map((r) => r.input), lines);
    assert.deepEqual(lineRecs.map((r) => r.answer), answers);
    const ok = verify(log);
    assert.equal(ok.status, 'verified', JSON.stringify(ok));
    assert.equal(ok.lines, lines.length);

    const d = decisive(recs);
    const edits: Array<{ what: string; edit: (r: Rec[]) => Rec[]; field: RegExp }> = [
      {
        what: 'a changed op',
        edit: (r) => {
          const a = structuredClone(r[d]!.answer);
          if (a.output?.ops?.length) a.output.ops[0].path = 'elsewhere/0';
          else {
            const e = a.effects.find((x: Rec) => x._tag === 'Save' || x.type === 'save');
            if (e.filepath !== undefined) e.filepath = 'elsewhere.keras';
            else e.path = 'out/elsewhere';
          }
          return r.map((x, i) => (i === d ? { ...x, answer: a } : x));
        },
        field: /^answer\.(output\.ops\[0\]\.path|effects\[\d+\]\.(filepath|path))$/,
      },
      { what: 'a removed line', edit: (r) => r.filter((_, i) => i !== d), field: /^line$/ },
      {
        what: 'reordered lines',
        edit: (r) => r.map((x, i) => (i === d ? r[d + 1]! : i === d + 1 ? r[d]! : x)),
        field: /^line$/,
      },
      {
        what: 'a changed option',
        edit: (r) => {
          const init = JSON.parse(r[1]!.input);
          // a different valid value: Keras's other save_best_only, a different retention limit
          const key = s.dialect === 'orbax' ? 'max_to_keep' : s.dialect === 'keras' ? 'save_best_only' : 'save_total_limit';
          init.options = { ...init.options, [key]: s.dialect === 'keras' ? !init.options.save_best_only : init.options[key] === 1 ? 3 : 1 };
          return r.map((x, i) => (i === 1 ? { ...x, input: JSON.stringify(init) } : x));
        },
        field: /^answer\b/,
      },
    ];
    for (const e of edits) {
      const edited = e.edit(recs);
      // as written: the chain breaks at the edit
      const plain = fresh();
      writeRecords(plain, edited);
      const broken = verifyHere(plain);
      assert.equal(broken.status, 'tampered', `${e.what}: ${JSON.stringify(broken)}`);
      assert.ok(broken.chain !== null, `${e.what}: the chain catches it`);
      // with the chain recomputed: the replay catches it
      const forged = fresh();
      writeRecords(forged, rechain(edited));
      const r = verifyHere(forged);
      assert.equal(r.status, 'tampered', `${e.what}, chain recomputed: ${JSON.stringify(r)}`);
      assert.equal(r.chain, null);
      assert.match(r.divergence!.field, e.field, `${e.what}: ${r.divergence!.message}`);
    }
  });
}

test('the replay names the record, the field, what the dialect answers and what the log records', () => {
  const lines = orbaxLines(scenarios('orbax-0.12.4', 'save_policies.jsonl')[0]);
  const log = fresh();
  serveLogged('orbax', lines, log);
  const recs = readRecords(log);
  const d = decisive(recs);
  const want = recs[d]!.answer.output.ops[0].path;
  recs[d]!.answer.output.ops[0].path = 'ckpt/999';
  writeRecords(log, rechain(recs));
  const r = ckpt(['audit', 'verify', log]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`first divergence: record ${d + 1} \\(line ${recs[d]!.line} of the orbax session\\): answer\\.output\\.ops\\[0\\]\\.path: the dialect answers ${want}, the log records ckpt/999`));
  assert.match(r.stdout, new RegExp(`expected: "${want}"`));
  assert.match(r.stdout, /recorded: "ckpt\/999"/);
});

test('a dialect log of several sessions (a restarted sidecar appends a segment) verifies; explain gives a line per decision; audit storage refuses it by name', () => {
  const log = fresh();
  const keras = kerasLines(scenarios('keras-3.15.1', 'best.jsonl')[0]);
  const a = serveLogged('keras', keras.slice(0, 6), log);
  // the second session resumes from the state the last answer carried
  const resume = JSON.stringify({ type: 'resume', state: a.at(-1)!.state });
  serveLogged('keras', [resume, ...keras.slice(6)], log);
  const r = verify(log);
  assert.equal(r.status, 'verified', JSON.stringify(r));
  assert.equal(r.segments, 2);
  const ex = ckpt(['audit', 'explain', log]);
  assert.equal(ex.code, 0, ex.stdout);
  assert.match(ex.stdout, /^#1 keras session starts/m);
  assert.match(ex.stdout, /^#\d+ line 1 init: /m);
  assert.match(ex.stdout, /^#\d+ line \d+ EpochEnded \(epoch \d+\): Save \S+\.keras/m);
  assert.match(ex.stdout, /^#\d+ line 1 resume: /m);
  assert.match(ex.stdout, /^#\d+ keras session ends: \d+ line\(s\)$/m);
  const st = ckpt(['audit', 'storage', log, tmp]);
  assert.equal(st.code, 2);
  assert.match(st.stdout, /records dialect sessions \(ckpt serve --dialect\)/);
});
