/**
 * The core imports nothing outside itself but fp-ts and io-ts: no node: module, no package, no
 * file of the rest of src/. Every file under src/core/ is scanned (comments and string contents
 * outside import positions are stripped first) for static imports, re-exports, `import()` and
 * `require()`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../src/core/', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? tsFiles(join(dir, d.name)) : /\.c?ts$/.test(d.name) ? [join(dir, d.name)] : []));
}

/** Source with comments and non-specifier strings blanked out, so an import written in a comment or a string does not count. */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const n = src[i + 1];
    if (c === '/' && n === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
      out += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      // keep a string only where a module specifier stands; blank the others
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out += /(?:\bfrom|\bimport|\bimport\s*\(|\brequire\s*\()\s*$/.test(out.slice(-40)) ? src.slice(i, j + 1) : c + c;
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Every module specifier of a source text. */
export function specifiers(src: string): string[] {
  const code = stripComments(src);
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]!);
  return found;
}

function allowed(file: string, spec: string): boolean {
  if (spec === 'io-ts' || spec.startsWith('fp-ts/')) return true;
  if (!spec.startsWith('./') && !spec.startsWith('../')) return false;
  const target = resolve(dirname(file), spec);
  return !relative(root, target).startsWith('..');
}

test('the scanner finds every kind of import (and none in comments)', () => {
  const src = [
    "import * as t from 'io-ts';",
    "import { a,\n  b } from './x.ts';",
    "export { c } from '../y.ts';",
    "import type { D } from 'node:fs';",
    "import 'side-effect';",
    "const m = await import('node:path');",
    "// import { no } from 'commented';",
    "/* import { no } from 'blocked'; */",
    "const s = 'import x from \"in-a-string\"';",
    "import E = require('fp-ts/lib/Either.js');",
  ].join('\n');
  assert.deepStrictEqual(specifiers(src).sort(), ['../y.ts', './x.ts', 'fp-ts/lib/Either.js', 'io-ts', 'node:fs', 'node:path', 'side-effect'].sort());
  assert.equal(allowed(join(root, 'rules/a.ts'), '../../audit/x.ts'), false);
  assert.equal(allowed(join(root, 'rules/a.ts'), '../files.ts'), true);
  assert.equal(allowed(join(root, 'a.ts'), 'fp-ts/lib/Either.js'), true);
  assert.equal(allowed(join(root, 'a.ts'), 'fast-check'), false);
});

test('src/core imports only src/core, fp-ts and io-ts', () => {
  const files = tsFiles(root);
  assert.ok(files.length > 10, 'the core has files');
  const bad: string[] = [];
  for (const f of files) for (const s of specifiers(readFileSync(f, 'utf8'))) if (!allowed(f, s)) bad.push(`${relative(root, f)}: ${s}`);
  assert.deepStrictEqual(bad, []);
});

test('io-ts and fp-ts are loaded through src/core/deps.cts only (one CommonJS module: the import costs ~7 MB less RSS on Node 20)', () => {
  const files = tsFiles(root);
  assert.ok(files.some((f) => f.endsWith('deps.cts')), 'src/core/deps.cts is scanned');
  const direct: string[] = [];
  for (const f of files) {
    if (relative(root, f) === 'deps.cts') continue;
    for (const s of specifiers(readFileSync(f, 'utf8'))) if (s === 'io-ts' || s.startsWith('fp-ts/')) direct.push(`${relative(root, f)}: ${s}`);
  }
  assert.deepStrictEqual(direct, []);
});
