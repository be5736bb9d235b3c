#!/usr/bin/env node
// The `ckpt` command: the bundled CLI (npm run build, or npm pack, writes dist/; .ci/bundle-cli.mjs),
// else the compiled modules when only tsc has run.
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/src/bundle/main.js', import.meta.url);
try {
  await import(bundle.href);
} catch (e) {
  if (!(e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(fileURLToPath(bundle)))) throw e;
  await import('../dist/src/cli/main.js');
}
