/** simulate/compare's policy reader: every dialect's options come back as given (with --set applied); problems stay in the framework's words. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { parseAnyPolicyText, parsePolicyText } from '../src/policyFile.ts';

test('a dialect policy is returned with its options and name, --set applied on top', () => {
  const r = parseAnyPolicyText('name: k\ndialect: keras\nfilepath: best.keras\nmonitor: val_loss\n', 'k.yaml', ['save_best_only=true']);
  assert.ok(E.isRight(r));
  assert.deepEqual(r.right, { dialect: 'keras', name: 'k', options: { filepath: 'best.keras', monitor: 'val_loss', save_best_only: true }, source: 'k.yaml' });
  const l = parseAnyPolicyText('monitor: val_loss\n', 'p.yaml');
  assert.ok(E.isRight(l) && l.right.dialect === 'lightning' && l.right.config.monitor === 'val_loss');
});

test('a dialect policy with a mistake is refused in its framework\'s words, without the "not supported" line', () => {
  const r = parseAnyPolicyText('dialect: transformers\nsave_strategy: sometimes\n', 't.yaml');
  assert.ok(E.isLeft(r));
  assert.equal(r.left.length, 1);
  assert.equal(r.left[0]!.field, 'save_strategy');
  assert.doesNotMatch(r.left[0]!.message, /not supported/);
});

test('the Lightning-only reader (ckpt recommend) still refuses other dialects, and says which commands run them', () => {
  const r = parsePolicyText('dialect: orbax\nmax_to_keep: 2\n', 'o.yaml');
  assert.ok(E.isLeft(r));
  assert.match(r.left.at(-1)!.message, /valid orbax options, but this command runs Lightning policies only .*ckpt simulate and ckpt compare replay them/);
});
