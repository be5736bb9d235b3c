/**
 * What `npm run build` does, run from a bench (npm run from inside `npm run bench` may refuse):
 * tsc, then the CLI bundle that bin/ckpt.js prefers. Running tsc alone would leave an older
 * bundle in dist/ for bin/ckpt.js to load, so a bench would time stale code.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let built = false;

/** Builds dist/ once per bench run. */
export function buildOnce(): void {
  if (built) return;
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [join(root, '.ci/bundle-cli.mjs')], { cwd: root, stdio: 'inherit' });
  built = true;
}
