/**
 * The <script> tag entry: `<script src="/hunch/hunch.js" data-model="/models/demo/"></script>`
 * makes `window.hunch` (an instance, with auto-capture on) and `window.Hunch.createHunch`
 * available. Optional attributes:
 *   data-backend="webgpu|wasm"      the runtime (default: WebGPU when available)
 *   data-dtype="fp32|q8|q4"         the ONNX variant
 *   data-require-consent            store nothing until hunch.consent({...}) grants it
 *   data-collector="/collect"       upload events to the shop's collector
 *   data-auto-capture="false"       no declarative capture (data-hunch-* markup, JSON-LD, routes)
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
  const { backend, dtype, requireConsent, collector, autoCapture } = script.dataset;
  window.hunch = createHunch({
    model,
    backend: backend === 'webgpu' || backend === 'wasm' ? backend : 'auto',
    ...(isModelDtype(dtype) ? { dtype } : {}),
    // A bare attribute reads as "": present means on, unless it says "false".
    requireConsent: requireConsent !== undefined && requireConsent !== 'false',
    ...(collector ? { collector } : {}),
    autoCapture: autoCapture !== 'false',
  });
}
