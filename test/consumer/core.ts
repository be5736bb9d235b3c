// README's "core in ten lines", as a user pastes it.
import { parseConfig, init, reduce, explainEffect, encodeState, decodeState, type Effect } from 'ckpt-policy';

const config = parseConfig({ dirpath: 'checkpoints', monitor: 'val_loss', save_top_k: 3, save_last: true, filename: '{epoch:02d}-{val_loss:.3f}' });
let [state, effects] = init(config, { cwd: '/home/me' });
[state, effects] = reduce(state, { type: 'setup', files: [] });
[state, effects] = reduce(state, { type: 'trainEpochEnded', view: { epoch: 0, globalStep: 100, metrics: { val_loss: 0.42 } } });
const saves = effects.filter((e: Effect) => e.type === 'save').map((e) => (e.type === 'save' ? e.path : ''));
const resumed = decodeState(JSON.parse(JSON.stringify(encodeState(state))));
console.log(JSON.stringify({ saves, explained: effects.map(explainEffect).length, resumed: resumed._tag }));
