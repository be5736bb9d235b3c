/**
 * TensorFlow.js integration for a web page (the browser entry of `ckpt-policy/tfjs`): the same fit
 * callback, opening `indexeddb://name` and `memory://name` (plugins/browser.ts). Relative dirpaths
 * resolve against '/', so give dirpath as one of those locations, or a `store`. Pick the backend
 * with tfjs itself (`tf.setBackend('webgl' | 'wasm' | 'cpu')`): the Node entry's useBackend looks
 * for tfjs-node, which a page never has.
 */
import { openStore } from '../../plugins/browser.ts';
import type { CheckpointOptions } from '../core/config.ts';
import { ModelCheckpointBase, type TfjsRuntimeOptions } from './checkpoint.ts';

export { ModelCheckpointBase, type TfjsRuntimeOptions, type ResumePoint, type StoreOpener } from './checkpoint.ts';
export { captureTfjsModel, loadTfjsModel } from '../../plugins/payload/model.ts';
export { resolveLogs } from './logs.ts';

export class ModelCheckpoint extends ModelCheckpointBase {
  constructor(
    /** ModelCheckpoint's options (Lightning's names or camelCase) */
    options: CheckpointOptions,
    runtime: TfjsRuntimeOptions,
  ) {
    super(options, runtime, (location) => openStore(location));
  }
}
