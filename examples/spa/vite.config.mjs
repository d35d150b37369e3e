// Vite config for the SPA example: `npx vite examples/spa` (dev), `npx vite build examples/spa`
// (+ `npx vite preview examples/spa`). Nothing comes from a CDN: the SDK is the workspace
// package @hunch/browser (its built dist/hunch.esm.js, so run `npm run build` at the root first),
// and the plugin below puts the two things Vite does not know about where the browser will ask:
//
// - the model directory, models/demo, at /models/demo/ (served in dev, copied on build);
// - onnxruntime-web: each worker's module of it (hunch.worker.ort.js, hunch.worker.wasm.ort.js)
//   and its .wasm files (packages/browser/dist/ort/). hunch.esm.js finds its workers with
//   `new URL('./hunch.worker.js', import.meta.url)`, which Vite turns into emitted assets
//   (assets/hunch.worker-<hash>.js); a worker then imports `./hunch.worker*.ort.js` (when a model
//   needs onnxruntime) and loads `./ort/<file>.wasm`, relative to its own URL. So both are copied
//   beside wherever the workers were emitted. In dev, the workers are served (untransformed) from
//   packages/browser/dist itself, where both already are.
import { createReadStream } from 'node:fs';
import { cp, stat } from 'node:fs/promises';
import { dirname, extname, join, posix, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(HERE, '../..');
const MODEL_DIR = join(ROOT, 'models/demo');
const SDK_DIST = join(ROOT, 'packages/browser/dist');
const SDK_ORT_DIR = join(SDK_DIST, 'ort');
/** Each worker's onnxruntime module, imported from beside the worker (a path Vite cannot see). */
const ORT_MODULES = ['hunch.worker.ort.js', 'hunch.worker.wasm.ort.js'];
/** Where the app asks for the model (src/main.ts): createHunch({ model: '/models/demo/' }). */
const MODEL_URL_PATH = '/models/demo';

const TYPES = {
  '.json': 'application/json; charset=utf-8',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
};

/** Serves models/demo at /models/demo/ in `vite` dev: a missing file is a 404, never the SPA's index.html. */
function serveModel(request, response, next) {
  let path;
  try {
    path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
  } catch {
    return next();
  }
  const file = resolve(MODEL_DIR, `.${posix.normalize(path)}`);
  if (!file.startsWith(MODEL_DIR + sep)) return void response.writeHead(404).end();
  stat(file).then(
    (info) => {
      if (!info.isFile()) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': info.size, 'cache-control': 'no-cache' });
      if (request.method === 'HEAD') return void response.end();
      createReadStream(file).pipe(response);
    },
    () => response.writeHead(404).end(),
  );
}

/**
 * In dev, the SDK's workers as they are: Vite would otherwise run its import analysis over these
 * self-contained bundles (half a megabyte each, and a warning about onnxruntime's dynamic import).
 */
function serveWorkerRaw(request, response, next) {
  const pathname = new URL(request.url ?? '/', 'http://x').pathname;
  if (!pathname.startsWith('/@fs/') || !/\/hunch\.worker(\.wasm)?(\.ort)?\.js$/.test(pathname)) return next();
  const file = resolve(decodeURIComponent(pathname.slice('/@fs'.length)));
  if (!file.startsWith(SDK_DIST + sep)) return next();
  stat(file).then(
    (info) => {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-length': info.size, 'cache-control': 'no-cache' });
      createReadStream(file).pipe(response);
    },
    () => next(),
  );
}

/** The model at /models/demo/, and onnxruntime's modules and .wasm beside the SDK's emitted workers. */
function hunchFiles() {
  return {
    name: 'hunch-files',
    configureServer(server) {
      server.middlewares.use(MODEL_URL_PATH, serveModel);
      server.middlewares.use(serveWorkerRaw);
    },
    async writeBundle(options, bundle) {
      const outDir = options.dir ?? dirname(options.file);
      await cp(MODEL_DIR, join(outDir, MODEL_URL_PATH), { recursive: true });
      const workerDirs = new Set(
        Object.values(bundle)
          .filter((output) => /(^|\/)hunch\.worker(\.wasm)?-[\w-]+\.js$/.test(output.fileName))
          .map((output) => posix.dirname(output.fileName)),
      );
      if (workerDirs.size === 0) this.warn('no hunch.worker*.js was emitted: the model cannot start (is @hunch/browser built?)');
      for (const dir of workerDirs) {
        await cp(SDK_ORT_DIR, join(outDir, dir, 'ort'), { recursive: true });
        for (const module of ORT_MODULES) await cp(join(SDK_DIST, module), join(outDir, dir, module));
      }
    },
  };
}

export default defineConfig({
  root: HERE,
  appType: 'spa', // dev and preview answer index.html for /category/…, /product/…, /cart
  plugins: [hunchFiles()],
  // Per-key exports, so `import { products } from '…/catalog.json'` bundles the products only (not the popular list).
  json: { stringify: false },
  server: { fs: { allow: [ROOT] } },
  build: { target: 'es2022' },
});
