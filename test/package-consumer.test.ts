/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh project, every
 * documented entry imported by name, a short program per use type-checked with the project's
 * TypeScript and run, and the compiled `ckpt` command run from node_modules/.bin. First with the
 * core's dependencies only (no tfjs, AWS SDK or vega may arrive), then with the optional peers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = (await import(join(root, 'package.json'), { with: { type: 'json' } })).default as { version: string; devDependencies: Record<string, string> };
const work = mkdtempSync(join(tmpdir(), 'ckpt-consumer-'));
const project = join(work, 'app');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const PEERS = ['@tensorflow/tfjs', '@aws-sdk/client-s3', '@aws-sdk/lib-storage', 'vega', 'vega-lite'];

let tarball = '';
let packed: { path: string; size: number }[] = [];

before(() => {
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], root)) as [{ filename: string; files: { path: string; size: number }[] }];
  tarball = join(work, info.filename);
  packed = info.files;
  cpSync(join(root, 'test/consumer'), join(project, 'src'), { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const tsconfig = (files: string[], skipLibCheck: boolean) =>
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', rootDir: 'src', skipLibCheck, typeRoots: [join(root, 'node_modules/@types')], types: ['node'] },
      files: files.map((f) => `src/${f}`),
    });
  // the core's programs are checked with every declaration file (ours included); tfjs' own need skipLibCheck
  writeFileSync(join(project, 'tsconfig.core.json'), tsconfig(['core.ts', 'stores.ts', 'loop.ts', 'entries.ts', 'orbax-runtime.ts'], false));
  writeFileSync(join(project, 'tsconfig.tfjs.json'), tsconfig(['tfjs-fit.ts'], true));
});

after(() => rmSync(work, { recursive: true, force: true }));

/** Every package folder under node_modules (scoped ones as @scope/name). */
function installed(): string[] {
  const nm = join(project, 'node_modules');
  return readdirSync(nm)
    .filter((d) => !d.startsWith('.'))
    .flatMap((d) => (d.startsWith('@') ? readdirSync(join(nm, d)).map((s) => `${d}/${s}`) : [d]));
}

function megabytes(dir: string): number {
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) bytes += statSync(p).size;
    }
  };
  walk(dir);
  return Math.round(bytes / 1e5) / 10;
}

function compile(config: string): void {
  const r = spawnSync(process.execPath, [tsc, '-p', config], { cwd: project, encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc -p ${config}:\n${r.stdout}${r.stderr}`);
}

function runJson(program: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, [join(project, 'out', program)], { cwd: project, encoding: 'utf8' });
  assert.equal(r.status, 0, `${program}:\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

const ckpt = (...args: string[]) => spawnSync(join(project, 'node_modules/.bin/ckpt'), args, { cwd: project, encoding: 'utf8' });

test('the tarball holds built code with types, the docs, README and LICENSE: no sources, tests, fixtures, bench or source maps', (t) => {
  const paths = packed.map((f) => f.path);
  const stray = paths.filter((p) => !/^(dist\/.*\.(c?js|d\.c?ts)|bin\/ckpt\.js|docs\/[^/]+\.(md|png)|README\.md|LICENSE|package\.json)$/.test(p));
  assert.deepEqual(stray, []);
  for (const p of ['dist/src/core/index.js', 'dist/src/core/index.d.ts', 'dist/src/cli/main.js', 'LICENSE', 'README.md']) assert.ok(paths.includes(p), p);
  t.diagnostic(`tarball: ${paths.length} files, ${Math.round(statSync(tarball).size / 1024)} KB packed, ${Math.round(packed.reduce((a, f) => a + f.size, 0) / 1024)} KB unpacked`);
});

test('a core-only install: no tfjs, AWS SDK or vega; every entry that needs none of them loads; each use type-checks and runs', (t) => {
  npm(['install', tarball], project);
  const names = installed();
  assert.ok(names.includes('ckpt-policy'));
  for (const heavy of names) assert.ok(!/^(@tensorflow\/|@aws-sdk\/|vega|tsx$|esbuild$|typescript$)/.test(heavy), `${heavy} was installed with the core`);
  t.diagnostic(`core-only install: ${names.length} packages, ${megabytes(join(project, 'node_modules'))} MB of node_modules`);

  compile('tsconfig.core.json');
  const core = runJson('core.js');
  assert.deepEqual(core, { saves: ['/home/me/checkpoints/epoch=00-val_loss=0.420.ckpt', '/home/me/checkpoints/last.ckpt'], explained: 2, resumed: 'Right' });

  const entries = runJson('entries.js');
  for (const [entry, kind] of Object.entries(entries)) assert.equal(kind, 'function', `${entry}: ${kind}`);

  const stores = runJson('stores.js') as { fs: unknown; memory: unknown; direct: unknown; s3: string };
  assert.deepEqual(stores.fs, { keys: ['epoch=1.ckpt', 'last.ckpt'], read: 'weights' });
  assert.deepEqual(stores.memory, { keys: ['epoch=1.ckpt', 'last.ckpt'], read: 'weights' });
  assert.deepEqual(stores.direct, ['fs', 'memory']);
  assert.match(stores.s3, /the S3 store \(s3:\/\/bucket\/prefix\) needs @aws-sdk\/client-s3 and @aws-sdk\/lib-storage, which is not installed: npm i @aws-sdk\/client-s3@3 @aws-sdk\/lib-storage@3/);

  // val_loss 0.9 0.5 0.7 0.3 0.6 0.4: the best two are epochs 3 and 5 (Lightning names them key=value), and last.ckpt
  assert.deepEqual(runJson('loop.js'), { keys: ['epoch=3-val_loss=0.30.ckpt', 'epoch=5-val_loss=0.40.ckpt', 'last.ckpt'], best: 'epoch=3-val_loss=0.30.ckpt' });
});

test('the compiled ckpt command: --version, --help, the real conformance job, and a clear word for each missing optional peer', () => {
  const version = ckpt('--version');
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), pkg.version);
  assert.match(ckpt('--help').stdout, /^ {2}simulate <log\.\.\.> +replay a checkpoint policy/m);
  const conformance = ckpt('conformance', join(root, 'test/fixtures/conformance/lightning-2.6.2'));
  assert.equal(conformance.status, 0, conformance.stdout + conformance.stderr);
  assert.match(conformance.stdout, /^total: 400 passed, 0 failed$/m);

  const demo = ckpt('demo');
  assert.equal(demo.status, 2);
  assert.equal(demo.stderr.trim(), 'ckpt: ckpt demo needs @tensorflow/tfjs, which is not installed: npm i @tensorflow/tfjs@4');
  const html = ckpt('simulate', '--set', 'monitor=val_loss', '--html', join(work, 'report.html'), join(root, 'test/fixtures/logs/tiny-val.csv'));
  assert.equal(html.status, 2, html.stdout + html.stderr);
  assert.match(html.stderr, /^ckpt: the HTML report needs vega and vega-lite, which is not installed: npm i vega@6 vega-lite@6$/m);
  assert.doesNotMatch(html.stderr, /\n\s+at /, 'no stack trace');
});

/** What a bundler targeting the browser makes of `contents`, importing from the installed package. */
const bundleForBrowser = (contents: string, external: string[] = []) =>
  build({ stdin: { contents, resolveDir: project, loader: 'js' }, bundle: true, platform: 'browser', format: 'esm', minify: true, write: false, metafile: true, external, logLevel: 'silent' });

test('the core bundles for a browser with no node built-ins', async (t) => {
  const r = await bundleForBrowser("export * from 'ckpt-policy';");
  const inputs = Object.keys(r.metafile.inputs);
  assert.deepEqual(inputs.filter((i) => i.startsWith('node:') || /(^|\/)(fs|path|crypto)$/.test(i)), []);
  assert.ok(inputs.some((i) => i.includes('ckpt-policy/dist/src/core/reduce.js')), 'the reducer is in the bundle');
  const code = r.outputFiles[0]!.contents;
  t.diagnostic(`core browser bundle: ${Math.round(code.byteLength / 1024)} KB minified, ${Math.round(gzipSync(code).byteLength / 1024)} KB gzipped`);
});

test('a bundler targeting the browser gets the browser builds of the tfjs callback and the stores', async (t) => {
  const r = await bundleForBrowser("export { ModelCheckpoint } from 'ckpt-policy/tfjs'; export { openStore, indexedDbStore } from 'ckpt-policy/stores';", ['@tensorflow/tfjs']);
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.some((i) => i.endsWith('ckpt-policy/dist/src/tfjs/browser.js')), 'the tfjs browser entry');
  assert.ok(inputs.some((i) => i.endsWith('ckpt-policy/dist/plugins/browser.js')), 'the stores browser entry');
  assert.deepEqual(inputs.filter((i) => /plugins\/(fs|s3)\//.test(i) || i.startsWith('node:')), [], 'no node store in a browser bundle');
  const code = r.outputFiles[0]!.contents;
  t.diagnostic(`tfjs callback + stores browser bundle (tfjs external): ${Math.round(code.byteLength / 1024)} KB minified, ${Math.round(gzipSync(code).byteLength / 1024)} KB gzipped`);
});

test('ckpt-policy/orbax/runtime: OrbaxCheckpointManager saves, deletes and restarts on a folder from the installed package, and bundles for a browser with no node built-ins', async () => {
  // compiled with the core's programs by the core-only install test above
  assert.deepEqual(runJson('orbax-runtime.js'), { kept: [1, 2], folders: ['1', '2'], best: 'step 1' });
  const r = await bundleForBrowser("export { OrbaxCheckpointManager } from 'ckpt-policy/orbax/runtime';");
  const inputs = Object.keys(r.metafile.inputs);
  assert.deepEqual(inputs.filter((i) => i.startsWith('node:') || /(^|\/)(fs|path|crypto|os)$/.test(i)), []);
  assert.ok(inputs.some((i) => i.endsWith('ckpt-policy/dist/src/dialects/orbax/runtime/manager.js')));
});

test('with the optional peers installed: tfjs fit saves into a folder and resumes, and the HTML report draws', (t) => {
  npm(['install', ...PEERS.map((p) => `${p}@${pkg.devDependencies[p]}`)], project);
  t.diagnostic(`full install: ${installed().length} packages, ${megabytes(join(project, 'node_modules'))} MB of node_modules`);
  const loads = spawnSync(process.execPath, ['--input-type=module', '-e', "const [a, b, c] = await Promise.all([import('ckpt-policy/tfjs'), import('ckpt-policy/stores/s3'), import('ckpt-policy/keras/tfjs')]); console.log(typeof a.ModelCheckpoint, typeof a.useBackend, typeof b.s3Store, typeof c.modelCheckpoint)"], { cwd: project, encoding: 'utf8' });
  assert.equal(loads.stdout.trim(), 'function function function function', loads.stderr);
  compile('tsconfig.tfjs.json');
  const fit = runJson('tfjs-fit.js') as { initialEpoch: number; keys: string[]; best: string; scores: number[]; prediction: number };
  assert.equal(fit.initialEpoch, 3, 'the second fit continues after the first one\'s three epochs');
  // two best by val_loss over five epochs, and last.ckpt from epoch 4
  assert.equal(fit.keys.length, 3, fit.keys.join(' '));
  assert.ok(fit.keys.includes('last.ckpt'));
  assert.ok(fit.keys.includes(fit.best), `${fit.best} is kept`);
  const fromNames = fit.keys.filter((k) => k !== 'last.ckpt').map((k) => Number(/val_loss=([\d.]+)\.ckpt$/.exec(k)![1]));
  assert.deepEqual(fromNames.sort(), fit.scores.map((s) => Number(s.toFixed(4))).sort());
  assert.ok(Number.isFinite(fit.prediction));

  const html = ckpt('simulate', '--set', 'monitor=val_loss', '--html', join(work, 'report.html'), join(root, 'test/fixtures/logs/tiny-val.csv'));
  assert.equal(html.status, 0, html.stdout + html.stderr);
  assert.ok(statSync(join(work, 'report.html')).size > 1000);
});
