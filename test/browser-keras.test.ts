/**
 * The Keras-style callback in a web page: headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core, never a downloaded browser) trains a small tfjs model with
 * `modelCheckpoint({ filepath: 'best.keras', monitor: 'val_loss', saveBestOnly: true }, { store:
 * indexedDbStore })` (test/browser/keras-page.ts, bundled here with esbuild). The files in
 * IndexedDB must be the dialect's prediction, computed here in Node with simulateKerasLog from the
 * logs the page recorded, and the file must reload to the model of the epoch the dialect says it
 * holds. Skipped with a message when chromium is absent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { simulateKerasLog } from '../src/dialects/keras/simulate.ts';
import type { KerasLog } from '../src/dialects/keras/log.ts';
import type { KerasPageApi, RunReport } from './browser/keras-page.ts';
import { CHROMIUM, haveChromium, servePage, within as withinMs, type ServedPage } from './helpers/browser.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
// kept in step with keras-page.ts (which loads tfjs, so it is not imported at run time)
const OPTIONS = { filepath: 'best.keras', monitor: 'val_loss', saveBestOnly: true };
const EPOCHS = 8;

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-browser-keras-'));
let served: ServedPage | null = null;
let browser: Browser | null = null;
let origin = '';
const pageErrors: string[] = [];

const within = <T>(ms: number, what: string, p: Promise<T>) => withinMs(ms, what, p, pageErrors);

before(async () => {
  if (!haveChromium) return;
  served = await servePage(join(root, 'test/browser/keras-page.ts'), 'ckpt-policy keras', tmp);
  origin = served.origin;
  browser = served.browser;
});

after(async () => {
  await served?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function call<K extends keyof KerasPageApi>(page: Page, name: K, ...args: Parameters<KerasPageApi[K]>): Promise<Awaited<ReturnType<KerasPageApi[K]>>> {
  return within(
    150_000,
    `kerasPage.${name}`,
    page.evaluate(({ name, args }) => (globalThis as unknown as { kerasPage: Record<string, (...a: unknown[]) => unknown> }).kerasPage[name]!(...args), { name: name as string, args: args as unknown[] }) as Promise<
      Awaited<ReturnType<KerasPageApi[K]>>
    >,
  );
}

/** The page's recorded epoch-end logs as a KerasLog (one fit). */
function logFrom(r: RunReport): KerasLog {
  const ends = r.hooks.filter((h) => h.hook === 'epochEnd');
  return { file: 'page', format: 'History', metrics: Object.keys(ends[0]?.logs ?? {}), epochs: ends.map((h, i) => ({ fit: 0, epoch: h.epoch, logs: h.logs!, at: { file: 'page', line: i + 1 } })) };
}

test("Keras-style modelCheckpoint in a web page: IndexedDB holds the dialect's prediction from the page's logs, and the best reloads", async (t) => {
  if (!haveChromium) return void t.skip(`chromium is not installed: ${CHROMIUM} is absent (Debian: apt-get install chromium); this test never downloads a browser`);
  const context = await browser!.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  await page.goto(origin + '/');
  await page.waitForFunction(() => 'kerasPage' in globalThis, undefined, { timeout: 30_000 });
  const r = await call(page, 'run', 'keras-best');

  // the hooks came in Keras's order, one begin and one end per epoch
  assert.deepEqual(r.hooks.map((h) => `${h.hook}:${h.epoch}`), Array.from({ length: EPOCHS }, (_, e) => [`epochBegin:${e}`, `epochEnd:${e}`]).flat());
  const log = logFrom(r);
  const sim = simulateKerasLog(OPTIONS, log);
  assert.equal(sim._tag, 'Simulated');
  if (sim._tag !== 'Simulated') return;
  const written = sim.epochs.filter((e) => e.action._tag !== 'NotSaved');
  // the writes, in order, and the store's listing are the dialect's
  assert.deepEqual(r.saved, written.map(() => 'best.keras'));
  assert.deepEqual(r.listing, sim.files.map((f) => f.filepath));
  assert.deepEqual(r.listing, ['best.keras']);
  // the run must exercise best-only: some epochs did not improve (else this test proves less)
  assert.ok(written.length >= 2 && written.length < EPOCHS, `wrote at ${written.map((e) => e.epoch).join(', ')} of ${EPOCHS} epochs`);
  // independently of the dialect: the held epoch is the first minimum of val_loss in float32
  const vals = log.epochs.map((e) => Math.fround(e.logs.val_loss as number));
  const held = sim.files[0]!.epoch;
  assert.equal(held, vals.indexOf(Math.min(...vals)));
  assert.equal(sim.lastHoldsBest, true);

  // the file reloads (from its topology, in a new connection) to the model of that epoch
  const back = await call(page, 'reload', 'keras-best', 'best.keras');
  assert.deepEqual(back.prediction, r.predictions[held]);
  assert.ok(r.predictions.some((p, e) => e !== held && JSON.stringify(p) !== JSON.stringify(back.prediction)), 'the epochs differ, so the reload identifies one');
  assert.equal(back.hasOptimizer, true, 'saveWeightsOnly=false stores the whole model');
  await context.close();
  assert.deepEqual(pageErrors, []);
});
