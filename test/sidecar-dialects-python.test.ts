/**
 * examples/python/{keras,orbax,trainer}_loop.py, run with the machine's python3 against
 * `ckpt serve --stdio --dialect NAME` (from the TypeScript sources): each answer the loop got equals
 * what the dialect's reducer, driven directly here on the lines the loop sent, decides; and the
 * folder the loop leaves holds exactly the checkpoints those decisions keep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonLine } from '../src/cli/serve.ts';
import { init as kerasInit, parseOptions, reduce as kerasReduce, type KerasEvent } from '../src/dialects/keras/index.ts';
import { reduce as orbaxReduce, start, type Call } from '../src/dialects/orbax/index.ts';
import { init as hfInit, parseTrainingArguments, reduce as hfReduce, type HfEvent } from '../src/dialects/transformers/index.ts';
import { CKPT } from './helpers/cli.ts';

type Line = { sent: Record<string, unknown>; answer: Record<string, unknown> & { ok: boolean } };

/** What crosses the wire: NaN and ±Infinity as the sidecar writes them. */
const wire = (v: unknown): unknown => JSON.parse(jsonLine(v));

function run(example: string, args: string[]): { lines: Line[]; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), `ckpt-${example}-`));
  const transcript = join(dir, 'transcript.jsonl');
  const script = fileURLToPath(new URL(`../examples/python/${example}.py`, import.meta.url));
  const r = spawnSync('python3', [script, ...args.map((a) => a.replace('$DIR', join(dir, 'run'))), '--transcript', transcript], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', CKPT_COMMAND: JSON.stringify([process.execPath, ...CKPT]) },
  });
  assert.equal(r.status, 0, r.stderr);
  const lines = readFileSync(transcript, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
  for (const l of lines) assert.ok(l.answer.ok, JSON.stringify(l.answer));
  return { lines, stdout: r.stdout.trim().split('\n').at(-1)! };
}

test('keras_loop.py: every answer is the Keras reducer\'s decision on the same events; the folder holds the saves', () => {
  const { lines, stdout } = run('keras_loop', ['--dir', '$DIR', '--epochs', '6']);
  const [first, ...rest] = lines;
  const c = parseOptions(first!.sent.options);
  assert.equal(c._tag, 'Constructed');
  let [state, effects] = kerasInit(c as Extract<typeof c, { _tag: 'Constructed' }>);
  assert.deepEqual(first!.answer.effects, wire(effects));
  const saved = new Set<string>();
  for (const l of rest) {
    [state, effects] = kerasReduce(state, l.sent as KerasEvent);
    assert.deepEqual(l.answer.effects, wire(effects), JSON.stringify(l.sent));
    assert.deepEqual(l.answer.state, wire(state));
    for (const e of effects) if (e._tag === 'Save') saved.add(e.filepath.split('/').at(-1)!);
  }
  const summary = JSON.parse(stdout);
  assert.ok(saved.size >= 2 && saved.size < 6, `save_best_only skips some epochs: ${[...saved]}`);
  assert.deepEqual(summary.files, [...saved].sort());
  assert.equal(summary.best, state.best);
});

test('orbax_loop.py: every output is the Orbax manager\'s on the same calls; a restart from the listing continues it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-orbax-root-'));
  for (const steps of ['12', '5']) {
    const { lines, stdout } = run('orbax_loop', ['--dir', dir, '--steps', steps]);
    const [first, ...rest] = lines;
    const s = first!.sent as { options: unknown; t: number; entries: never[]; root: string };
    let [state, out] = start({ options: s.options, clock: { save_seconds: 0 }, t: s.t, entries: s.entries, rootLabel: s.root });
    assert.ok(state !== null);
    assert.deepEqual(first!.answer.output, wire(out));
    let kept: number[] = [];
    for (const l of rest) {
      const [next, o] = orbaxReduce(state!, l.sent as Call);
      state = next;
      assert.deepEqual(l.answer.output, wire(o), JSON.stringify(l.sent));
      kept = o.kept;
    }
    const summary = JSON.parse(stdout);
    assert.equal(kept.length, 2);
    assert.deepEqual(summary.folders, kept.map(String).sort());
    assert.deepEqual(readdirSync(join(dir, 'ckpt')).sort(), kept.map(String).sort());
  }
});

test('trainer_loop.py: every answer is the Trainer reducer\'s decision on the same events; rotation spares the best', () => {
  const { lines, stdout } = run('trainer_loop', ['--dir', '$DIR']);
  const [first, ...rest] = lines;
  const setup = first!.sent.setup as { trainBatches: number; hasEvalDataset: boolean };
  let [state, effects] = hfInit(parseTrainingArguments(first!.sent.options), { cwd: '', files: [], ...setup });
  assert.deepEqual(first!.answer.effects, wire(effects));
  const folders = new Set<string>();
  for (const l of rest) {
    [state, effects] = hfReduce(state, l.sent as HfEvent);
    assert.deepEqual(l.answer.effects, wire(effects), JSON.stringify(l.sent));
    assert.deepEqual(l.answer.state, wire(state));
    for (const e of effects) {
      if (e.type === 'save') folders.add(e.path);
      if (e.type === 'remove') folders.delete(e.path);
    }
  }
  const summary = JSON.parse(stdout);
  assert.equal(summary.best_model_checkpoint, 'out/checkpoint-6');
  assert.deepEqual(summary.checkpoints, [...folders].map((p) => p.slice('out/'.length)).sort());
  assert.ok(folders.has('out/checkpoint-6') && folders.size === 2, [...folders].join());
});
