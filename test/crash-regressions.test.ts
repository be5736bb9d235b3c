/**
 * What the kill trials (test/crash-trials/run.ts) found, pinned without a random kill: the order
 * the Checkpointer carries out a decision's storage operations, seen on a real folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../plugins/fs/index.ts';
import type { CheckpointStore, Payload } from '../src/core/store.ts';
import { Checkpointer, type CaptureRequest } from '../src/runtime/index.ts';

const capture = (req: CaptureRequest): Payload => ({ kind: 'bytes', data: new TextEncoder().encode(JSON.stringify({ record: req.record })) });

for (const background of [false, true] as const) {
  test(`crash trial seed 13 (save_last='link', save_top_k=1, ${background ? 'background' : 'awaited'} writes): the old best is removed only after last.ckpt points at the new one, so a kill between them leaves no dangling last.ckpt`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-crash-reg-'));
    try {
      const fs = await openFsStore({ root: dir });
      const ops: string[] = [];
      // the real store, each operation noted when it has landed, with whether last.ckpt then resolves
      const store: CheckpointStore = {
        ...fs,
        save: async (k, p) => (await fs.save(k, p), void ops.push(`save ${k}`)),
        link: async (t, k) => {
          const r = await fs.link(t, k);
          ops.push(`link ${k} -> ${t}`);
          return r;
        },
        remove: async (k) => (await fs.remove(k), void ops.push(`remove ${k} (last.ckpt ${existsSync(join(dir, 'last.ckpt')) ? 'resolves' : 'dangles'})`)),
      };
      const ck = await Checkpointer.open({ options: { monitor: 'val_acc', mode: 'max', save_top_k: 1, save_last: 'link' }, store, capture, background: background ? { maxInFlight: 2 } : false, log: () => undefined });
      await ck.trainStarted({ epoch: 0, globalStep: 0 });
      await ck.epochEnded({ epoch: 0, globalStep: 2, metrics: { val_acc: 0.1 } });
      await ck.epochEnded({ epoch: 1, globalStep: 4, metrics: { val_acc: 0.5 } });
      await ck.close();
      // background saves of different files may land in either order; the link and the removal may not
      assert.deepEqual(ops.slice(-2), ['link last.ckpt -> epoch=1-step=4.ckpt', 'remove epoch=0-step=2.ckpt (last.ckpt resolves)'], ops.join('\n'));
      assert.deepEqual([...ops].sort(), ['link last.ckpt -> epoch=0-step=2.ckpt', 'link last.ckpt -> epoch=1-step=4.ckpt', 'remove epoch=0-step=2.ckpt (last.ckpt resolves)', 'save epoch=0-step=2.ckpt', 'save epoch=1-step=4.ckpt']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
