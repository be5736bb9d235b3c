/**
 * The transformers dialect's opt-in fixes behind the sidecar: an init line's `fixes` apply to every
 * later line and survive a resume through the answer's `state`; a bad fix name is a config error.
 * A small Trainer loop in the test carries out the effects on a folder model (folders with mtimes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { transformersDialect as hf, type TrainerSession } from '../src/sidecar/dialects/transformers.ts';
import type { FileEntry } from '../src/dialects/transformers/files.ts';
import { CKPT } from './helpers/cli.ts';

type Line = Record<string, unknown>;
type Effect = { type: string; path?: string };

const ARGS = { output_dir: 'out', max_steps: 8, save_strategy: 'steps', save_steps: 1, eval_strategy: 'steps', eval_steps: 1, save_total_limit: 1, load_best_model_at_end: true, metric_for_best_model: 'loss' };
/** eval_loss per step: the best (0.1) at step 2, never beaten, so transformers holds it beside the newest */
const LOSS = [0.5, 0.1, 0.4, 0.3, 0.6, 0.2, 0.7, 0.35];

/** Runs the loop; a `resumeAt` step re-creates the session from the answer's encoded state there. */
function run(fixes: object | undefined, resumeAt?: number): { most: number; final: string[]; removed: string[] } {
  const folders = new Map<string, number>();
  let time = 0;
  const files = (): FileEntry[] => [{ path: 'out', kind: 'dir', mtime: 0 }, ...[...folders].map(([path, mtime]) => ({ path, kind: 'dir' as const, mtime }))];
  let most = 0;
  const removed: string[] = [];
  let step = 0;
  const answer = (effects: readonly Effect[]): Line[] => {
    const next: Line[] = [];
    for (const e of effects) {
      if (e.type === 'evaluate') next.push({ type: 'evaluated', metrics: { eval_loss: LOSS[step - 1]! } });
      else if (e.type === 'readTrainerState') next.push({ type: 'trainerStateRead', state: null });
      else if (e.type === 'save') {
        folders.set(e.path!, time);
        next.push({ type: 'checkpointSaved', path: e.path!, time, files: files() });
      } else if (e.type === 'remove') {
        folders.delete(e.path!);
        removed.push(e.path!);
      }
    }
    return next;
  };
  const init: Line = { type: 'init', options: ARGS, setup: { trainBatches: 8, hasEvalDataset: true }, ...(fixes ? { fixes } : {}) };
  let [session, out] = hf.init(init);
  const feed = (first: Line) => {
    const queue: Line[] = [first];
    for (let l = queue.shift(); l; l = queue.shift()) {
      [session, out] = hf.step(session, l);
      queue.push(...answer(out.effects as Effect[]));
      most = Math.max(most, folders.size);
    }
  };
  for (const e of answer(out.effects as Effect[])) feed(e);
  feed({ type: 'trainBegan', time, files: files(), resumeFromCheckpoint: null });
  for (step = 1; step <= 8; step++) {
    time += 10;
    feed({ type: 'stepEnded', globalStep: step, epoch: step / 8, time });
    if (step === resumeAt) session = hf.state!.decode(JSON.parse(JSON.stringify(hf.state!.encode(session)))) as TrainerSession;
  }
  time += 10;
  feed({ type: 'trainEnded', time, files: files() });
  return { most, final: [...folders.keys()].sort(), removed };
}

test("without fixes the sidecar keeps transformers' two folders for save_total_limit=1; limitOneKeepsBest leaves one, and the same final folder", () => {
  const plain = run(undefined);
  const fixed = run({ limitOneKeepsBest: true });
  // at most: the best and the newest, plus the one being written before its rotation
  assert.equal(plain.most, 3);
  assert.equal(fixed.most, 2, 'a save that is not a new best is written, then removed by its own rotation');
  assert.deepEqual(plain.final, ['out/checkpoint-2']);
  assert.deepEqual(fixed.final, plain.final);
  // the same folders go, only sooner; the best never
  assert.deepEqual(fixed.removed, plain.removed);
  assert.ok(!fixed.removed.includes('out/checkpoint-2'), 'the best is never removed');
});

test('the fixes survive a resume through the encoded state (and a session without fixes encodes no fixes key)', () => {
  assert.deepEqual(run({ limitOneKeepsBest: true }, 4), run({ limitOneKeepsBest: true }));
  const [session] = hf.init({ type: 'init', options: ARGS, setup: { trainBatches: 8, hasEvalDataset: true } });
  assert.equal('fixes' in (hf.state!.encode(session) as object), false);
});

test('ckpt serve --dialect transformers: an unknown fix in the init line is refused, naming the allowed ones', () => {
  const line = JSON.stringify({ type: 'init', options: ARGS, setup: { trainBatches: 8, hasEvalDataset: true }, fixes: { keepAll: true } });
  const r = spawnSync(process.execPath, [...CKPT, 'serve', '--stdio', '--dialect', 'transformers'], { input: line + '\n', encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const answer = JSON.parse(r.stdout.trim().split('\n')[0]!);
  assert.match(JSON.stringify(answer), /unknown fix \\"keepAll\\"; allowed: saveNewBest, limitOneKeepsBest/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
