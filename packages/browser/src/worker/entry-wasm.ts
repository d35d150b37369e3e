/**
 * hunch.worker.wasm.js: the same model worker with onnxruntime-web's WASM build only (rollup
 * bundles onnxruntime-web/wasm in place of onnxruntime-web/webgpu), on the plain
 * ort/ort-wasm-simd-threaded.wasm (14 MB, not the 27 MB asyncify build hunch.worker.js needs for
 * WebGPU): forwards about 2x faster and a cold start seconds shorter. The page starts it when the
 * model will run on WASM; a request for WebGPU fails, naming hunch.worker.js.
 */
import { configureRuntime, WASM_BUILD } from './runtime.js';
import { serveModelWorker } from './worker.js';

configureRuntime(WASM_BUILD);
serveModelWorker();
