/**
 * How tests run the `ckpt` command: its TypeScript sources through tsx, so a test never runs a
 * stale build. The compiled bin/ckpt.js is what test/package-consumer.test.ts runs, from the
 * packed tarball, as a user gets it.
 */
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** node's arguments before the command's own: `spawn(process.execPath, [...CKPT, 'simulate', …])`. */
export const CKPT: readonly string[] = ['--import', import.meta.resolve('tsx'), MAIN];
