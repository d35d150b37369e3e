/**
 * The <script> tag entry: `<script src="/hunch/hunch.js" data-model="/models/demo/"></script>`
 * makes `window.hunch` (an instance) and `window.Hunch.createHunch` available. Optional:
 * `data-backend="webgpu|wasm"`, `data-dtype="fp32|q8|q4"` (the ONNX variant).
 */
import { createHunch, type Hunch } from './index.js';
import { isModelDtype } from './worker/variant.js';

declare global {
  interface Window {
    hunch?: Hunch;
    Hunch?: { createHunch: typeof createHunch };
  }
}

window.Hunch = { createHunch };
const script = document.currentScript as HTMLScriptElement | null;
const model = script?.dataset.model;
if (model && !window.hunch) {
  const { backend, dtype } = script.dataset;
  window.hunch = createHunch({
    model,
    backend: backend === 'webgpu' || backend === 'wasm' ? backend : 'auto',
    ...(isModelDtype(dtype) ? { dtype } : {}),
  });
}
