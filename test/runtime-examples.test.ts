/** The hand-written loop example of docs/embedding.md runs as documented and keeps what it says. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkpointFiles } from './helpers/folder.ts';

const EXAMPLE = fileURLToPath(new URL('../examples/loop/hand-written.ts', import.meta.url));

test('examples/loop/hand-written.ts: two best by val_loss and last, with best_k_models as YAML', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'ckpt-hand-')), 'ckpts');
  const r = spawnSync(process.execPath, ['--import', 'tsx', EXAMPLE, dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const best = /best_model_path (\S+) \(val_loss ([\d.]+)\)/.exec(r.stdout);
  assert.ok(best, r.stdout);
  const files = checkpointFiles(dir);
  assert.equal(files.length, 3);
  assert.ok(files.includes('last.ckpt'));
  assert.ok(files.includes(best[1]!.slice(dir.length + 1)));
  // the YAML map lists exactly the two kept top-k checkpoints
  const yamlKeys = r.stdout.split('\n').filter((l) => l.startsWith(dir + '/')).map((l) => l.split(': ')[0]!.slice(dir.length + 1));
  assert.deepEqual(yamlKeys.sort(), files.filter((f) => f !== 'last.ckpt'));
});
