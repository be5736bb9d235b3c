/**
 * TensorFlow.js training in a web page, checkpointed into IndexedDB, in real headless Chromium
 * (Debian's /usr/bin/chromium, driven by playwright-core; never a downloaded browser). The page
 * (test/browser/train-page.ts) is bundled here with esbuild from the browser entries and tfjs,
 * and served from 127.0.0.1.
 *
 * The run is interrupted after epoch 2 (the page stops answering mid-fit, then is reloaded: no
 * train end, nothing flushed afterwards), resumed from IndexedDB in the reloaded page, and must end
 * with the checkpoints the policy keeps, computed here independently from the val_loss values the
 * page saw, equal to a run never interrupted. Skipped with a message when chromium is absent.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { EpochSeen, PageApi, PhaseReport, Decided } from './browser/train-page.ts';
import { CHROMIUM, haveChromium, servePage, within as withinMs, type ServedPage } from './helpers/browser.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const PAGE_SOURCE = join(root, 'test/browser/train-page.ts');
// the page's constants (kept in step with train-page.ts, which this file cannot import at run time: it loads tfjs)
const EPOCHS = 6;
const STEPS_PER_EPOCH = 3; // TRAIN 96 / BATCH 32
const TOP_K = 2;
const INTERRUPT_AFTER = 2;

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-browser-'));
let served: ServedPage | null = null;
let browser: Browser | null = null;
let context: BrowserContext | null = null;
let origin = '';
const pageErrors: string[] = [];

function skipWithoutChromium(t: TestContext): boolean {
  if (haveChromium) return false;
  t.skip(`chromium is not installed: ${CHROMIUM} is absent (Debian: apt-get install chromium); this test never downloads a browser`);
  return true;
}

const within = <T>(ms: number, what: string, p: Promise<T>) => withinMs(ms, what, p, pageErrors);

before(async () => {
  if (!haveChromium) return;
  served = await servePage(PAGE_SOURCE, 'ckpt-policy tfjs', tmp);
  origin = served.origin;
  browser = served.browser;
  // one context for the whole file: IndexedDB lives as long as it, across reloads
  context = await browser.newContext();
});

after(async () => {
  await context?.close().catch(() => undefined);
  await served?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function openPage(): Promise<Page> {
  const page = await context!.newPage();
  page.setDefaultTimeout(60_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  await page.goto(origin + '/');
  await page.waitForFunction(() => 'ckptPage' in globalThis, undefined, { timeout: 30_000 });
  return page;
}

async function reload(page: Page): Promise<void> {
  await page.reload();
  await page.waitForFunction(() => 'ckptPage' in globalThis, undefined, { timeout: 30_000 });
}

/** Calls `ckptPage[name](...args)` in the page. */
function call<K extends keyof PageApi>(page: Page, name: K, ...args: Parameters<PageApi[K]>): Promise<Awaited<ReturnType<PageApi[K]>>> {
  return within(
    120_000,
    `ckptPage.${String(name)}`,
    page.evaluate(({ name, args }) => {
      const api = (globalThis as unknown as { ckptPage: Record<string, (...a: unknown[]) => unknown> }).ckptPage;
      return api[name]!(...args);
    }, { name: name as string, args: args as unknown[] }) as Promise<Awaited<ReturnType<PageApi[K]>>>,
  );
}

/** Starts a training phase and waits until it is interrupted, finished or failed. */
async function phase(page: Page, db: string, opts: { resume: boolean; interruptAfter?: number }): Promise<PhaseReport> {
  await call(page, 'start', db, opts);
  await page.waitForFunction(
    () => {
      const r = (globalThis as unknown as { ckptPage: PageApi }).ckptPage.report();
      return r !== null && r.state !== 'running';
    },
    undefined,
    { timeout: 150_000, polling: 100 },
  );
  const r = await call(page, 'report');
  assert.ok(r !== null);
  assert.notEqual(r.state, 'failed', `training in the page failed: ${r.error}`);
  return r;
}

/** UTF-8 byte order, as every store lists (computed here with Node's Buffer, not the code under test). */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

const ckptName = (epoch: number) => `epoch=${epoch}-step=${(epoch + 1) * STEPS_PER_EPOCH}.ckpt`;

/** What the policy must keep, from the val_loss values alone: the top-k (lowest; ties keep the earlier) and last. */
function expectedKept(epochs: readonly EpochSeen[]): { keys: string[]; best: EpochSeen } {
  const ranked = [...epochs].sort((a, b) => a.val_loss - b.val_loss || a.epoch - b.epoch);
  const top = ranked.slice(0, TOP_K);
  return { keys: [...top.map((e) => ckptName(e.epoch)), 'last.ckpt'].sort(byteOrder), best: ranked[0]! };
}

/** The store's keys after carrying out the decided effects in order from an empty store (links copy). */
function replay(decided: readonly Decided[]): string[] {
  const keys = new Set<string>();
  for (const d of decided) {
    if (d.type === 'remove') {
      for (const k of [...keys]) if (k === d.key || k.startsWith(d.key + '/')) keys.delete(k);
    } else keys.add(d.key);
  }
  return [...keys].sort(byteOrder);
}

test('the browser entries bundle for the browser without node built-ins', async (t) => {
  for (const entry of ['src/tfjs/browser.ts', 'plugins/browser.ts', 'plugins/indexeddb/index.ts']) {
    const r = await build({ entryPoints: [join(root, entry)], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, external: ['@tensorflow/tfjs'], logLevel: 'silent' });
    assert.deepEqual(r.errors, [], entry);
    const imports = Object.values(r.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    assert.deepEqual(imports.filter((p) => p !== '@tensorflow/tfjs'), [], `${entry} imports only tfjs from outside the bundle`);
    const inputs = Object.keys(r.metafile.inputs);
    assert.ok(!inputs.some((p) => /plugins\/(index\.ts|fs\/|s3\/|payload\/(container|codec|bytesFile|tfjs)\.ts)|^node:/.test(p)), `${entry} pulls in a Node-only module: ${inputs.join(', ')}`);
    const code = r.outputFiles[0]!.text;
    assert.ok(!/\bBuffer\.(from|alloc|byteLength|compare|concat)\b|\bprocess\.(cwd|pid|env)\b|["']node:/.test(code), `${entry}'s bundle refers to Buffer, process or node:`);
    t.diagnostic(`${entry}: ${(code.length / 1024).toFixed(1)} KiB (tfjs external, not minified)`);
  }
});

test('the IndexedDB store keeps the CheckpointStore contract in the page', { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t)) return;
  const page = await openPage();
  // order by UTF-8 bytes, not UTF-16: U+FF5E sorts before U+1F600 here, after it in IndexedDB's own order
  const orderKeys = ['\u{1F600}.ckpt', '\uFF5E.ckpt', 'z.ckpt', 'B.ckpt', 'e\u0301.ckpt', '\u00e9.ckpt'];
  const r = (await call(page, 'contract', 'contract', orderKeys)) as Record<string, any>;
  await page.close();

  assert.deepEqual({ kind: r.kind, location: r.location, supportsSymlinks: r.supportsSymlinks }, { kind: 'indexeddb', location: 'indexeddb://contract', supportsSymlinks: false });
  assert.deepEqual(r.first, [1, 2, 3]);
  assert.deepEqual(r.overwritten, [4, 5]);
  assert.deepEqual(r.view, [7, 8]);
  assert.deepEqual(r.afterCallerWrite, [1, 1, 1]);
  assert.equal(r.tfjs.kind, 'tfjs');
  assert.equal(r.tfjs.weightDataIsArrayBuffer, true);
  assert.equal(r.tfjs.sameWeights, true);
  assert.ok(r.tfjs.weightBytes > 0);
  assert.equal(r.tfjs.sameTopology, true);
  assert.deepEqual(r.tfjs.predictionLoaded, r.tfjs.predictionBefore);

  assert.equal(r.linkAs, 'copy');
  assert.deepEqual(r.afterTargetRemoved, { aExists: false, lastExists: true, last: [4, 5] });
  assert.deepEqual(r.removeAbsent, { ok: true });

  const e = r.errors;
  for (const [name, code] of [['escape', 'escape'], ['absolute', 'escape'], ['escapeRead', 'escape'], ['prefix', 'escape'], ['readMissing', 'not-found'], ['linkMissing', 'not-found'], ['linkSelf', 'conflict'], ['underAFile', 'conflict'], ['overAFolder', 'conflict'], ['unclonable', 'unsupported']] as const) {
    assert.equal(e[name].ok, false, `${name} must fail`);
    assert.equal(e[name].name, 'StoreError', `${name}: ${e[name].message}`);
    assert.equal(e[name].code, code, `${name}: ${e[name].message}`);
  }
  assert.match(e.escape.message, /checkpoint key "\.\.\/x" is refused: it has a "\.\." segment/);
  assert.match(e.readMissing.message, /missing\.ckpt does not exist in indexeddb:\/\/contract/);
  assert.match(e.underAFile.message, /last\.ckpt is a checkpoint, not a folder/);
  assert.match(e.overAFolder.message, /it is a folder holding m\/model\.ckpt/);
  assert.match(e.unclonable.message, /cannot save last\.ckpt in indexeddb:\/\/contract: the payload holds a value IndexedDB cannot store/);
  assert.deepEqual(r.afterFailedSave, [4, 5], 'a failed save leaves the previous checkpoint as it was');

  const expected = ['last.ckpt', 'm/model.ckpt', 'mut.ckpt', 'view.ckpt', ...orderKeys].sort(byteOrder);
  assert.deepEqual(r.list.map((x: { key: string }) => x.key), expected);
  assert.ok(expected.indexOf('\uFF5E.ckpt') < expected.indexOf('\u{1F600}.ckpt'), 'the expectation itself is in UTF-8 order');
  for (const x of r.list) {
    assert.equal(x.kind, 'file');
    assert.ok(typeof x.size === 'number' && x.size > 0, `${x.key} has a size`);
  }
  assert.equal(r.list.find((x: { key: string }) => x.key === 'view.ckpt').size, 2);
  assert.equal(r.list.find((x: { key: string }) => x.key === 'B.ckpt').size, 6);
  assert.deepEqual(r.listM, ['m/model.ckpt']);
  assert.deepEqual(r.listNone, []);
  assert.deepEqual(r.afterFolderRemoved, { viaFirst: false, listM: [] });

  assert.equal(r.afterClose.ok, false);
  assert.equal(r.afterClose.code, 'io');
  assert.match(r.afterClose.message, /indexeddb:\/\/contract is closed/);
  assert.equal(r.foreign.code, 'conflict');
  assert.match(r.foreign.message, /exists and is not a checkpoint store/);

  for (const [name, pattern] of [
    ['folder', /"\/tmp\/checkpoints" is a folder path: folder stores need Node/],
    ['relative', /"checkpoints" is a folder path: folder stores need Node/],
    ['file', /file:\/\/ stores .* need Node; in a web page the supported locations are indexeddb:\/\/name and memory:\/\/name/],
    ['s3', /s3:\/\/ stores .* need Node/],
    ['gs', /no storage plugin for gs:\/\//],
  ] as const) {
    assert.equal(r.unsupported[name].code, 'unsupported', name);
    assert.match(r.unsupported[name].message, pattern);
  }
  assert.equal(r.memoryShared, true);
  assert.equal(r.noPlace.code, 'unsupported');
  assert.match(r.noPlace.message, /"\/checkpoints" is a folder path/);
});

test('tfjs in a web page: top-k into IndexedDB, interrupted, reloaded, resumed; ends as an uninterrupted run', { timeout: 400_000 }, async (t) => {
  if (skipWithoutChromium(t)) return;
  const page = await openPage();

  const whole = await phase(page, 'whole', { resume: false });
  assert.equal(whole.state, 'finished');
  assert.deepEqual(whole.epochs.map((e) => e.epoch), [0, 1, 2, 3, 4, 5]);

  // the run under test: stops answering after epoch 2, then the page is reloaded
  const first = await phase(page, 'run', { resume: false, interruptAfter: INTERRUPT_AFTER });
  assert.equal(first.state, 'interrupted');
  assert.deepEqual(first.epochs.map((e) => e.epoch), [0, 1, 2]);
  await reload(page);
  const second = await phase(page, 'run', { resume: true });
  assert.equal(second.state, 'finished');
  assert.equal(second.initialEpoch, INTERRUPT_AFTER + 1, `resumed at epoch ${second.initialEpoch}`);
  assert.ok(second.resumedFrom === 'last.ckpt' || second.resumedFrom === ckptName(INTERRUPT_AFTER), `resumed from ${second.resumedFrom}`);
  assert.deepEqual(second.predictionAfterResume, first.epochs[INTERRUPT_AFTER]!.prediction, 'resume loaded the weights of epoch 2');
  assert.deepEqual(second.epochs.map((e) => e.epoch), [3, 4, 5]);

  const epochs = [...first.epochs, ...second.epochs];
  t.diagnostic(`val_loss by epoch: ${epochs.map((e) => e.val_loss.toFixed(4)).join(', ')}`);
  // the resumed epochs are the uninterrupted run's (weights and momentum restored exactly)
  assert.deepEqual(epochs.map((e) => e.val_loss), whole.epochs.map((e) => e.val_loss));

  await reload(page); // what is stored survives another reload
  const kept = expectedKept(epochs);
  const stored = await call(page, 'listing', 'run');
  assert.deepEqual(stored.map((e) => e.key), kept.keys, 'IndexedDB holds exactly the top-2 by val_loss and last.ckpt');
  assert.ok(stored.every((e) => e.kind === 'file' && (e.size ?? 0) > 0));
  assert.deepEqual((await call(page, 'listing', 'whole')).map((e) => e.key), kept.keys, 'the uninterrupted run kept the same');

  // the decisions, carried out in order from an empty store, give exactly what is stored
  const decided = [...first.decided, ...second.decided];
  assert.deepEqual(replay(decided), kept.keys);
  const removed = decided.filter((d) => d.type === 'remove').map((d) => d.key);
  assert.ok(removed.length > 0, 'some checkpoint left the top-k and was removed');
  assert.deepEqual(decided.filter((d) => d.type === 'save' && d.key !== 'last.ckpt').map((d) => d.key).slice(0, 2), [ckptName(0), ckptName(1)], 'the first two epochs are always saved (k=2)');

  // the policy's picture agrees with the losses
  assert.equal(second.bestModelPath, ckptName(kept.best.epoch));
  assert.equal(second.bestModelScore, kept.best.val_loss);
  assert.equal(second.lastModelPath, 'last.ckpt');
  const byEpoch = new Map(epochs.map((e) => [ckptName(e.epoch), e.val_loss]));
  assert.deepEqual(second.bestKModels.map((k) => k.key).sort(byteOrder), kept.keys.filter((k) => k !== 'last.ckpt'));
  for (const k of second.bestKModels) assert.equal(k.score, byEpoch.get(k.key), `score of ${k.key}`);
  assert.deepEqual(second.bestKModels, whole.bestKModels);

  // the best checkpoint loads back and predicts what the model predicted at that epoch
  const loaded = await call(page, 'loadBack', 'run', ckptName(kept.best.epoch));
  assert.deepEqual(loaded.fromTopology, kept.best.prediction);
  assert.deepEqual(loaded.intoFresh, kept.best.prediction);
  assert.deepEqual(second.bestLoaded, kept.best.prediction, "the callback's loadBestModel()");
  assert.ok(kept.best.prediction.every(Number.isFinite));
  await page.close();
  assert.deepEqual(pageErrors, []);
});
