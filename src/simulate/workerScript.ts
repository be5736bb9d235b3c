/**
 * The file a sweep's worker threads run. From the built package it is the compiled sweepWorker.js
 * beside this module. From the TypeScript sources, a worker would have to start a TypeScript
 * loader of its own (a loader given with `--import` is not carried into worker threads on Node
 * 20), costing more than most runs take to simulate; instead the worker's code is bundled once per
 * process with esbuild (tsx's own compiler, a pinned devDependency) into one plain .mjs, which
 * every worker then loads as it would the built file.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let bundled: Promise<URL> | null = null;

/** The worker's module URL; bundles it on the first call from the sources. */
export function sweepWorkerScript(): Promise<URL> {
  if (!import.meta.url.endsWith('.ts')) return Promise.resolve(new URL('./sweepWorker.js', import.meta.url));
  bundled ??= bundle(new URL('./sweepWorker.ts', import.meta.url)).catch((e: unknown) => {
    bundled = null; // a later sweep may try again
    throw e;
  });
  return bundled;
}

async function bundle(entry: URL): Promise<URL> {
  const { build } = await import('esbuild');
  // inside the checkout's node_modules, so that the packages the bundle leaves out resolve from there
  const dir = fileURLToPath(new URL('../../node_modules/.cache/ckpt-policy/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `sweep-worker-${process.pid}-${randomUUID()}.mjs`);
  await build({
    entryPoints: [fileURLToPath(entry)],
    outfile: out,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // the core loads io-ts and fp-ts through a CommonJS module (core/deps.cts), whose `require` an ES module lacks
    banner: { js: "import { createRequire as __ckptRequire } from 'node:module'; const require = __ckptRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  process.once('exit', () => rmSync(out, { force: true }));
  return pathToFileURL(out);
}
