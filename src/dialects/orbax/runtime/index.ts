/**
 * `ckpt-policy/orbax/runtime`: Orbax's CheckpointManager carrying out its own decisions on any
 * CheckpointStore (fs, S3, memory, IndexedDB). No node import: it bundles for the browser.
 */
export { OrbaxCheckpointManager, type OrbaxManagerOptions, type SaveOptions } from './manager.ts';
export { OrbaxError, OrbaxInputError, type Item, type Items, type ItemValue } from './inputs.ts';
export { MARKER, METRICS_KEY } from './layout.ts';
