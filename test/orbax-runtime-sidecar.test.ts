/**
 * `ckpt serve --stdio --dialect orbax --store DIR` as a JAX loop drives it, in its own process:
 * the answers are the pure manager's decisions on the same calls, the folder holds exactly the
 * kept steps with the bytes the loop sent, a second process continues from the folder, and bad
 * lines are answered with errors naming the field (nothing written, nothing deleted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reduce, start, type Call } from '../src/dialects/orbax/index.ts';
import { jsonLine } from '../src/cli/serve.ts';
import { CKPT, STACK } from './helpers/cli.ts';

type Answer = Record<string, unknown> & { line: number; ok: boolean };

function serve(store: string, lines: readonly object[], extra: readonly string[] = []): { answers: Answer[]; code: number; stderr: string } {
  const r = spawnSync(process.execPath, [...CKPT, 'serve', '--stdio', '--dialect', 'orbax', '--store', store, ...extra], {
    input: lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return { answers: r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Answer), code: r.status ?? -1, stderr: r.stderr };
}

const wire = (v: unknown): unknown => JSON.parse(jsonLine(v));
const OPTIONS = { max_to_keep: 2, best_fn: { metric: 'loss' }, best_mode: 'min', enable_async_checkpointing: false };

test("store mode: every answer is the pure manager's on the same calls, and the folder holds the kept steps with the loop's bytes", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-orbax-sidecar-'));
  try {
    const store = join(dir, 'run');
    const losses = [0.9, 0.4, 0.7, 0.3, 0.8, 0.5];
    const calls: Array<Record<string, unknown>> = [];
    let t = 1_700_000_000;
    for (const [step, loss] of losses.entries()) {
      const file = join(dir, `state-${step}.bin`);
      writeFileSync(file, `params of step ${step}`);
      calls.push({ call: 'save', step, t: ++t, metrics: { loss }, items: { state: file } });
    }
    calls.push({ call: 'best_step', t: ++t }, { call: 'should_save', step: 5, t: ++t }, { call: 'close', t: ++t });
    const { answers, code, stderr } = serve(store, [{ type: 'init', options: OPTIONS, t: 1_700_000_000 }, ...calls]);
    assert.equal(code, 0, stderr);
    assert.ok(answers.every((a) => a.ok), JSON.stringify(answers.find((a) => !a.ok)));
    // the same calls through the pure manager, on the folder as the sidecar names it
    let [state, init] = start({ options: OPTIONS, clock: { save_seconds: 0 }, t: 1_700_000_000, entries: [{ path: 'run', kind: 'dir', files: [] }], directory: 'run', rootLabel: dirname(store) });
    assert.deepEqual(answers[0]!.logs, wire(init.logs));
    for (const [i, c] of calls.entries()) {
      const { items: _items, ...call } = c;
      const [next, out] = reduce(state!, call as Call);
      state = next;
      const a = answers[i + 1]!;
      assert.deepEqual((a.outputs as Array<{ output: unknown }>)[0]!.output, wire(out), JSON.stringify(c));
      assert.deepEqual(a.kept, out.kept);
      if (c.call !== 'close') assert.deepEqual(a.result, out.result);
    }
    assert.equal(answers.at(-3)!.result, 3);
    const kept = answers.at(-1)!.kept as number[];
    assert.deepEqual(kept, [1, 3]);
    assert.deepEqual(readdirSync(store).filter((f) => !f.startsWith('.ckpt-policy-lease')).sort(), ['1', '3']);
    assert.equal(readFileSync(join(store, '3', 'state'), 'utf8'), 'params of step 3');
    assert.equal(readFileSync(join(store, '3', 'metrics', 'metrics'), 'utf8'), '{"loss":0.3}');

    // a second process continues from the folder, and restores a step's items to files
    const out = join(dir, 'restored');
    const again = serve(store, [
      { type: 'init', options: OPTIONS },
      { call: 'all_steps' },
      { call: 'best_step' },
      { call: 'save', step: 2, metrics: { loss: 0.1 }, items: { state: join(dir, 'state-0.bin') } },
      { call: 'restore', step: 3, to: out },
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(again.answers.map((a) => a.result ?? null), [null, [1, 3], 3, false, null]);
    assert.deepEqual(again.answers[4]!.files, { state: join(out, 'state') });
    assert.equal(readFileSync(join(out, 'state'), 'utf8'), 'params of step 3');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store mode: bad lines are answered with errors naming the field; an unreadable item file fails that save and deletes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-orbax-sidecar-'));
  try {
    const store = join(dir, 'run');
    const file = join(dir, 'state.bin');
    writeFileSync(file, 'bytes');
    const { answers, code } = serve(store, [
      { call: 'save', step: 1 },
      { type: 'init', options: { max_to_keep: 1, enable_async_checkpointing: false } },
      { call: 'save', step: 1, items: { state: file } },
      { call: 'save', step: 2, items: { state: join(dir, 'missing.bin') } },
      { call: 'save', step: 'three' },
      { call: 'save', step: 3, item: {} },
      { call: 'save', step: 3, items: { '../up': file } },
      { call: 'snapshot' },
      { call: 'delete', step: 7 },
      { type: 'init', options: {} },
    ]);
    assert.equal(code, 0);
    const errors = answers.map((a) => (a.ok ? null : (a.error as { kind: string; message: string })));
    assert.equal(errors[0]!.kind, 'order');
    assert.match(errors[0]!.message, /save before init/);
    assert.equal(errors[1], null);
    assert.equal(errors[2], null);
    assert.equal(errors[3]!.kind, 'raised');
    assert.match(errors[3]!.message, /WriteFailure: .*item state: cannot read .*missing\.bin/);
    assert.deepEqual(answers[3]!.kept, [1], 'step 1 is kept: the failed write removed nothing');
    assert.match(errors[4]!.message, /step/);
    assert.match(errors[5]!.message, /"item" is not a field/);
    assert.match(errors[6]!.message, /item name "\.\.\/up" is not allowed/);
    assert.match(errors[7]!.message, /call="snapshot" is not allowed: expected call \(one of save, should_save/);
    assert.equal((errors[8] as unknown as { kind: string }).kind, 'raised');
    assert.match(errors[8]!.message, /FileNotFoundError: Requested deleting a non-existent step: 7/);
    assert.match(errors[9]!.message, /the manager is open already/);
    for (const a of answers) assert.doesNotMatch(JSON.stringify(a), STACK);
    assert.deepEqual(readdirSync(store).filter((f) => !f.startsWith('.ckpt-policy-lease')), ['1']);
    assert.deepEqual(readdirSync(dir).sort(), ['run', 'state.bin'], 'nothing written outside the store');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--store is refused for the other dialects, and with --decision-log for orbax, with a clear message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-orbax-sidecar-'));
  try {
    const r = spawnSync(process.execPath, [...CKPT, 'serve', '--stdio', '--dialect', 'keras', '--store', dir], { input: '', encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--store cannot be used with --dialect keras/);
    const l = spawnSync(process.execPath, [...CKPT, 'serve', '--stdio', '--dialect', 'orbax', '--store', dir, '--decision-log', join(dir, 'log')], { input: '', encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    assert.equal(l.status, 2);
    assert.match(l.stderr, /--decision-log cannot be used with --dialect orbax --store/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const python = spawnSync('python3', ['--version']).status === 0;

test('examples/python/orbax_store_loop.py: the folder holds exactly the kept steps, the restored best is the loop\'s own state, a rerun continues from the latest step', { skip: python ? false : 'python3 is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-orbax-py-'));
  try {
    const script = fileURLToPath(new URL('../examples/python/orbax_store_loop.py', import.meta.url));
    const run = (steps: string, transcript: string) => {
      const r = spawnSync('python3', [script, '--dir', join(dir, 'run'), '--steps', steps, '--transcript', transcript], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', CKPT_COMMAND: JSON.stringify([process.execPath, ...CKPT]) } });
      assert.equal(r.status, 0, r.stderr);
      const sent = readFileSync(transcript, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sent: Record<string, unknown>; answer: Answer });
      return { summary: JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { best_step: number; best_params: { step: number }; kept: number[]; folders: string[] }, sent };
    };
    const first = run('12', join(dir, 't1.jsonl'));
    assert.deepEqual(first.summary.kept, [8, 10]);
    assert.deepEqual(first.summary.folders, ['10', '8']);
    assert.equal(first.summary.best_params.step, first.summary.best_step);
    // only the steps Orbax's rules save were serialised and sent
    assert.deepEqual(first.sent.filter((l) => l.sent.call === 'save').map((l) => l.sent.step), [0, 2, 4, 6, 8, 10]);
    const second = run('5', join(dir, 't2.jsonl'));
    const saves = second.sent.filter((l) => l.sent.call === 'save');
    assert.deepEqual(saves.map((l) => l.sent.step), [12, 14], 'the rerun starts after the latest committed step');
    assert.deepEqual(second.summary.folders, second.summary.kept.map(String).sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
