// Vite config for the SPA example: `npx vite examples/spa` (dev), `npx vite build examples/spa`
// (+ `npx vite preview examples/spa`). Nothing for Hunch: the SDK (@hunch/browser, its built
// dist/hunch.esm.js: run `npm run build` at the root first) finds its workers, their onnxruntime
// modules and .wasm files with `new URL('…', import.meta.url)`, which Vite follows and emits.
import { defineConfig } from 'vite';

export default defineConfig({
  // The model directory, served like any static file: the repository's models/ is this app's
  // public folder, so models/demo is at /demo/ (a shop puts its own in public/).
  publicDir: '../../models',
  // Per-key exports, so `import { products } from '…/catalog.json'` bundles the products only (not the popular list).
  json: { stringify: false },
});
