/**
 * Selects TensorFlow.js's wasm backend: ~25x faster than the pure-JS cpu backend and
 * available everywhere Node runs (tfjs-node needs a native download; it is optional).
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

let ready: Promise<void> | undefined;

export function useWasmBackend(): Promise<void> {
  ready ??= (async () => {
    // Point the loader at the package's own .wasm files by path: bundlers and test
    // runners may load the ESM build, whose default is to fetch them relative to a URL.
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    setWasmPaths(`${dirname(entry)}/`);
    if (!(await tf.setBackend('wasm'))) throw new Error('the TensorFlow.js wasm backend failed to start');
    await tf.ready();
  })();
  return ready;
}
