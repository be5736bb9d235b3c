/** TensorFlow.js integration: the fit callback and backend selection. */
export { ModelCheckpoint, type TfjsRuntimeOptions, type ResumePoint } from './callback.ts';
export { useBackend, tryTfjsNode, type BackendChoice } from './backend.ts';
export { resolveLogs } from './logs.ts';
export { captureTfjsModel, loadTfjsModel } from '../../plugins/payload/tfjs.ts';
