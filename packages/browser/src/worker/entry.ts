/**
 * hunch.worker.js: the model worker with onnxruntime-web's WebGPU build (WebGPU and WASM, on
 * ort/ort-wasm-simd-threaded.asyncify.wasm), in hunch.worker.ort.js beside it. The page starts it
 * when WebGPU may be used.
 */
import { useOrtBuild, WEBGPU_BUILD } from './ort/build.js';
import { serveModelWorker } from './worker.js';

useOrtBuild(WEBGPU_BUILD);
serveModelWorker();
