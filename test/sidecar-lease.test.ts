/**
 * `ckpt serve --store DIR`: the folder's writer lease (docs/reliability.md). A setup while another
 * live process holds the folder is answered with an error naming that process; `--take-over` takes
 * it; the lease flags are refused without --store and with a bad TTL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CKPT, STACK } from './helpers/cli.ts';
import { leaseChild } from './helpers/lease-holder.ts';

const SETUP = JSON.stringify({ type: 'setup', files: [] });

function serve(args: string[]) {
  const r = spawnSync(process.execPath, [...CKPT, 'serve', '--stdio', ...args], { input: SETUP + '\n', encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, answers: r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), stderr: r.stderr };
}

test('a second writer through the sidecar is refused naming the holder; --take-over takes the folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-lease-'));
  const { proc: holder } = await leaseChild(dir, 120_000, 2);
  try {
    const opts = ['--options', '{"monitor":"val_loss","save_top_k":2}', '--store', dir];
    const refused = serve(opts);
    const answer = JSON.stringify(refused.answers[0]);
    assert.match(answer, new RegExp(`pid ${holder.pid}\\) holds the folder's writer lease`), answer);
    assert.match(answer, /takeOver/);
    assert.doesNotMatch(refused.stderr, STACK);
    const taken = serve([...opts, '--take-over']);
    assert.equal(taken.answers[0]?.ok, true, JSON.stringify(taken.answers));
  } finally {
    holder.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--take-over and --lease-ttl need --store; a TTL must be a positive number of seconds', () => {
  const a = serve(['--take-over']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--take-over needs --store/);
  const b = serve(['--store', tmpdir(), '--lease-ttl', 'soon']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--lease-ttl: "soon" is not allowed: give a positive number of seconds/);
});
