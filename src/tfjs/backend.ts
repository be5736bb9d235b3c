/**
 * Backend choice for Node: tfjs-node's native backend when it happens to be installed (it cannot
 * be required: its install downloads libtensorflow), otherwise the wasm or the pure-JS cpu backend.
 */
import * as tf from '@tensorflow/tfjs';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** Sets the backend and returns its name. 'auto' prefers tfjs-node, then cpu. */
export async function useBackend(choice: BackendChoice = 'auto'): Promise<string> {
  switch (choice) {
    case 'auto':
      if (await tryTfjsNode()) return setBackend('tensorflow');
      return setBackend('cpu');
    case 'tensorflow':
      if (!(await tryTfjsNode())) throw new Error("backend 'tensorflow' needs @tensorflow/tfjs-node, which is not installed here; use 'wasm' or 'cpu'");
      return setBackend('tensorflow');
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      return setBackend('wasm');
    case 'cpu':
      return setBackend('cpu');
  }
}

/** Loads @tensorflow/tfjs-node if present (registering its 'tensorflow' backend); never throws. */
export async function tryTfjsNode(): Promise<boolean> {
  const name = '@tensorflow/tfjs-node'; // a variable: the package is optional, and must not be resolved at build time
  try {
    await import(name);
    return tf.findBackend('tensorflow') !== null && tf.findBackend('tensorflow') !== undefined;
  } catch {
    return false;
  }
}

async function setBackend(name: string): Promise<string> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
  return tf.getBackend();
}
