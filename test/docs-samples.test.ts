/**
 * The code samples in README.md and docs/*.md are what users copy: each imports from the package by
 * name (never from a path inside this repository), and every `ckpt-policy/...` entry they name is
 * one that package.json exports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Every import specifier in the page's ts/js code blocks, with where it is. */
function specifiers(page: string): { specifier: string; where: string }[] {
  const text = readFileSync(join(root, page), 'utf8');
  const out: { specifier: string; where: string }[] = [];
  for (const block of text.matchAll(/```(?:ts|typescript|js|javascript|mjs)\n([\s\S]*?)```/g)) {
    const line = text.slice(0, block.index).split('\n').length;
    for (const m of block[1]!.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)) out.push({ specifier: m[1]!, where: `${page}, code block at line ${line}` });
  }
  return out;
}

test('every code sample imports by package name, and only entries the package exports', () => {
  const all = pages.flatMap(specifiers);
  assert.ok(all.filter((s) => s.specifier.startsWith(pkg.name)).length >= 8, 'the docs show the package entries');
  const relative = all.filter((s) => s.specifier.startsWith('.') || s.specifier.startsWith('/'));
  assert.deepEqual(relative, [], 'samples import from the package, not from paths in this repository');
  const entries = new Set(Object.keys(pkg.exports).map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`)));
  const unknown = all.filter((s) => (s.specifier === pkg.name || s.specifier.startsWith(`${pkg.name}/`)) && !entries.has(s.specifier));
  assert.deepEqual(unknown, [], `entries the package exports: ${[...entries].join(', ')}`);
});
