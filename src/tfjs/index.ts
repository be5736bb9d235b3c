/** TensorFlow.js integration for Node: the fit callback and backend selection (the browser entry is browser.ts). */
export { ModelCheckpoint, ModelCheckpointBase, type TfjsRuntimeOptions, type ResumePoint, type StoreOpener } from './callback.ts';
export { useBackend, tryTfjsNode, type BackendChoice } from './backend.ts';
export { resolveLogs } from './logs.ts';
export { captureTfjsModel, loadTfjsModel } from '../../plugins/payload/tfjs.ts';
