// The demo storefront's HTTP server: the shop's pages, the SDK build, the model files and
// generated product images, all from localhost. `npm start` runs it; tests import startStorefront.
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const escapeXml = (text) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A simple generated product picture: the category's colour and the product's initials. */
function productSvg(product) {
  const colour = catalog.categories[product.category]?.colour ?? '#777';
  const initials = product.title.split(' ').map((word) => word[0]).join('').slice(0, 3);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="180" viewBox="0 0 240 180">
<rect width="240" height="180" fill="${colour}"/><circle cx="120" cy="90" r="58" fill="#fff" opacity=".18"/>
<text x="120" y="104" font-family="sans-serif" font-size="44" font-weight="700" fill="#fff" text-anchor="middle">${escapeXml(initials)}</text></svg>`;
}

async function resolveFile(pathname, modelsDir) {
  for (const [prefix, dir] of mounts(modelsDir)) {
    if (!pathname.startsWith(prefix)) continue;
    const relative = normalize(decodeURIComponent(pathname.slice(prefix.length)) || 'index.html');
    if (relative.startsWith('..') || relative.includes(`${sep}..`)) return undefined;
    const file = join(dir, relative);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) return { file, size: info.size };
    if (info?.isDirectory()) {
      const index = join(file, 'index.html');
      const indexInfo = await stat(index).catch(() => undefined);
      if (indexInfo?.isFile()) return { file: index, size: indexInfo.size };
    }
    return undefined;
  }
  return undefined;
}

/**
 * Starts the storefront; resolves once it listens. Port 0 picks a free port.
 * @param {{ port?: number, host?: string, modelsDir?: string }} options
 */
export async function startStorefront({ port = 8080, host = '127.0.0.1', modelsDir = join(repo, 'models') } = {}) {
  const server = createServer(async (request, response) => {
    try {
      const { pathname } = new URL(request.url ?? '/', 'http://localhost');
      const image = /^\/img\/([\w-]+)\.svg$/.exec(pathname);
      if (image && productsById.has(image[1])) {
        response.writeHead(200, { 'content-type': CONTENT_TYPES['.svg'], 'cache-control': 'max-age=3600' });
        response.end(productSvg(productsById.get(image[1])));
        return;
      }
      const found = await resolveFile(pathname, modelsDir);
      if (!found) {
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not found');
        return;
      }
      response.writeHead(200, {
        'content-type': CONTENT_TYPES[extname(found.file)] ?? 'application/octet-stream',
        'content-length': found.size,
        'cache-control': 'no-cache',
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
