/**
 * OrbaxCheckpointManager in a web page (headless Chromium at /usr/bin/chromium, never a downloaded
 * browser), bundled with esbuild for the browser, writing into IndexedDB: the saves and kept steps
 * are the pure manager's on the same calls, the database holds exactly the kept step folders, and a
 * second manager on the database reads them back with their metrics. Skipped when chromium is absent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { reduce, start } from '../src/dialects/orbax/index.ts';
import type { OrbaxRun } from './browser/orbax-page.ts';
import { CHROMIUM, haveChromium, servePage, within, type ServedPage } from './helpers/browser.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-browser-orbax-'));
let served: ServedPage | null = null;
let browser: Browser | null = null;
const pageErrors: string[] = [];

before(async () => {
  if (!haveChromium) return;
  served = await servePage(join(root, 'test/browser/orbax-page.ts'), 'ckpt-policy orbax', tmp);
  browser = served.browser;
});
after(async () => {
  await served?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test("Orbax's CheckpointManager in a web page: IndexedDB holds the pure manager's kept steps, read back by a second manager", async (t) => {
  if (!haveChromium) return void t.skip(`chromium is not installed: ${CHROMIUM} is absent (Debian: apt-get install chromium); this test never downloads a browser`);
  const options = { max_to_keep: 2, best_fn: { metric: 'loss' }, best_mode: 'min' };
  const losses = [0.9, 0.4, 0.7, 0.2, 0.8];
  const page = await (await browser!.newContext()).newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(served!.origin + '/');
  await page.waitForFunction(() => 'orbaxPage' in globalThis, undefined, { timeout: 30_000 });
  const r = await within(60_000, 'orbaxPage.run', page.evaluate(({ options, losses }) => (globalThis as unknown as { orbaxPage: { run(n: string, o: unknown, l: number[]): Promise<unknown> } }).orbaxPage.run('orbax-run', options, losses), { options, losses }) as Promise<OrbaxRun>, pageErrors);
  assert.deepEqual(pageErrors, []);

  // the pure manager on the same calls (its clock models async writes as instantaneous)
  let [state] = start({ options, clock: { async_blocking_seconds: 0, async_write_seconds: 0 }, t: 1_700_000_000, entries: [] });
  const saved: boolean[] = [];
  for (const [step, loss] of losses.entries()) {
    const [next, out] = reduce(state!, { call: 'save', step, t: 1_700_000_001 + step, metrics: { loss } });
    state = next;
    saved.push(out.result === true);
  }
  assert.deepEqual(r.saved, saved);
  assert.deepEqual(r.kept, state!.checkpoints.map((c) => c.step));
  assert.deepEqual(r.kept, [1, 3]);
  assert.deepEqual(r.keys, ['1/_CHECKPOINT_METADATA', '1/metrics/metrics', '1/params', '3/_CHECKPOINT_METADATA', '3/metrics/metrics', '3/params']);
  assert.deepEqual(r.restartKept, [1, 3]);
  assert.equal(r.best, 3);
  assert.equal(r.restored, 'params 3');
});
