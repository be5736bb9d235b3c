// Orbax's CheckpointManager on a store, from the package: three saves with max_to_keep=2 and
// best_fn in a temp folder, then a second manager (a restart) reads the folder back.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OrbaxCheckpointManager } from 'ckpt-policy/orbax/runtime';
import { openFsStore } from 'ckpt-policy/stores/fs';

const dir = mkdtempSync(join(tmpdir(), 'consumer-orbax-'));
const options = { max_to_keep: 2, best_fn: { metric: 'loss' }, best_mode: 'min' };
const store = await openFsStore({ root: dir });
const manager = await OrbaxCheckpointManager.open({ store, options });
for (const [step, loss] of [0.5, 0.3, 0.4].entries()) await manager.save(step, { params: new TextEncoder().encode(`step ${step}`) }, { metrics: { loss } });
await manager.close();
const again = await OrbaxCheckpointManager.open({ store: await openFsStore({ root: dir }), options });
const restored = await again.restore((await again.best_step())!);
await again.close();
const folders = readdirSync(dir).filter((f) => !f.startsWith('.')).sort();
rmSync(dir, { recursive: true, force: true });
const params = restored['params'];
console.log(JSON.stringify({ kept: again.all_steps(), folders, best: params?.kind === 'bytes' ? new TextDecoder().decode(params.data) : null }));
