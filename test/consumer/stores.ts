// openStore on a folder and on memory://, and what s3:// says when the AWS SDK is not installed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, bytesPayload } from 'ckpt-policy/stores';
import { openFsStore } from 'ckpt-policy/stores/fs';
import { tfjsMemoryStore } from 'ckpt-policy/stores/memory';

const dir = mkdtempSync(join(tmpdir(), 'consumer-store-'));
const out: Record<string, unknown> = {};
for (const location of [dir, 'memory://consumer']) {
  const store = await openStore(location);
  await store.save('epoch=1.ckpt', bytesPayload(new TextEncoder().encode('weights')));
  await store.link('epoch=1.ckpt', 'last.ckpt');
  const back = await store.read('last.ckpt');
  out[store.kind] = { keys: (await store.list()).map((e) => e.key), read: back.kind === 'bytes' ? new TextDecoder().decode(back.data) : back.kind };
  await store.close?.();
}
out.direct = [(await openFsStore({ root: dir })).kind, tfjsMemoryStore({ name: 'x' }).kind];
try {
  await openStore('s3://bucket/prefix');
  out.s3 = 'opened';
} catch (e) {
  out.s3 = (e as Error).message;
}
console.log(JSON.stringify(out));
