/**
 * What the headless-Chromium tests share: Debian's chromium through playwright-core (never a
 * downloaded browser), a page bundled with esbuild and served from 127.0.0.1, and a bound on every
 * step so none can hang the run.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/** `p`, or a rejection after `ms` that says what was awaited and what the page reported. */
export function within<T>(ms: number, what: string, p: Promise<T>, pageErrors: readonly string[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms; page errors: ${pageErrors.join(' | ') || 'none'}`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export interface ServedPage {
  readonly origin: string;
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Bundles `source` into `dir`, serves it as the page at `/` on 127.0.0.1, and launches chromium. */
export async function servePage(source: string, title: string, dir: string): Promise<ServedPage> {
  const bundle = await build({ entryPoints: [source], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', outfile: join(dir, 'page.js'), logLevel: 'silent' });
  assert.deepEqual(bundle.errors, []);
  writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,"><script type="module" src="/page.js"></script>\n`);
  const files: Record<string, [string, string]> = { '/': ['index.html', 'text/html'], '/page.js': ['page.js', 'text/javascript'] };
  const server = createServer((req, res) => {
    const f = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (f === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': `${f[1]}; charset=utf-8`, 'cache-control': 'no-store' }).end(readFileSync(join(dir, f[0])));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      timeout: 30_000,
    });
    return {
      origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      browser,
      async close() {
        await browser.close().catch(() => undefined);
        await closeServer();
      },
    };
  } catch (e) {
    await closeServer();
    throw e;
  }
}
