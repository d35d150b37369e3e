/**
 * hunch.worker.wasm.js: the same model worker with onnxruntime-web's WASM build only (rollup
 * bundles onnxruntime-web/wasm in place of onnxruntime-web/webgpu into hunch.worker.wasm.ort.js,
 * imported only for the files the worker's own GPT-2 does not run), on the plain
 * ort/ort-wasm-simd-threaded.wasm (14 MB, not the 27 MB asyncify build hunch.worker.js needs for
 * WebGPU): forwards about 2x faster and a cold start seconds shorter. The page starts it when the
 * model will run on WASM; a request for WebGPU fails, naming hunch.worker.js.
 */
import { useOrtBuild, WASM_BUILD } from './ort/build.js';
import { serveModelWorker } from './worker.js';

useOrtBuild(WASM_BUILD);
serveModelWorker();
