/**
 * A process killed (SIGKILL) while OrbaxCheckpointManager saves on the local filesystem: a step
 * folder with a commit marker always holds every item the marker lists, whole; a folder without
 * one is never listed by the next process, which continues from the committed steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openFsStore } from '../plugins/fs/index.ts';
import { OrbaxCheckpointManager, MARKER } from '../src/dialects/orbax/runtime/index.ts';
import { parseMarker } from '../src/dialects/orbax/runtime/layout.ts';
import { rng as seeded } from './helpers/rng.ts';

const CHILD = fileURLToPath(new URL('./helpers/orbax-crash-child.ts', import.meta.url));
const SIZE = 256 * 1024;

/** Runs the child until `killWhen` says so for a line it printed; resolves with its lines. */
function runAndKill(root: string, mode: string, killWhen: (line: string, lines: string[]) => boolean, pause: boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CHILD, root, mode, String(SIZE), ...(pause ? ['pause'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buf = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (killWhen(line, lines)) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(lines) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

const whole = (b: Uint8Array) => b.length === SIZE && createHash('sha256').update(b.subarray(32)).digest().equals(Buffer.from(b.subarray(0, 32)));

/** Every committed folder holds its items whole; returns the committed and the uncommitted step folders. */
async function check(root: string): Promise<{ committed: number[]; uncommitted: number[] }> {
  const store = await openFsStore({ root });
  const folders = new Map<string, string[]>();
  for (const e of await store.list()) {
    const [f, ...rest] = e.key.split('/');
    folders.set(f!, [...(folders.get(f!) ?? []), rest.join('/')]);
  }
  const committed: number[] = [];
  const uncommitted: number[] = [];
  for (const [f, files] of folders) {
    if (!files.includes(MARKER)) {
      uncommitted.push(Number(f));
      continue;
    }
    const marker = parseMarker(new TextDecoder().decode(((await store.read(`${f}/${MARKER}`)) as { data: Uint8Array }).data));
    assert.deepEqual(marker?.items, ['a', 'b', 'c'], `${f}: the marker lists the items`);
    for (const i of marker!.items!) assert.ok(whole(((await store.read(`${f}/${i}`)) as { data: Uint8Array }).data), `${f}/${i} is whole`);
    committed.push(Number(f));
  }
  return { committed: committed.sort((a, b) => a - b), uncommitted };
}

for (const mode of ['sync', 'async'] as const) {
  test(`${mode}: killed in the middle of a step's write, the folder is left uncommitted and the next process neither lists nor restores it`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'ckpt-orbax-kill-'));
    try {
      // the kill lands once item a of step 3 is in the store: b, c and the marker are not
      const lines = await runAndKill(root, mode, (l) => l === 'writing 3', true);
      assert.ok(lines.includes('writing 3'));
      const { committed, uncommitted } = await check(root);
      assert.deepEqual(uncommitted, [3]);
      assert.ok(committed.every((s) => s < 3) && committed.length >= 1, JSON.stringify(committed));
      const store = await openFsStore({ root });
      const m = await OrbaxCheckpointManager.open({ store, options: { max_to_keep: 2, enable_async_checkpointing: mode === 'async' }, takeOver: true, log: () => undefined });
      assert.deepEqual(m.all_steps(), committed);
      assert.equal(m.latest_step(), 2);
      // the next save of step 3 removes the uncommitted folder first (Orbax's stale temporary), then writes it
      assert.equal(await m.save(3, { a: new Uint8Array(4) }), true);
      await m.close();
      assert.deepEqual((await store.list('3/')).map((e) => e.key), ['3/_CHECKPOINT_METADATA', '3/a']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test(`${mode}: killed at random moments, committed folders are always whole and the next process continues from them`, async () => {
    const rng = seeded(mode === 'sync' ? 11 : 12);
    const root = mkdtempSync(join(tmpdir(), 'ckpt-orbax-kill-'));
    try {
      let previous: number[] = [];
      for (let trial = 0; trial < 4; trial++) {
        const after = 1 + Math.floor(rng() * 4);
        // a kill a random number of saves in, then a little later
        let seen = 0;
        await runAndKill(root, mode, (l) => l.startsWith('saved') && ++seen === after, false);
        const { committed } = await check(root);
        assert.ok(committed.length >= 1 && committed.length <= 3, `trial ${trial}: ${JSON.stringify(committed)}`);
        assert.ok(committed.at(-1)! >= (previous.at(-1) ?? 0), 'no committed step is lost across restarts');
        previous = committed;
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
