/** hunch.worker.wasm.ort.js: transformers.js on onnxruntime-web/wasm (rollup swaps the build in), for hunch.worker.wasm.js. */
import { WASM_BUILD } from './build.js';
import { configureRuntime } from './runtime.js';

configureRuntime(WASM_BUILD);
export * from './module.js';
