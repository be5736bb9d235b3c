/** `ckpt serve --stdio --config FILE`: the options file is read as every other JSON/YAML input is, with positioned errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CKPT, STACK } from './helpers/cli.ts';

function serveWith(file: string, lines: string[] = []) {
  const r = spawnSync(process.execPath, [...CKPT, 'serve', '--stdio', '--config', file], { input: lines.join('\n') + '\n', encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--config: alias bombs, unresolved aliases, duplicate keys, non-mappings and missing files get a clear error; a YAML file with an anchor works', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-serve-config-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const row = (a: string) => `[${Array(10).fill(`*${a}`).join(',')}]`;
  const bomb = write('bomb.yaml', `monitor: val_loss\na: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b ${row('a')}\nc: &c ${row('b')}\nd: &d ${row('c')}\ne: ${row('d')}\n`);
  const cases: Array<[string, RegExp]> = [
    [bomb, /--config: .*bomb\.yaml: too many alias expansions \(more than 100\)/],
    [write('unresolved.yaml', 'monitor: val_loss\nmode: *nope\n'), /--config: .*unresolved\.yaml:2:7: unresolved alias \*nope/],
    [write('dup.json', '{"monitor": "val_loss",\n "monitor": "loss"}'), /--config: .*dup\.json:2:2: Map keys must be unique/],
    [write('list.yaml', '- monitor\n'), /--config .*list\.yaml: the ModelCheckpoint options must be an object .*got a list/],
    [write('bin.yaml', 'monitor\0\0\0'), /--config: .*bin\.yaml does not look like a JSON or YAML text file/],
    [join(dir, 'absent.yaml'), /--config: cannot read .*absent\.yaml: ENOENT/],
  ];
  for (const [file, expected] of cases) {
    const r = serveWith(file);
    assert.equal(r.code, 2, `${file}: ${r.stderr}`);
    assert.match(r.stderr, expected);
    assert.doesNotMatch(r.stderr, STACK);
    assert.equal(r.stdout, '');
  }
  // anchors within bounds resolve: the options are what the aliases say
  const ok = serveWith(write('ok.yaml', 'monitor: &m val_loss\nfilename: "{epoch}"\nsave_top_k: 1\n'), ['{"type":"setup"}', '{"type":"query"}']);
  assert.equal(ok.code, 0, ok.stderr);
  const [, query] = ok.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(query.ok, true, ok.stdout);
  assert.equal(query.state_dict.monitor, 'val_loss');
});
