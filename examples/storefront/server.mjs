// The demo storefront's HTTP server: the shop's pages, the SDK build, the model files and
// product images drawn on request from the id (product-image.mjs), all from localhost. `npm start` runs it; tests import startStorefront.
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { productSvg } from './product-image.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..', '..');

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** URL prefix -> directory it is served from. */
const mounts = (modelsDir) => [
  ['/hunch/', join(repo, 'packages', 'browser', 'dist')],
  ['/models/', modelsDir],
  ['/', here],
];

const catalog = JSON.parse(readFileSync(join(here, 'catalog.json'), 'utf8'));
const productsById = new Map(catalog.products.map((product) => [product.id, product]));

async function resolveFile(pathname, modelsDir) {
  for (const [prefix, dir] of mounts(modelsDir)) {
    if (!pathname.startsWith(prefix)) continue;
    const relative = normalize(decodeURIComponent(pathname.slice(prefix.length)) || 'index.html');
    if (relative.startsWith('..') || relative.includes(`${sep}..`)) return undefined;
    const file = join(dir, relative);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) return { file, size: info.size, mtimeMs: info.mtimeMs };
    if (info?.isDirectory()) {
      const index = join(file, 'index.html');
      const indexInfo = await stat(index).catch(() => undefined);
      if (indexInfo?.isFile()) return { file: index, size: indexInfo.size, mtimeMs: indexInfo.mtimeMs };
    }
    return undefined;
  }
  return undefined;
}

const escapeAttribute = (value) => String(value).replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The shop's page with its script tag's attributes for this run: `data-collector` (upload on),
 * `data-holdout` (the global holdout) and `data-demo-experiments` (app.js runs its experiments).
 */
function shopPage(file, attributes) {
  const html = readFileSync(file, 'utf8');
  const tag = '<script src="/hunch/hunch.js"';
  if (!html.includes(tag)) throw new Error(`${file} has no ${tag}> to configure`);
  const added = Object.entries(attributes).map(([name, value]) => ` data-${name}="${escapeAttribute(value)}"`);
  return html.replace(tag, tag + added.join(''));
}

/**
 * Starts the storefront; resolves once it listens. Port 0 picks a free port. With `collector`
 * (an upload URL, `hunch collect`'s), the shop's page sends its shoppers' events there; with
 * `holdout` (a share) the global holdout is on; with `experiments` the page runs the demo's
 * experiments (app.js); with `report` (a function answering the page's HTML) /report serves it.
 * @param {import('./server.d.mts').StorefrontOptions} options
 */
export async function startStorefront({ port = 8080, host = '127.0.0.1', modelsDir = join(repo, 'models'), collector, holdout, experiments = false, report } = {}) {
  const attributes = {
    ...(collector ? { collector } : {}),
    ...(holdout ? { holdout } : {}),
    ...(experiments ? { 'demo-experiments': '' } : {}),
  };
  const server = createServer(async (request, response) => {
    try {
      const { pathname } = new URL(request.url ?? '/', 'http://localhost');
      if (report && pathname === '/report') {
        const html = await report();
        // The report is one self-contained page, regenerated from the database on every visit.
        response.writeHead(200, { 'content-type': CONTENT_TYPES['.html'], 'cache-control': 'no-store' });
        response.end(html);
        return;
      }
      const image = /^\/img\/([\w-]+)\.svg$/.exec(pathname);
      if (image && productsById.has(image[1])) {
        response.writeHead(200, { 'content-type': CONTENT_TYPES['.svg'], 'cache-control': 'max-age=3600' });
        response.end(productSvg(productsById.get(image[1]), catalog.categories));
        return;
      }
      const found = await resolveFile(pathname, modelsDir);
      if (!found) {
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not found');
        return;
      }
      if (Object.keys(attributes).length > 0 && found.file === join(here, 'index.html')) {
        response.writeHead(200, { 'content-type': CONTENT_TYPES['.html'], 'cache-control': 'no-cache' });
        response.end(shopPage(found.file, attributes));
        return;
      }
      // Revalidatable, as a shop's server or CDN serves files: an unchanged hunch.json gets a 304
      // (the SDK's shared worker then keeps its loaded model for the next page).
      const etag = `W/"${found.size}-${Math.round(found.mtimeMs)}"`;
      if (request.headers['if-none-match'] === etag) {
        response.writeHead(304, { etag, 'cache-control': 'no-cache' });
        response.end();
        return;
      }
      response.writeHead(200, {
        'content-type': CONTENT_TYPES[extname(found.file)] ?? 'application/octet-stream',
        'content-length': found.size,
        'cache-control': 'no-cache',
        etag,
      });
      createReadStream(found.file).pipe(response);
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    url: `http://${host}:${typeof address === 'object' && address ? address.port : port}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const port = Number(process.env.PORT ?? 8080);
  const { url } = await startStorefront({ port, host: process.env.HOST ?? '127.0.0.1' });
  console.log(`Hunch demo storefront: ${url}`);
}
