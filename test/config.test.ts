/** The options codec: Lightning's names and defaults, its validation texts, and our own refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { parse as parseYaml } from 'yaml';
import { decodeConfig, DEFAULTS, parseConfig, PolicyConfigCodec, stateKey, ConfigError } from '../src/core/config.ts';

const issuesOf = (input: unknown) => {
  const r = decodeConfig(input);
  assert.ok(E.isLeft(r), 'expected the options to be refused');
  return r.left;
};

test('empty options give Lightning 2.6 defaults', () => {
  assert.deepEqual(parseConfig({}), DEFAULTS);
  assert.equal(DEFAULTS.saveTopK, 1);
  assert.equal(DEFAULTS.mode, 'min');
  assert.equal(DEFAULTS.saveLast, null);
  assert.equal(DEFAULTS.checkpointNameLast, 'last');
  assert.equal(DEFAULTS.fileExtension, '.ckpt');
});

test('snake_case (pasted from Python) and camelCase decode to the same config', () => {
  const snake = parseConfig({ monitor: 'val_loss', save_top_k: 3, save_last: 'link', every_n_epochs: 2, auto_insert_metric_name: false, CHECKPOINT_JOIN_CHAR: '_' });
  const camel = parseConfig({ monitor: 'val_loss', saveTopK: 3, saveLast: 'link', everyNEpochs: 2, autoInsertMetricName: false, checkpointJoinChar: '_' });
  assert.deepEqual(snake, camel);
  assert.equal(snake.saveTopK, 3);
  assert.equal(snake.checkpointJoinChar, '_');
});

test('YAML options decode like JSON', () => {
  const yaml = 'monitor: val/acc\nmode: max\nsave_top_k: 2\nfilename: "{epoch:02d}-{val/acc:.3f}"\ntrain_time_interval: 90\n';
  const c = parseConfig(parseYaml(yaml));
  assert.equal(c.monitor, 'val/acc');
  assert.equal(c.mode, 'max');
  assert.equal(c.trainTimeInterval, 90);
});

test('train_time_interval takes seconds or timedelta keywords, rounded to microseconds like timedelta', () => {
  assert.equal(parseConfig({ train_time_interval: { minutes: 1, seconds: 30 } }).trainTimeInterval, 90);
  assert.equal(parseConfig({ train_time_interval: 0.0000015 }).trainTimeInterval, 0.000002);
  assert.equal(parseConfig({ train_time_interval: 0.0000025 }).trainTimeInterval, 0.000002);
});

test('unknown keys are named, with a suggestion, and every problem is reported together', () => {
  const issues = issuesOf({ save_top: 3, monitr: 'val_loss', mode: 'best', save_last: 'yes' });
  const text = issues.map((i) => i.message).join('\n');
  assert.match(text, /unknown option 'save_top' \(did you mean 'save_top_k'\?\)/);
  assert.match(text, /unknown option 'monitr' \(did you mean 'monitor'\?\)/);
  assert.match(text, /save_last="yes" is not allowed: expected true, false, "link" or null/);
  assert.match(text, /`mode` can be min, max but got best/);
  assert.deepEqual(issues.map((i) => i.field).sort(), ['mode', 'monitr', 'save_last', 'save_top']);
});

test('the same option under both spellings is an error, not a silent override', () => {
  const [issue] = issuesOf({ save_top_k: 2, saveTopK: 3, monitor: 'x' });
  assert.match(issue!.message, /given twice/);
});

test("Lightning's validation, in Lightning's order and words; all issues reported", () => {
  const issues = issuesOf({ mode: 'MIN', save_top_k: -2, every_n_train_steps: -1, every_n_epochs: 2 });
  assert.deepEqual(
    issues.map((i) => i.lightning?.message),
    [
      '`mode` can be min, max but got MIN',
      'Invalid value for save_top_k=-2. Must be >= -1',
      'Invalid value for every_n_train_steps=-1. Must be >= 0',
      'ModelCheckpoint(save_top_k=-2, monitor=None) is not a valid configuration. No quantity for top_k to track.',
    ],
  );
  for (const i of issues) {
    assert.ok(i.message.includes(i.field.split(',')[0]!), `names the field: ${i.message}`);
    assert.ok(i.allowed.length > 0);
  }
});

test('mutually exclusive triggers quote the timedelta as Python prints it', () => {
  const [issue] = issuesOf({ every_n_train_steps: 5, train_time_interval: 30.5 });
  assert.equal(issue!.lightning!.message, 'Combination of parameters every_n_train_steps=5, every_n_epochs=0 and train_time_interval=0:00:30.500000 should be mutually exclusive.');
});

test('without a monitor, save_top_k must be -1, 0 or 1', () => {
  for (const k of [-1, 0, 1]) assert.ok(E.isRight(decodeConfig({ save_top_k: k })));
  assert.equal(issuesOf({ save_top_k: 3 })[0]!.field, 'save_top_k');
  assert.ok(E.isRight(decodeConfig({ save_top_k: 3, monitor: 'val_loss' })));
});

test('types are checked with the value and what is allowed', () => {
  const [issue] = issuesOf({ save_top_k: '3' });
  assert.equal(issue!.message, 'save_top_k="3" is not allowed: expected an integer');
  assert.equal(issuesOf({ every_n_epochs: 1.5 })[0]!.field, 'every_n_epochs');
  assert.equal(issuesOf('monitor=val_loss')[0]!.field, '(options)');
});

test('a filename that would leave the checkpoint directory is refused (a deliberate difference from Lightning)', () => {
  for (const filename of ['../{epoch}', '/etc/{epoch}', 'a/../../{epoch}', '{epoch}/../..']) {
    const issues = issuesOf({ filename });
    assert.equal(issues[0]!.field, 'filename', filename);
    assert.match(issues[0]!.message, /outside the checkpoint directory/);
  }
  // a metric name containing '..' becomes a path segment when auto-inserted
  assert.equal(issuesOf({ filename: '{../x}' })[0]!.field, 'filename');
  // without auto-insertion the name is only a lookup key
  assert.ok(E.isRight(decodeConfig({ filename: '{../x}', auto_insert_metric_name: false })));
  for (const filename of ['{epoch}/{step}', 'sub/{val/acc:.2f}', '..{epoch}', 'a..b']) assert.ok(E.isRight(decodeConfig({ filename })), filename);
  assert.equal(issuesOf({ CHECKPOINT_NAME_LAST: '../last' })[0]!.field, 'CHECKPOINT_NAME_LAST');
  // fill characters pad the most for the smallest value: epoch 0 gives '///0', an absolute path
  assert.equal(issuesOf({ filename: '{epoch:/>4}', auto_insert_metric_name: false })[0]!.field, 'filename');
  // the version suffix counts too
  assert.equal(issuesOf({ CHECKPOINT_JOIN_CHAR: '/../../' })[0]!.field, 'filename');
});

test('parseConfig throws a ConfigError carrying every issue', () => {
  assert.throws(
    () => parseConfig({ mode: 'avg', typo: 1 }),
    (e: unknown) => e instanceof ConfigError && e.issues.length === 2 && /typo/.test(e.message) && /mode/.test(e.message),
  );
  assert.throws(() => parseConfig({ mode: 'avg' }), /mode/);
});

test('the codec encodes back to Lightning names and round-trips', () => {
  const c = parseConfig({ monitor: 'val_loss', saveTopK: 2, trainTimeInterval: 60 });
  const encoded = PolicyConfigCodec.encode(c);
  assert.equal(encoded.save_top_k, 2);
  assert.equal(encoded.train_time_interval, 60);
  const back = PolicyConfigCodec.decode(encoded);
  assert.ok(E.isRight(back));
  assert.deepEqual(back.right, c);
});

test("state_key matches Lightning's repr of the trigger settings", () => {
  assert.equal(stateKey(parseConfig({ monitor: 'val_loss' })), "ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min', 'every_n_train_steps': 0, 'every_n_epochs': 1, 'train_time_interval': None}");
  assert.equal(stateKey(parseConfig({ train_time_interval: 0.5 })), "ModelCheckpoint{'monitor': None, 'mode': 'min', 'every_n_train_steps': 0, 'every_n_epochs': 0, 'train_time_interval': datetime.timedelta(microseconds=500000)}");
});
