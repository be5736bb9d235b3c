/**
 * Bundles the compiled CLI (dist/src/cli/main.js, after tsc) into dist/src/bundle/, which bin/ckpt.js
 * runs: one module per subcommand chunk instead of ~60 files to resolve, and commander, yaml, io-ts
 * and fp-ts inlined, so Node neither resolves nor scans them as CommonJS (~0.1 s CPU of start-up).
 * The sweep's worker is a second entry beside the chunks, where src/simulate/workerScript.ts looks
 * for it (`./sweepWorker.js` next to the module); dist/src/bundle is at dist/src/runtime's depth, so
 * the runtime's `../../plugins/` and main's `../../../package.json` resolve as from dist/src.
 * Optional peers, native and lazily loaded packages stay external: they are loaded on demand from
 * node_modules as before.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const outdir = 'dist/src/bundle';
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: 'dist/src/cli/main.js', sweepWorker: 'dist/src/simulate/sweepWorker.js' },
  outdir,
  bundle: true,
  splitting: true, // each subcommand stays a chunk of its own, loaded only when asked for
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@tensorflow/*', '@aws-sdk/*', 'vega', 'vega-lite', 'protobufjs', 'protobufjs/*', 'csv-parse', 'csv-parse/*', '@node-rs/*', 'cli-progress', 'cli-table3', 'esbuild'],
  // core/deps.cts is CommonJS: its `require` needs one in an ES module
  banner: { js: "import { createRequire as __ckptRequire } from 'node:module'; const require = __ckptRequire(import.meta.url);" },
  logLevel: 'warning',
});
