/**
 * Crash safety of the fs store: a child process saving multi-megabyte checkpoints is SIGKILLed at
 * random moments, again and again on the same folder. After each kill: no file under a checkpoint
 * name is partial (each carries its own SHA-256), the newest checkpoint the child reported and
 * best.ckpt are intact, and reopening the store removes exactly the temporaries left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../plugins/index.ts';
import { temporaryOwner } from '../plugins/keys.ts';

const CHILD = new URL('./helpers/crash-child.ts', import.meta.url).pathname;
const TRIALS = 12;
const SIZE = 16 * 1024 * 1024;

/** Runs the child until `killAfterMs` past its first save, SIGKILLs it, returns the lines it printed. */
async function runAndKill(root: string, killAfterMs: number): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, String(SIZE)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let timer: NodeJS.Timeout | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (timer === undefined && out.includes('ready')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  assert.equal(signal, 'SIGKILL', `the child ended by itself (exit ${code}); output: ${out}`);
  return out.split('\n').filter(Boolean);
}

function intact(data: Buffer): boolean {
  return data.length === SIZE && createHash('sha256').update(data.subarray(32)).digest().equals(data.subarray(0, 32));
}

test('SIGKILL at random moments never leaves a partial checkpoint, keeps the newest one, and temporaries are cleaned on restart', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ckpt-crash-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  let seed = 2024;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  let trialsWithTemporaries = 0;
  let saves = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const lines = await runAndKill(root, Math.floor(rand() * 400));
    const names = await readdir(root);
    const temporaries = names.filter((n) => temporaryOwner(n) !== null).sort();
    // Every file under a checkpoint name is complete (links are followed).
    for (const name of names.filter((n) => temporaryOwner(n) === null)) {
      const info = await lstat(join(root, name));
      if (info.isSymbolicLink()) assert.equal(name, 'last.ckpt');
      // last.ckpt is repointed before the removal two epochs on, so it never dangles here.
      const data = await readFile(join(root, name));
      assert.ok(intact(data), `trial ${trial}: ${name} is partial or damaged (${data.length} bytes)`);
    }
    // The newest reported checkpoint survives, unless its removal had begun (never for the newest).
    const saved = lines.filter((l) => l.startsWith('saved epoch=')).map((l) => l.slice('saved '.length));
    const removing = new Set(lines.filter((l) => l.startsWith('removing ')).map((l) => l.slice('removing '.length)));
    const newest = saved.at(-1);
    if (newest !== undefined) {
      assert.ok(!removing.has(newest));
      assert.ok(names.includes(newest), `trial ${trial}: newest reported checkpoint ${newest} is missing`);
    }
    if (lines.includes('saved best.ckpt') || names.includes('best.ckpt')) assert.ok(intact(await readFile(join(root, 'best.ckpt'))), `trial ${trial}: best.ckpt damaged`);
    saves += saved.length;
    // Restart: exactly the leftovers are cleaned, and nothing else is touched.
    const store = await openFsStore({ root });
    assert.deepEqual(store.cleanedTemporaries, temporaries);
    assert.deepEqual((await readdir(root)).sort(), names.filter((n) => temporaryOwner(n) === null).sort());
    if (temporaries.length > 0) trialsWithTemporaries++;
  }
  t.diagnostic(`${TRIALS} kills, ${saves} reported saves, ${trialsWithTemporaries} kills left temporaries`);
  assert.ok(trialsWithTemporaries >= 1, 'no kill landed during a write: the test did not exercise a crash mid-save');
});
