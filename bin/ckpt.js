#!/usr/bin/env node
// The `ckpt` command: the compiled CLI (npm run build, or npm pack, writes dist/).
await import('../dist/src/cli/main.js');
