/**
 * Lightning's ModelCheckpoint for TensorFlow.js in Node: the callback of checkpoint.ts opening
 * stores with the Node plugins (folders, file://, s3://, memory://).
 */
import { openStore } from '../../plugins/index.ts';
import type { CheckpointOptions } from '../core/config.ts';
import { ModelCheckpointBase, type TfjsRuntimeOptions } from './checkpoint.ts';

export { ModelCheckpointBase, type TfjsRuntimeOptions, type ResumePoint, type StoreOpener } from './checkpoint.ts';

export class ModelCheckpoint extends ModelCheckpointBase {
  constructor(
    /** ModelCheckpoint's options (Lightning's names or camelCase) */
    options: CheckpointOptions,
    runtime: TfjsRuntimeOptions,
  ) {
    super(options, runtime, (location) => openStore(location));
  }
}
