/**
 * The notes of decisions not to act, checked against Lightning's own conformance traces: every
 * hook where Lightning did nothing must get a reason; every hook where verbose Lightning logged
 * "was not in top k" must be a top-k rejection (or a missing monitor) with the numbers Lightning
 * compared; and no note may contradict what the hook did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { decodeOptions, validateConfig } from '../src/core/config.ts';
import { parseScenarios, type THook, type TScenario } from '../src/conformance/trace.ts';
import { applyEffects, preexistingTree, ROOT, traceEvent } from '../src/conformance/replay.ts';
import type { LoopEvent } from '../src/core/events.ts';
import { init, reduce } from '../src/core/reduce.ts';
import { parseConfig } from '../src/core/config.ts';
import { NOTE_KINDS, type Note } from '../src/core/notes.ts';
import { explainNote } from '../src/audit/explain.ts';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/conformance/lightning-2.6.2');
interface HookCase {
  readonly id: string;
  readonly hook: THook;
  readonly notes: readonly Note[];
  readonly verbose: boolean;
  readonly mode: 'min' | 'max';
  readonly versionCounter: boolean;
}

/** Every hook of every scenario, with the notes the reducer returns for it. */
function hookCases(): HookCase[] {
  const out: HookCase[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.jsonl')).sort()) {
    for (const s of parseScenarios(readFileSync(join(dir, f), 'utf8'), f) as TScenario[]) {
      let tree = preexistingTree(s);
      s.phases.forEach((p, pi) => {
        const decoded = decodeOptions(p.kwargs);
        if (E.isLeft(decoded) || validateConfig(decoded.right).length > 0 || p.init_error !== null) return;
        const config = decoded.right;
        let [state] = init(config, { cwd: ROOT });
        p.hooks.forEach((h, hi) => {
          const event = traceEvent(h, p.trainer!, tree);
          const [next, effects, notes] = reduce(state, event);
          tree = applyEffects(tree, effects);
          out.push({ id: `${s.id} phase ${pi} hook #${hi} (${h.hook})`, hook: h, notes, verbose: config.verbose, mode: config.mode, versionCounter: config.enableVersionCounter });
          state = next;
        });
      });
    }
  }
  return out;
}

const cases = hookCases();
const NOT_IN_TOP_K = /^Epoch (\d+), global step (\d+): '(.*)' was not in top (-?\d+)$/;

test('the traces give enough hooks to mean something (rejections, skips, idle hooks)', () => {
  assert.ok(cases.length > 5000, `${cases.length} hooks`);
  assert.ok(cases.filter((c) => c.notes.some((n) => n.kind === 'rejected')).length >= 60);
  assert.ok(cases.filter((c) => c.hook.messages.some((m) => NOT_IN_TOP_K.test(m.message))).length >= 90);
});

test('every hook where Lightning did nothing gets at least one reason, and only then "nothing saved"', () => {
  const silent = cases.filter((c) => c.hook.ops.length === 0 && c.hook.error === undefined);
  assert.ok(silent.length > 3000);
  for (const c of silent) {
    assert.ok(c.notes.length > 0, `${c.id}: no reason for doing nothing`);
    assert.ok(!c.notes.some((n) => n.kind === 'raised'), `${c.id}: 'raised' without an error`);
  }
  for (const c of cases.filter((x) => x.hook.error !== undefined)) {
    assert.deepEqual(c.notes.map((n) => n.kind), ['raised'], c.id);
    const note = c.notes[0]!;
    assert.equal(note.kind === 'raised' && note.errorType, c.hook.error!.type, c.id);
  }
});

test("every verbose 'was not in top k' is a top-k rejection with the numbers Lightning compared, and every rejection is one", () => {
  let matched = 0;
  for (const c of cases) {
    const logged = c.hook.messages.map((m) => NOT_IN_TOP_K.exec(m.message)).filter((m): m is RegExpExecArray => m !== null);
    const judged = c.notes.filter((n) => n.kind === 'rejected' || n.kind === 'monitorMissing');
    if (c.verbose) assert.equal(judged.length, logged.length, `${c.id}: ${logged.length} 'not in top k' lines, ${judged.length} rejection notes`);
    for (const [i, m] of logged.entries()) {
      const n = judged[i]!;
      assert.equal(String(n.kind === 'rejected' || n.kind === 'monitorMissing' ? n.epoch : ''), m[1], `${c.id}: epoch`);
      assert.equal(String(n.kind === 'rejected' || n.kind === 'monitorMissing' ? n.step : ''), m[2], `${c.id}: step`);
      const inMetrics = m[3]! in c.hook.trainer.callback_metrics || m[3] === 'epoch' || m[3] === 'step';
      assert.equal(n.kind, inMetrics ? 'rejected' : 'monitorMissing', `${c.id}: monitor ${m[3]} logged: ${inMetrics}`);
      if (n.kind === 'rejected') {
        assert.equal(String(n.k), m[4], `${c.id}: k`);
        assert.equal(n.monitor, m[3]);
        matched++;
      }
    }
  }
  assert.ok(matched >= 60, `${matched} rejections matched to Lightning's lines`);
});

test('a rejection never contradicts the comparison: the score did not beat the k-th value, and nothing top-k was saved', () => {
  for (const c of cases) {
    for (const n of c.notes) {
      if (n.kind !== 'rejected') continue;
      const beat = n.mode === 'min' ? n.score < n.kthValue : n.score > n.kthValue;
      assert.equal(beat, false, `${c.id}: ${n.score} vs k-th ${n.kthValue} (${n.mode})`);
      assert.ok(n.k >= 1, c.id);
      assert.ok(!c.hook.ops.some((o) => o.op === 'save' && o.path !== undefined && !o.path.endsWith('last.ckpt')), `${c.id}: rejected but Lightning saved ${JSON.stringify(c.hook.ops)}`);
    }
  }
});

test('skip reasons match the trace: sanity-check validations, and repeats of the last saved step', () => {
  let sanity = 0;
  for (const c of cases) {
    if (c.hook.trainer.sanity_checking && c.hook.hook === 'on_validation_end') {
      assert.deepEqual(c.notes.map((n) => (n.kind === 'skipped' ? n.cause : n.kind)), ['sanityCheck'], c.id);
      sanity++;
    }
    for (const n of c.notes) if (n.kind === 'skipped' && n.cause === 'sameGlobalStep') assert.equal(n.lastSavedStep, c.hook.trainer.global_step, c.id);
  }
  assert.ok(sanity > 100, `${sanity} sanity-check validations`);
});

test('version bumps name the taken name and a -vN path; every sentence is plain text with the numbers', () => {
  let bumps = 0;
  for (const c of cases) {
    for (const n of c.notes) {
      const sentence = explainNote(n, { epoch: c.hook.trainer.current_epoch, step: c.hook.trainer.global_step, acted: c.hook.ops.length > 0 });
      assert.ok(sentence.length > 10 && !sentence.includes('undefined') && !sentence.includes('[object'), `${c.id}: ${sentence}`);
      if (n.kind === 'versionBump') {
        bumps++;
        assert.ok(c.versionCounter, c.id);
        assert.match(n.path, /-v\d+\.[a-z]+$/, c.id);
        assert.notEqual(n.path, n.taken);
      }
      if (n.kind === 'rejected') assert.match(sentence, new RegExp(`did not enter the top ${n.k} `));
    }
  }
  assert.ok(bumps >= 5, `${bumps} version bumps`);
});

test('explain says it in words: a rejection with the k-th value, a trigger not due, a deferral', () => {
  const config = parseConfig({ dirpath: '/c', monitor: 'val_loss', save_top_k: 3, every_n_epochs: 2 });
  let [s] = init(config, { cwd: '/' });
  [s] = reduce(s, { type: 'setup', files: [] });
  const step = (epoch: number, globalStep: number, val: number) => {
    const ev: LoopEvent = { type: 'trainEpochEnded', view: { epoch, globalStep, metrics: { val_loss: val }, numValBatches: [1] } };
    const [next, effects, notes] = reduce(s, ev);
    s = next;
    return notes.map((n) => explainNote(n, { epoch, step: globalStep, acted: effects.some((e) => e.type === 'save') }));
  };
  assert.deepEqual(step(0, 200, 0.5), ['epoch 0, step 200: no trigger due: every_n_epochs=2: epoch 0 is not due (next at epoch 1); nothing saved']);
  step(1, 400, 0.39);
  step(3, 800, 0.395);
  step(5, 1200, 0.398);
  assert.deepEqual(step(7, 1400, 0.412), ['epoch 7, step 1400: val_loss 0.412 did not enter the top 3 (3rd best 0.398); nothing saved']);
  assert.deepEqual(step(9, 1600, 0.398), ['epoch 9, step 1600: val_loss 0.398 did not enter the top 3 (3rd best 0.398, and a tie never displaces); nothing saved']);
});

test('every kind of note the codec defines is produced by some hook (the traces, and a composed policy for keptBy), and each reads as a sentence', () => {
  const defined = new Set<string>(NOTE_KINDS);
  const seen = new Map<string, Note>();
  for (const c of cases) for (const n of c.notes) if (!seen.has(n.kind)) seen.set(n.kind, n);
  // two the traces cannot show: keptBy exists only in composed retention (no trace has keep_* options),
  // and lastUnchanged only where save_last='link' would link last.ckpt to itself (the top-k file is named last)
  for (const options of [
    { dirpath: '/c', monitor: 'val_loss', save_top_k: 1, keep_latest: 2, filename: '{epoch}' },
    { dirpath: '/c', save_last: 'link', filename: 'last', enable_version_counter: false },
  ]) {
    let [state] = init(parseConfig(options), { cwd: '/' });
    [state] = reduce(state, { type: 'setup', files: [] });
    for (const [epoch, v] of [0.5, 0.4, 0.3].entries()) {
      const [next, , notes] = reduce(state, { type: 'trainEpochEnded', view: { epoch, globalStep: (epoch + 1) * 10, metrics: { val_loss: v } } });
      for (const n of notes) if (!seen.has(n.kind)) seen.set(n.kind, n);
      state = next;
    }
  }
  assert.deepEqual([...defined].filter((k) => !seen.has(k)), [], 'note kinds no hook produced');
  for (const [kind, note] of seen) {
    const text = explainNote(note, { epoch: 1, step: 10, acted: false });
    assert.ok(text.length > 20 && !/undefined|\[object/.test(text), `${kind}: ${text}`);
  }
});
