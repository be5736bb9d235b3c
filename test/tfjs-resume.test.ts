/**
 * Resume after a killed process: a tfjs run SIGKILLed mid-training and restarted with --resume
 * ends with the same kept checkpoints, scores and final weights as a run never interrupted.
 * The training script is examples/tfjs/train.ts (deterministic data, initialisers and batches).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openFsStore } from '../plugins/fs/index.ts';
import { joinWeightData } from '../plugins/payload/container.ts';
import { checkpointFiles } from './helpers/folder.ts';

const SCRIPT = fileURLToPath(new URL('../examples/tfjs/train.ts', import.meta.url));
const EPOCHS = '12';

/** Runs the script; with `killAtEpoch`, SIGKILLs it as soon as that epoch's line appears. */
function train(dir: string, args: string[], killAtEpoch?: number): Promise<{ lines: Array<Record<string, unknown>>; signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '--dir', dir, '--epochs', EPOCHS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Array<Record<string, unknown>> = [];
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    createInterface({ input: child.stdout }).on('line', (l) => {
      const o = JSON.parse(l);
      lines.push(o);
      if (killAtEpoch !== undefined && o.epoch === killAtEpoch) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => (code !== 0 && signal === null ? reject(new Error(`train.ts exited ${code}: ${err}`)) : resolve({ lines, signal, code })));
  });
}

async function lastWeights(dir: string): Promise<Uint8Array> {
  const p = await (await openFsStore({ root: dir })).read('last.ckpt');
  assert.equal(p.kind, 'tfjs');
  return joinWeightData(p.kind === 'tfjs' ? p.artifacts.weightData : undefined);
}

test('SIGKILL mid-training, then --resume: same final kept set, scores and weights as an uninterrupted run', async () => {
  const whole = mkdtempSync(join(tmpdir(), 'ckpt-whole-'));
  const killed = mkdtempSync(join(tmpdir(), 'ckpt-killed-'));
  const [uninterrupted, first] = await Promise.all([train(whole, []), train(killed, [], 4)]);
  assert.equal(first.signal, 'SIGKILL', 'the first run was killed before it finished');
  assert.ok(!first.lines.some((l) => 'best' in l));

  const second = await train(killed, ['--resume']);
  const resumedFrom = second.lines[0]!;
  assert.ok(typeof resumedFrom.resumedFrom === 'string', 'the second run resumed from a checkpoint');
  assert.ok((resumedFrom.initialEpoch as number) >= 4 && (resumedFrom.initialEpoch as number) <= 6, `resumed at epoch ${resumedFrom.initialEpoch}`);

  const a = uninterrupted.lines.at(-1)!;
  const b = second.lines.at(-1)!;
  assert.deepEqual(b.kept, a.kept);
  assert.equal(b.score, a.score);
  assert.deepEqual(checkpointFiles(killed), checkpointFiles(whole));
  // the replayed epochs reproduce the same val_loss values
  const valA = new Map(uninterrupted.lines.filter((l) => 'epoch' in l).map((l) => [l.epoch, l.val_loss]));
  for (const l of second.lines.filter((x) => 'epoch' in x)) assert.equal(l.val_loss, valA.get(l.epoch));
  assert.deepEqual(await lastWeights(killed), await lastWeights(whole));
});
