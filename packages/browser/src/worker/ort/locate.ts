/**
 * Where this worker's runtime files are: its onnxruntime module (`ort`) and that module's .wasm
 * (`wasm`). By default beside the worker (`./hunch.worker.ort.js`, `./ort/<file>.wasm`), as
 * packages/browser/dist lays them out and the script tag serves them. An app's bundler (Vite,
 * webpack) emits each file on its own, under a hashed name: the page then finds them with
 * `new URL('…', import.meta.url)` (create-hunch.ts) and names them in the worker URL's fragment,
 * `#ort=<url>&wasm=<url>`. Only same-origin http(s) URLs are taken from there.
 */
export type RuntimeFile = 'ort' | 'wasm';

export function runtimeFileUrl(file: RuntimeFile, besideWorker: string): string {
  const here = self.location;
  const named = new URLSearchParams(here.hash.slice(1)).get(file);
  if (named) {
    const url = new URL(named, here.href);
    if ((url.protocol === 'https:' || url.protocol === 'http:') && url.origin === here.origin) return url.href;
  }
  return new URL(besideWorker, here.href).href;
}
