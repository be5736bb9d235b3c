/** A policy file's `dialect:` key: whose options it holds, checked in that framework's words. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { parsePolicyText } from '../src/policyFile.ts';

const messages = (text: string) => {
  const r = parsePolicyText(text, 'p.yaml');
  return E.isLeft(r) ? r.left.map((i) => `${i.position ? `${i.position.line}:` : ''}${i.field ?? ''}: ${i.message}`) : [];
};

test('dialect: lightning (or none) is a Lightning policy', () => {
  const r = parsePolicyText('dialect: lightning\nmonitor: val_loss\nsave_top_k: 2\n', 'p.yaml');
  assert.ok(E.isRight(r) && r.right.config.saveTopK === 2 && r.right.config.monitor === 'val_loss');
});

test('another dialect is checked with its framework\'s rules and words, then refused plainly by the command', () => {
  const valid = messages('dialect: keras\nfilepath: best.keras\nmonitor: val_loss\nsave_best_only: true\n');
  assert.equal(valid.length, 1);
  assert.match(valid[0]!, /^1:dialect: valid keras options, but this command runs Lightning policies only .*ckpt-policy\/keras/);
  const typo = messages('dialect: keras\nfilepath: best.keras\nsave_best_onl: true\n');
  assert.match(typo[0]!, /^3:save_best_onl: ModelCheckpoint\.__init__\(\) got an unexpected keyword argument 'save_best_onl' \(did you mean 'save_best_only'\?\)/);
  const orbax = messages('dialect: orbax\nmax_to_keep: -3\n');
  assert.ok(orbax.length >= 1 && orbax.at(-1)!.includes('orbax policies are not supported here yet'), orbax.join('\n'));
  const hf = messages('dialect: transformers\nsave_strategy: sometimes\n');
  assert.ok(hf.length === 2 && /save_strategy/.test(hf[0]!), hf.join('\n'));
});

test('an unknown dialect names the ones this version speaks', () => {
  assert.deepEqual(messages('dialect: caffe\n'), ['1:dialect: dialect "caffe" is not one this version speaks: lightning, keras, orbax, transformers']);
});
