/** `npm start`: the demo as a user runs it, in a fresh folder, again, and after being killed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runDemo } from '../src/cli/demo.ts';
import { CKPT } from './helpers/cli.ts';
import { checkpointFiles } from './helpers/folder.ts';


function demoChild(cwd: string, killAfter?: RegExp): Promise<{ lines: string[]; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CKPT, 'demo'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      if (killAfter?.test(l)) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => (code === 0 || signal ? resolve({ lines, signal }) : reject(new Error(`demo exited ${code}: ${lines.join('\n')}`))));
  });
}

test('a fresh folder: trains, prints decisions with reasons and a line per epoch, reloads the best checkpoint', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'ckpt-demo-'));
  const out: string[] = [];
  assert.equal(await runDemo((l) => out.push(l), cwd), 0);
  const text = out.join('\n');
  assert.match(text, /starting a new run in \.\/checkpoints/);
  assert.equal(out.filter((l) => /^epoch +\d+\/8  loss [\d.]+  val_loss [\d.]+/.test(l)).length, 8);
  assert.match(text, /save +epoch=00-val_loss=[\d.]+\.ckpt: epoch 0, step 16: val_loss [\d.]+ entered the top 3/);
  assert.match(text, /remove .*pushed out of the top k by/);
  const files = checkpointFiles(join(cwd, 'checkpoints'));
  assert.equal(files.length, 4);
  assert.ok(files.includes('last.ckpt'));
  // the reloaded best checkpoint evaluates to the score it was kept for
  const m = /reloaded (\S+) from disk: val_loss ([\d.]+) \(recorded ([\d.]+)\)/.exec(text);
  assert.ok(m, text);
  assert.equal(m[2], m[3]);
  assert.ok(files.includes(m[1]!));

  // run again: the previous run finished, so a new run starts, after removing only that run's checkpoints
  writeFileSync(join(cwd, 'checkpoints', 'notes.txt'), 'mine');
  const again: string[] = [];
  await runDemo((l) => again.push(l), cwd);
  assert.match(again.join('\n'), /the previous run in \.\/checkpoints finished \(8 epochs\); starting a new run after removing its 4 checkpoints/);
  assert.ok(checkpointFiles(join(cwd, 'checkpoints')).includes('notes.txt'));
  assert.equal(again.filter((l) => /^epoch +\d+\/8/.test(l)).length, 8);
});

test('killed mid-training, the next run resumes and finishes where an uninterrupted run ends', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'ckpt-demo-kill-'));
  const first = await demoChild(cwd, /^epoch +5\/8/);
  assert.equal(first.signal, 'SIGKILL');
  const second = await demoChild(cwd);
  const text = second.lines.join('\n');
  // background writes may still have been in flight: it resumes from the last checkpoint that reached the disk
  assert.match(text, /resuming the interrupted run from \.\/checkpoints\/\S+: [1-5] of 8 epochs were done/);
  const done = Number(/: (\d) of 8 epochs were done/.exec(text)![1]);
  assert.equal(second.lines.filter((l) => /^epoch +\d+\/8/.test(l)).length, 8 - done);

  const clean = mkdtempSync(join(tmpdir(), 'ckpt-demo-clean-'));
  await runDemo(() => undefined, clean);
  assert.deepEqual(checkpointFiles(join(cwd, 'checkpoints')), checkpointFiles(join(clean, 'checkpoints')));
});
