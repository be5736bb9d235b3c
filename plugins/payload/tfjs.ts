/**
 * TensorFlow.js payloads for Node: capture and load (model.ts, also the browser's) plus the bytes
 * helpers, including the file reader the browser has no use for.
 */
export { captureTfjsModel, loadTfjsModel } from './model.ts';
export { bytesPayload } from './bytes.ts';
export { bytesPayloadFromFile } from './bytesFile.ts';
