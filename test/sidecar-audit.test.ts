/**
 * `ckpt serve --stdio --decision-log PATH`: the sidecar appends every decision (and, in decide mode,
 * the outcomes the loop reports on outcome lines; in store mode, the outcomes of its own writes) to
 * a hash-chained decision log that `ckpt audit verify` replays and `ckpt audit storage` compares with
 * the checkpoint folder. Runs the real sidecar and CLI as child processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readRecords, rechain, writeRecords, type Rec } from './helpers/decision-log.ts';
import { encodeEvent } from '../src/core/eventCodec.ts';
import type { LoopEvent } from '../src/core/events.ts';
import { fitEvents } from '../src/core/loop.ts';
import { CKPT } from './helpers/cli.ts';


type Answer = Record<string, any>;

/** A sidecar child: send a line, get the next answer line. */
function sidecar(args: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [...CKPT, 'serve', '--stdio', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting: Array<(l: string) => void> = [];
  const early: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else early.push(l);
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    async send(line: string | object): Promise<Answer> {
      const text = typeof line === 'string' ? line : JSON.stringify(line);
      const p = new Promise<string>((r) => (early.length ? r(early.shift()!) : waiting.push(r)));
      child.stdin.write(text + '\n');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((_, rej) => (timer = setTimeout(() => rej(new Error(`no answer to ${text}; stderr: ${stderr}`)), 20_000)));
      try {
        return JSON.parse(await Promise.race([p, timeout]));
      } finally {
        clearTimeout(timer);
      }
    },
    kill: () => child.kill('SIGKILL'),
    /** ends stdin (the sidecar closes the decision log) and waits for the exit */
    async close(): Promise<{ code: number | null; stderr: string }> {
      child.stdin.end();
      return { code: await closed, stderr };
    },
  };
}

function ckpt(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CKPT, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');


/** Edits one record in a copy of the log, keeping its old hash: the chain breaks there. */
function tamperedCopy(log: string, edit: (recs: Rec[]) => void, rehash = false): string {
  const recs = readRecords(log);
  edit(recs);
  const copy = log.replace(/\.jsonl$/, `-tampered${rehash ? '-rehashed' : ''}.jsonl`);
  writeRecords(copy, rehash ? rechain(recs) : recs);
  return copy;
}

const CURVE = [0.9, 0.6, 0.75, 0.5, 0.55, 0.3, 0.45, 0.35];

/** The files in a checkpoint folder, as a setup event lists them. */
const listingOf = (dir: string) => (existsSync(dir) ? readdirSync(dir).map((name) => ({ path: join(dir, name), kind: 'file' as const })) : []);

/**
 * A loop in decide mode: carries out an answer's effects in `dir` and reports each one's outcome on
 * an outcome line (with the size and SHA-256 of what a save wrote). `fail` picks effects to report
 * as failed, leaving storage as it was.
 */
async function carryOut(s: ReturnType<typeof sidecar>, answer: Answer, fail: (e: Answer) => boolean = () => false): Promise<number> {
  assert.equal(answer.ok, true, JSON.stringify(answer));
  let reported = 0;
  for (const [index, e] of (answer.effects as Answer[]).entries()) {
    if (e.type === 'log') continue;
    let outcome: object = { status: 'done' };
    if (fail(e)) outcome = { status: 'failed', cause: `EACCES: permission denied, unlink '${e.path}'` };
    else if (e.type === 'save') {
      const bytes = Buffer.from(JSON.stringify({ weights: [answer.seq, index], ckpt_policy: answer.record }));
      mkdirSync(join(e.path, '..'), { recursive: true });
      writeFileSync(e.path, bytes);
      outcome = { status: 'done', size: bytes.length, sha256: sha256(bytes) };
    } else if (e.type === 'remove') unlinkSync(e.path);
    else if (e.type === 'link') {
      rmSync(e.path, { force: true });
      symlinkSync(e.relTarget, e.path);
    }
    const a = await s.send({ type: 'outcome', seq: answer.seq, index, ...outcome });
    assert.deepEqual([a.ok, a.type, a.seq, a.index, a.recorded], [true, 'outcome', answer.seq, index, true], JSON.stringify(a));
    reported++;
  }
  return reported;
}

test('decide mode: decisions and the outcomes the loop reports are logged across a Lightning resume and an exact resume; the log verifies and matches the folder', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ckpt-sidecar-audit-'));
  const dir = join(root, 'ckpts');
  const log = join(root, 'decisions.jsonl');
  const base = { dirpath: dir, monitor: 'val_loss', mode: 'min', save_last: true, filename: '{epoch}-{val_loss:.2f}' };
  const events = [...fitEvents({ epochs: CURVE.length, batchesPerEpoch: 2, valMetrics: (e) => ({ val_loss: CURVE[e]! }) })];
  const epochEnd = (epoch: number) => events.findIndex((e) => e.type === 'trainEpochEnded' && e.view.epoch === epoch);
  const send = (s: ReturnType<typeof sidecar>, ev: LoopEvent) => s.send(encodeEvent(ev) as object);
  const setupEvent = events[0]!;
  assert.equal(setupEvent.type, 'setup');

  // run 1: save_top_k=2, stopped after epoch 2
  const a = sidecar(['--options', JSON.stringify({ ...base, save_top_k: 2 }), '--cwd', root, '--decision-log', log]);
  t.after(() => a.kill());
  let record: unknown;
  let outcomes = 0;
  for (const ev of events.slice(0, epochEnd(2) + 1)) {
    const answer = await send(a, ev);
    assert.equal(typeof answer.seq, 'number');
    outcomes += await carryOut(a, answer);
    record = answer.record ?? record;
  }
  assert.deepEqual(await a.close(), { code: 0, stderr: '' });
  assert.ok(outcomes >= 4);

  // run 2: save_top_k=3 has the same state_key: Lightning's resume (setup, then the state dict loaded)
  const b = sidecar(['--options', JSON.stringify({ ...base, save_top_k: 3 }), '--cwd', root, '--decision-log', log]);
  t.after(() => b.kill());
  const rb = await b.send({ type: 'resume', record });
  assert.equal(rb.mode, 'lightning', JSON.stringify(rb));
  const setupB = await send(b, { ...setupEvent, files: listingOf(dir) });
  assert.equal(setupB.ok, true, JSON.stringify(setupB));
  assert.ok(setupB.best_model_path.startsWith(dir), 'the state dict is restored at setup');
  await carryOut(b, setupB);
  for (const ev of events.slice(epochEnd(2) + 1, epochEnd(5) + 1)) {
    const answer = await send(b, ev);
    await carryOut(b, answer);
    record = answer.record ?? record;
  }
  // the answer after the merged setup is numbered after both of its decisions
  assert.deepEqual(await b.close(), { code: 0, stderr: '' });

  // run 3: the same options: the exact state; one removal fails (the file stays)
  const c = sidecar(['--options', JSON.stringify({ ...base, save_top_k: 3 }), '--cwd', root, '--decision-log', log]);
  t.after(() => c.kill());
  const rc = await c.send({ type: 'resume', record });
  assert.equal(rc.mode, 'exact', JSON.stringify(rc));
  await carryOut(c, await send(c, { ...setupEvent, files: [] })); // the sidecar lists the files the run believed in
  let failed = 0;
  for (const ev of events.slice(epochEnd(5) + 1)) {
    await carryOut(c, await send(c, ev), (e) => e.type === 'remove' && failed++ === 0);
  }
  assert.equal(failed > 0, true, 'a removal was reported failed');
  assert.deepEqual(await c.close(), { code: 0, stderr: '' });

  const recs = readRecords(log);
  assert.deepEqual(recs.filter((r) => r.type === 'head').map((r) => [r.resumedFrom === null, 'state' in r]), [[true, false], [false, false], [false, true]]);
  const setupAt = recs.findIndex((r) => r.type === 'decision' && r.event.type === 'setup' && recs[recs.indexOf(r) - 1]!.resumedFrom !== null);
  assert.equal(recs[setupAt + 1]!.event.type, 'stateLoaded', 'the merged answer is two decisions in the log');
  assert.equal(recs[setupAt + 1]!.seq, recs[setupAt]!.seq + 1);
  const failedOutcome = recs.find((r) => r.type === 'outcome' && r.status === 'failed');
  assert.match(failedOutcome?.cause, /EACCES/);
  assert.ok(recs.some((r) => r.type === 'outcome' && r.effect === 'save' && typeof r.sha256 === 'string'));

  const v = ckpt(['audit', 'verify', log, '--json']);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  const report = JSON.parse(v.stdout);
  assert.equal(report.status, 'verified');
  assert.equal(report.segments, 3);
  assert.ok(report.observations.some((o: string) => /through Lightning's state_dict/.test(o)), report.observations.join('\n'));
  assert.ok(report.observations.some((o: string) => /resumed from .* with the state recorded after record \d+, which saved it/.test(o)), report.observations.join('\n'));

  const st = ckpt(['audit', 'storage', log, dir]);
  assert.equal(st.status, 0, st.stdout + st.stderr);

  // an edited record breaks the chain
  const edited = tamperedCopy(log, (rs) => {
    const d = rs.find((r) => r.type === 'decision' && r.event.type === 'trainEpochEnded')!;
    d.event.view.metrics.val_loss = 0.01;
  });
  const t1 = ckpt(['audit', 'verify', edited]);
  assert.equal(t1.status, 1, t1.stdout);
  assert.match(t1.stdout, /chain broken/);
  // a forger who recomputes the chain still cannot change a decision: the replay disagrees
  const forged = tamperedCopy(
    log,
    (rs) => {
      const d = rs.find((r) => r.type === 'decision' && r.effects.some((e: Rec) => e.type === 'remove'))!;
      d.effects = d.effects.filter((e: Rec) => e.type !== 'remove');
    },
    true,
  );
  const t2 = ckpt(['audit', 'verify', forged]);
  assert.equal(t2.status, 1, t2.stdout);
  assert.match(t2.stdout, /chain: intact/);
  assert.match(t2.stdout, /first divergence: record \d+ .*effects\[\d\]/);
});

test('store mode: the runtime\'s decisions and outcomes (with sizes and checksums) are logged; verify and the storage audit pass, and catch a tampered record and a deleted file', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ckpt-sidecar-audit-store-'));
  const dir = join(root, 'ckpts');
  mkdirSync(dir);
  const staging = mkdtempSync(join(tmpdir(), 'ckpt-sidecar-audit-staging-'));
  const log = join(root, 'decisions.jsonl');
  const s = sidecar(['--store', dir, '--options', JSON.stringify({ monitor: 'val_loss', save_top_k: 2, save_last: 'link' }), '--cwd', root, '--decision-log', log]);
  t.after(() => s.kill());
  const events = [...fitEvents({ epochs: 5, batchesPerEpoch: 2, valMetrics: (e) => ({ val_loss: CURVE[e]! }) })];
  let payloads = 0;
  for (const ev of events) {
    const answer = await s.send(encodeEvent(ev) as object);
    assert.equal(answer.ok, true, JSON.stringify(answer));
    if (answer.awaiting !== 'payload') continue;
    const file = join(staging, `payload-${payloads++}.bin`);
    writeFileSync(file, `weights after ${ev.type} at step ${'view' in ev ? ev.view?.globalStep : '?'}`);
    const done = await s.send({ type: 'payload', file });
    assert.equal(done.ok, true, JSON.stringify(done));
    assert.ok(done.outcomes.length > 0 && done.outcomes.every((o: Answer) => o.status === 'done'), JSON.stringify(done));
  }
  assert.ok(payloads >= 3);
  // the loop does not report outcomes in store mode: the sidecar does
  const refused = await s.send({ type: 'outcome', seq: 2, index: 0, status: 'done' });
  assert.equal(refused.error.kind, 'order');
  assert.match(refused.error.message, /outcome lines are for decide mode/);
  assert.deepEqual(await s.close(), { code: 0, stderr: '' });

  const recs = readRecords(log);
  assert.deepEqual([recs[0]!.type, recs.at(-1)!.type], ['head', 'close']);
  assert.equal(recs.at(-1)!.unsettled, 0);
  const saves = recs.filter((r) => r.type === 'outcome' && r.effect === 'save');
  assert.ok(saves.length >= 3 && saves.every((r) => r.status === 'done' && typeof r.size === 'number' && /^[0-9a-f]{64}$/.test(r.sha256)));
  assert.ok(recs.some((r) => r.type === 'outcome' && r.effect === 'link'));
  assert.ok(recs.some((r) => r.type === 'outcome' && r.effect === 'remove'));

  const v = ckpt(['audit', 'verify', log]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /result: verified/);
  const st = ckpt(['audit', 'storage', log, dir]);
  assert.equal(st.status, 0, st.stdout + st.stderr);
  assert.doesNotMatch(st.stdout, /not checked/);

  const tampered = tamperedCopy(log, (rs) => {
    const o = rs.find((r) => r.type === 'outcome' && r.effect === 'save')!;
    o.size += 1;
  });
  const t1 = ckpt(['audit', 'verify', tampered]);
  assert.equal(t1.status, 1, t1.stdout);
  assert.match(t1.stdout, /result: tampered/);

  // a checkpoint deleted behind the log's back is drift
  const kept = readdirSync(dir).find((n) => n !== 'last.ckpt')!;
  unlinkSync(join(dir, kept));
  const drift = ckpt(['audit', 'storage', log, dir]);
  assert.equal(drift.status, 1, drift.stdout);
  assert.match(drift.stdout, new RegExp(`missing.*${kept.replace(/[.=]/g, '\\$&')}`));
});

test('outcome lines are checked: bad shapes, unknown answers and effects, log lines and repeats get an error line, and serving goes on', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ckpt-sidecar-audit-lines-'));
  const log = join(root, 'decisions.jsonl');
  const s = sidecar(['--options', JSON.stringify({ dirpath: '/ckpts', monitor: 'val_loss', save_top_k: 1, verbose: true }), '--cwd', root, '--decision-log', log]);
  t.after(() => s.kill());
  const setup = await s.send({ type: 'setup', files: [] });
  assert.equal(setup.seq, 1);
  const first = await s.send({ type: 'trainEpochEnded', view: { epoch: 0, globalStep: 4, metrics: { val_loss: 0.5 } } });
  const second = await s.send({ type: 'trainEpochEnded', view: { epoch: 1, globalStep: 8, metrics: { val_loss: 0.4 } } });
  assert.deepEqual([first.seq, second.seq], [2, 3]);
  const types = second.effects.map((e: Answer) => e.type);
  const removeAt = types.indexOf('remove');
  const saveAt = types.indexOf('save');
  const logAt = types.indexOf('log');
  assert.ok(removeAt >= 0 && saveAt >= 0 && logAt >= 0, types.join());

  const expectError = async (line: object | string, kind: string, message: RegExp) => {
    const a = await s.send(line);
    assert.equal(a.ok, false, JSON.stringify(a));
    assert.equal(a.error.kind, kind, JSON.stringify(a));
    assert.match(a.error.message, message);
  };
  await expectError({ type: 'outcome', seq: 3, index: saveAt }, 'shape', /status: got undefined, expected "done" or "failed"/);
  await expectError({ type: 'outcome', seq: 3, index: saveAt, status: 'ok' }, 'shape', /status: got "ok"/);
  await expectError({ type: 'outcome', seq: '3', index: saveAt, status: 'done' }, 'shape', /seq: got "3", expected a non-negative integer/);
  await expectError({ type: 'outcome', seq: 3, index: -1, status: 'done' }, 'shape', /index: got -1/);
  await expectError({ type: 'outcome', seq: 3, index: removeAt, status: 'failed' }, 'shape', /cause: .*required with status "failed"/);
  await expectError({ type: 'outcome', seq: 3, index: saveAt, status: 'done', size: 10 }, 'shape', /sha256: got undefined, expected it with size/);
  await expectError({ type: 'outcome', seq: 3, index: saveAt, status: 'done', size: 10, sha256: 'abc' }, 'shape', /sha256: got "abc", expected a SHA-256/);
  await expectError({ type: 'outcome', seq: 3, index: removeAt, status: 'done', size: 1, sha256: 'a'.repeat(64) }, 'shape', /is a remove; only a save/);
  await expectError({ type: 'outcome', seq: 9, index: 0, status: 'done' }, 'order', /seq=9 names no answer: the latest answer is seq=3/);
  await expectError({ type: 'outcome', seq: 1, index: 0, status: 'done' }, 'order', /answer seq=1 awaits no outcomes/);
  await expectError({ type: 'outcome', seq: 3, index: 17, status: 'done' }, 'order', /index=17 is not an effect of answer seq=3: it has \d+ effect/);
  await expectError({ type: 'outcome', seq: 3, index: logAt, status: 'done' }, 'order', /is a log line: it has no outcome/);
  assert.equal((await s.send({ type: 'outcome', seq: 3, index: removeAt, status: 'failed', cause: 'busy' })).ok, true);
  await expectError({ type: 'outcome', seq: 3, index: removeAt, status: 'done' }, 'order', /already has an outcome/);
  // a resume is for the start of a run
  await expectError({ type: 'resume', record: {} }, 'order', /resume after the run started/);

  // still serving, and the log holds exactly the accepted outcome
  const firstSaveAt = first.effects.findIndex((e: Answer) => e.type === 'save');
  assert.equal((await s.send({ type: 'outcome', seq: 2, index: firstSaveAt, status: 'done', size: 10, sha256: 'a'.repeat(64) })).ok, true);
  assert.deepEqual(await s.close(), { code: 0, stderr: '' });
  const outcomes = readRecords(log).filter((r) => r.type === 'outcome');
  assert.deepEqual(
    outcomes.map((r) => [r.seq, r.index, r.effect, r.status, r.cause ?? r.sha256 ?? null]),
    [
      [3, removeAt, 'remove', 'failed', 'busy'],
      [2, firstSaveAt, 'save', 'done', 'a'.repeat(64)],
    ],
  );
  const v = ckpt(['audit', 'verify', log]);
  assert.equal(v.status, 0, v.stdout);

  // without a decision log, outcome lines are still checked, and answered as not recorded
  const plain = sidecar(['--options', JSON.stringify({ dirpath: '/ckpts', monitor: 'val_loss', save_top_k: 1 })]);
  t.after(() => plain.kill());
  await plain.send({ type: 'setup', files: [] });
  const d = await plain.send({ type: 'trainEpochEnded', view: { epoch: 0, globalStep: 4, metrics: { val_loss: 0.5 } } });
  const ok = await plain.send({ type: 'outcome', seq: d.seq, index: 0, status: 'done' });
  assert.deepEqual([ok.ok, ok.recorded], [true, false]);
  assert.equal((await plain.close()).code, 0);
});

test('--decision-log: a file that is not a decision log is refused before serving', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ckpt-sidecar-audit-bad-'));
  const bad = join(root, 'notes.txt');
  writeFileSync(bad, 'not a log\n');
  const r = spawnSync(process.execPath, [...CKPT, 'serve', '--stdio', '--decision-log', bad, '--options', '{"monitor":"loss"}'], { input: '', encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--decision-log: cannot append to decision log .*notes\.txt: its last line is not JSON/);
  assert.equal(readFileSync(bad, 'utf8'), 'not a log\n');
});

test('a decision log that cannot append: the decision is refused with kind "log", and the sidecar exits 1', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async () => {
  const s = sidecar(['--options', JSON.stringify({ dirpath: '/ckpts', monitor: 'val_loss' }), '--decision-log', '/dev/full']);
  const a = await s.send({ type: 'setup', files: [] });
  assert.equal(a.ok, false);
  assert.equal(a.error.kind, 'log');
  assert.match(a.error.message, /^decision log \/dev\/full: appending record 1 failed \(ENOSPC.*\); the log accepts no more records$/);
  const next = await s.send({ type: 'trainEpochEnded', view: { epoch: 0, globalStep: 4, metrics: { val_loss: 0.5 } } });
  assert.match(next.error.message, /before setup/, 'the refused setup did not count');
  const { code, stderr } = await s.close();
  assert.equal(code, 1);
  assert.match(stderr, /ckpt serve: decision log \/dev\/full: appending record 1 failed/);
});
