/**
 * The <script> tag entry, hunch.js: `<script src="/hunch/hunch.js" data-model="/models/demo/"></script>`
 * makes `window.hunch` (an instance, with auto-capture on) and `window.Hunch.createHunch`
 * available. Optional attributes:
 *   data-backend="webgpu|wasm"      the runtime (default: WebGPU when available)
 *   data-dtype="fp32|q8|q4"         the ONNX variant
 *   data-require-consent            store nothing until hunch.consent({...}) grants it
 *   data-collector="/collect"       upload events to the shop's collector
 *   data-auto-capture="false"       no declarative capture (data-hunch-* markup, JSON-LD, routes)
 *   data-shared-worker="false"      a model worker per page, not one shared by the shop's pages
 *   data-holdout="0.1"              a global holdout of that share of shoppers (10% recommended; default off)
 *
 * This file is small on purpose (a loader, like Segment's snippet or PostHog's array.js): it
 * defines `window.hunch` at once as a facade (src/loader/facade.ts) that queues track() calls,
 * answers consent() and starts auto-capture, and imports the rest of the SDK, hunch.sdk.js from
 * beside this script, without blocking the page. Only the loader's modules, consent, capture
 * and the id, clock and log helpers are bundled here: never index.ts (types only).
 */
import type { Hunch, HunchOptions } from './index.js';
import { createFacade } from './loader/facade.js';
import type { SdkModule } from './loader/protocol.js';

declare global {
  interface Window {
    hunch?: Hunch;
    Hunch?: { createHunch: (options: HunchOptions) => Hunch };
  }
}

const SDK_FILE = 'hunch.sdk.js';

// document.currentScript exists only while this script first runs: read everything now.
const script = (document.currentScript ?? document.querySelector('script[src*="hunch.js"]')) as HTMLScriptElement | null;
const base = script?.src;

let sdk: Promise<SdkModule> | undefined;
/** One import for every facade on the page; same-origin, so `script-src 'self'` allows it. */
const loadSdk = (): Promise<SdkModule> =>
  (sdk ??= base ? (import(/* @vite-ignore */ new URL(SDK_FILE, base).href) as Promise<SdkModule>) : Promise.reject(new Error(`cannot locate ${SDK_FILE}: no <script src> for hunch.js`)));

const createHunch = (options: HunchOptions): Hunch => createFacade(options, loadSdk);

window.Hunch = { createHunch };
const model = script?.dataset.model;
if (model && !window.hunch) {
  const { backend, dtype, requireConsent, collector, autoCapture, sharedWorker, holdout } = script.dataset;
  window.hunch = createHunch({
    model,
    backend: backend === 'webgpu' || backend === 'wasm' ? backend : 'auto',
    ...(dtype === 'fp32' || dtype === 'q8' || dtype === 'q4' || dtype === 'pq' ? { dtype } : {}),
    // A bare attribute reads as "": present means on, unless it says "false".
    requireConsent: requireConsent !== undefined && requireConsent !== 'false',
    ...(collector ? { collector } : {}),
    autoCapture: autoCapture !== 'false',
    sharedWorker: sharedWorker !== 'false',
    ...(holdout ? { holdout: Number(holdout) } : {}),
  });
}
