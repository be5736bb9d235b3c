/**
 * Issue 15 item 8: `filename='{epoch:/>4}'` padded the epoch with folder separators, so Lightning's
 * rules wrote `epoch=///0.ckpt` (the folder `epoch=/` and two empty ones inside the checkpoint
 * folder), a different depth once the epoch reaches 10. A '/' fill character is now a config error
 * naming `filename`, the value and what is allowed; a '/' written in the template stays a subfolder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig } from '../src/core/config.ts';
import { ckpt, STACK } from './helpers/cli.ts';

const issuesOf = (input: unknown) => {
  const r = decodeConfig(input);
  return E.isLeft(r) ? r.left : [];
};

test("a '/' fill character in filename or CHECKPOINT_NAME_LAST is refused, naming the field, the value and what is allowed", () => {
  for (const filename of ['{epoch:/>4}', 'run-{val_loss:/<8.3f}', '{step:/^6}-{epoch}']) {
    const [issue, ...rest] = issuesOf({ filename, monitor: 'val_loss' });
    assert.equal(rest.length, 0, filename);
    assert.equal(issue!.field, 'filename');
    assert.equal(issue!.value, filename);
    assert.match(issue!.allowed, /fill character other than '\/'/);
    assert.ok(issue!.message.startsWith(`filename='${filename}' pads `), issue!.message);
  }
  assert.equal(issuesOf({ filename: '{epoch}', CHECKPOINT_NAME_LAST: 'last-{epoch:/>3}' })[0]!.field, 'CHECKPOINT_NAME_LAST');
  assert.match(issuesOf({ filename: '{epoch:/>4}' })[0]!.message, /as 'epoch=\/\/\/0\.ckpt'/);
});

test("other fill characters and a '/' written in the template (a chosen subfolder) are accepted", () => {
  for (const filename of ['{epoch:0>4}', '{epoch:_>4}', '{epoch}/{step}', 'sub/{val/acc:.2f}', '{epoch:>4}', '{epoch:02d}']) {
    assert.deepEqual(issuesOf({ filename, monitor: 'val/acc' }), [], filename);
  }
});

test("ckpt simulate with a '/' fill in the policy: exit 1, the field and value named, no stack trace", () => {
  const r = ckpt(['simulate', '--policy', "monitor: val_loss\nfilename: '{epoch:/>4}'", 'test/fixtures/logs/tiny-val.csv']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /filename='\{epoch:\/>4\}' pads \{epoch:\/>4\} with '\/'/);
  assert.doesNotMatch(r.stderr, STACK);
});
