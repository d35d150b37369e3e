/**
 * hunch.worker.js: the model worker with onnxruntime-web's WebGPU build (WebGPU and WASM, on
 * ort/ort-wasm-simd-threaded.asyncify.wasm). The page starts it when WebGPU may be used.
 */
import { configureRuntime, WEBGPU_BUILD } from './runtime.js';
import { serveModelWorker } from './worker.js';

configureRuntime(WEBGPU_BUILD);
serveModelWorker();
