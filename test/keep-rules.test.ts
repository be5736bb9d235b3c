/** Composable retention, example by example: what is written, kept, released, and the notes that say why. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitEvents, init, parseConfig, reduce, type Effect, type FitPlan, type Note } from '../src/core/index.ts';
import { explainNote } from '../src/audit/explain.ts';
import { explainReason } from '../src/core/explain.ts';

function run(options: Record<string, unknown>, scores: readonly number[], trainer?: FitPlan['trainer']) {
  let [s] = init(parseConfig({ dirpath: '/c', monitor: 'val_loss', filename: '{epoch}', ...options }), { cwd: '/' });
  const effects: Effect[] = [];
  const notes: Note[] = [];
  for (const e of fitEvents({ epochs: scores.length, batchesPerEpoch: 1, valMetrics: (ep) => ({ val_loss: scores[ep]! }), ...(trainer ? { trainer } : {}) })) {
    const [next, fx, ns] = reduce(s, e);
    effects.push(...fx);
    notes.push(...ns);
    s = next;
  }
  const disk = new Set<string>();
  for (const e of effects) if (e.type === 'save') disk.add(e.path);
  for (const e of effects) if (e.type === 'remove') disk.delete(e.path);
  return { state: s, effects, notes, disk: [...disk].map((p) => p.slice('/c/'.length)).sort() };
}

test('best 1 by val_loss and the latest 2: the best stays while the latest roll', () => {
  const r = run({ save_top_k: 1, keep_latest: 2 }, [0.5, 0.1, 0.4, 0.3, 0.6]);
  assert.deepEqual(r.disk, ['epoch=1.ckpt', 'epoch=3.ckpt', 'epoch=4.ckpt']);
  // epoch 2 and 3 were not admitted to the top 1, yet written because keep_latest wants them
  const kept = r.effects.filter((e): e is Extract<Effect, { type: 'save' }> => e.type === 'save' && e.reason.rule === 'kept');
  assert.deepEqual(kept.map((e) => e.path), ['/c/epoch=2.ckpt', '/c/epoch=3.ckpt', '/c/epoch=4.ckpt']);
  assert.match(explainReason(kept[0]!.reason), /kept by keep_latest/);
  // epoch 0 was displaced from the top 1 at epoch 1 but still among the latest 2: a keptBy note, no removal then
  const keptBy = r.notes.filter((n): n is Extract<Note, { kind: 'keptBy' }> => n.kind === 'keptBy');
  assert.deepEqual(keptBy[0], { kind: 'keptBy', path: '/c/epoch=0.ckpt', released: 'topK', members: ['latest'] });
  assert.match(explainNote(keptBy[0]!, { epoch: 1, step: 2, acted: true }), /save_top_k let go of \/c\/epoch=0.ckpt, but keep_latest still keeps it/);
  // epoch 1 left the latest 2 at epoch 3 but is the best: kept by top-k
  assert.ok(keptBy.some((n) => n.path === '/c/epoch=1.ckpt' && n.released === 'latest' && n.members.includes('topK')));
  const released = r.effects.filter((e) => e.type === 'remove' && e.reason.rule === 'released');
  assert.deepEqual(released.map((e) => e.type === 'remove' && e.path), ['/c/epoch=0.ckpt', '/c/epoch=2.ckpt']);
});

test('a file another member keeps gets its keptBy note even where Lightning would not remove it (the resumed-from file)', () => {
  // as in the first example, epoch 1 leaves the latest 2 at epoch 3 and top-1 still keeps it; here it is also ckpt_path
  const r = run({ save_top_k: 1, keep_latest: 2 }, [0.5, 0.1, 0.4, 0.3, 0.6], { ckptPath: '/c/epoch=1.ckpt' });
  const keptBy = r.notes.filter((n): n is Extract<Note, { kind: 'keptBy' }> => n.kind === 'keptBy');
  assert.ok(keptBy.some((n) => n.path === '/c/epoch=1.ckpt' && n.released === 'latest' && n.members.includes('topK')));
  assert.ok(r.disk.includes('epoch=1.ckpt'));
});

test('a name written again is the new file: no release of it, no keptBy note, nothing removed', () => {
  // one name for every save: top-1 replaces its own file at the same path (the counter exempts it)
  const r = run({ save_top_k: 1, keep_latest: 2, filename: 'model' }, [0.5, 0.4, 0.3]);
  assert.deepEqual(r.disk, ['model.ckpt']);
  assert.ok(!r.effects.some((e) => e.type === 'remove'), 'the file being rewritten is never removed');
  assert.ok(!r.notes.some((n) => n.kind === 'keptBy'), 'nor explained as kept by another member');
});

test('every n-th step is kept beside the best k, and save_top_k=0 with keep_every_n_steps keeps only those', () => {
  const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
  const r = run({ save_top_k: 1, keep_every_n_steps: 3 }, scores);
  assert.deepEqual(r.disk, ['epoch=2.ckpt', 'epoch=5.ckpt', 'epoch=6.ckpt']);
  const zero = run({ save_top_k: 0, keep_every_n_steps: 2 }, scores);
  assert.deepEqual(zero.disk, ['epoch=1.ckpt', 'epoch=3.ckpt', 'epoch=5.ckpt']);
  assert.ok(zero.notes.some((n) => n.kind === 'topKZero'));
});

test('without keep_* options the policy is Lightning: a displaced file goes at once', () => {
  const r = run({ save_top_k: 1 }, [0.5, 0.1, 0.4]);
  assert.deepEqual(r.disk, ['epoch=1.ckpt']);
  assert.ok(!r.notes.some((n) => n.kind === 'keptBy'));
});

test("tie_break: Lightning's first keeps the first of equal scores; latest lets the newest displace it and be best", () => {
  const first = run({ save_top_k: 1 }, [0.3, 0.3, 0.3]);
  assert.deepEqual(first.disk, ['epoch=0.ckpt']);
  assert.equal(first.notes.filter((n) => n.kind === 'rejected').length, 2);
  const latest = run({ save_top_k: 1, tie_break: 'latest' }, [0.3, 0.3, 0.3]);
  assert.deepEqual(latest.disk, ['epoch=2.ckpt']);
  assert.equal(latest.state.bestModelPath, '/c/epoch=2.ckpt');
  const all = run({ save_top_k: -1, tie_break: 'latest' }, [0.3, 0.2, 0.2, 0.5]);
  assert.equal(all.state.bestModelPath, '/c/epoch=2.ckpt');
  assert.equal(run({ save_top_k: -1 }, [0.3, 0.2, 0.2, 0.5]).state.bestModelPath, '/c/epoch=1.ckpt');
});

test('the keep_* options decode under both names and are refused with their allowed values', () => {
  assert.deepEqual(parseConfig({ keepLatest: 2, tieBreak: 'latest' }), parseConfig({ keep_latest: 2, tie_break: 'latest' }));
  assert.throws(() => parseConfig({ keep_latest: 0 }), /keep_latest=0 is not allowed: expected a positive integer or null/);
  assert.throws(() => parseConfig({ tie_break: 'newest' }), /expected "first" or "latest"/);
});
