/**
 * The <script> tag entry: `<script src="/hunch/hunch.js" data-model="/models/demo/"></script>`
 * makes `window.hunch` (an instance) and `window.Hunch.createHunch` available.
 */
import { createHunch, type Hunch } from './index.js';

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
  const backend = script.dataset.backend;
  window.hunch = createHunch({ model, backend: backend === 'webgpu' || backend === 'wasm' ? backend : 'auto' });
}
