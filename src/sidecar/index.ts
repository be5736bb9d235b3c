/** The JSON-lines sidecar: loop events in, decisions out (ckpt serve --stdio). */
export { serve, type ServeOptions } from './server.ts';
