/** hunch.worker.ort.js: transformers.js on onnxruntime-web/webgpu, for hunch.worker.js. */
import { WEBGPU_BUILD } from './build.js';
import { configureRuntime } from './runtime.js';

configureRuntime(WEBGPU_BUILD);
export * from './module.js';
