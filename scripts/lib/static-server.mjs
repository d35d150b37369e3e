// A small static HTTP server for the browser benchmarks: folders mounted under URL prefixes and
// fixed HTML pages, every response cross-origin isolated (COOP + COEP, so performance.now() has
// 5 µs resolution and a module worker from the same origin is allowed), files cacheable as a shop
// would serve them (max-age) and revalidatable (ETag / Last-Modified → 304, which is what the
// SDK's `cache: 'no-cache'` fetch of hunch.json gets on a returning visit). It counts what it
// serves, so a benchmark can check that a returning page really read its files from the cache.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

export const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/**
 * @param {{ mounts: Array<[string, string]>, pages?: Record<string, string>, cacheControl?: string, host?: string }} options
 *   mounts: [URL prefix ending in '/', directory]; pages: exact path → HTML body (served no-store).
 *   stats().served: bytes sent (200s) by path.
 * @returns {Promise<{ url: string, stats: () => { requests: number, bytes: number, notModified: number, notFound: string[], served: Record<string, number> }, resetStats: () => void, close: () => Promise<void> }>}
 */
export async function startStaticServer({ mounts, pages = {}, cacheControl = 'max-age=3600', host = '127.0.0.1' }) {
  let counts = { requests: 0, bytes: 0, notModified: 0, notFound: [], served: {} };
  const server = createServer(async (request, response) => {
    counts.requests++;
    try {
      const { pathname } = new URL(request.url ?? '/', 'http://localhost');
      if (Object.hasOwn(pages, pathname)) {
        response.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store', ...ISOLATION_HEADERS });
        response.end(pages[pathname]);
        return;
      }
      const mount = mounts.find(([prefix]) => pathname.startsWith(prefix));
      const relative = mount && normalize(decodeURIComponent(pathname.slice(mount[0].length)));
      const file = relative && !relative.startsWith('..') && !relative.includes(`${sep}..`) ? join(mount[1], relative) : undefined;
      const info = file && (await stat(file).catch(() => undefined));
      if (!info?.isFile()) {
        counts.notFound.push(pathname);
        response.writeHead(404, { 'content-type': 'text/plain', ...ISOLATION_HEADERS }).end('not found');
        return;
      }
      const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
      const headers = { etag, 'last-modified': info.mtime.toUTCString(), 'cache-control': cacheControl, ...ISOLATION_HEADERS };
      if (request.headers['if-none-match'] === etag) {
        counts.notModified++;
        response.writeHead(304, headers).end();
        return;
      }
      counts.bytes += info.size;
      counts.served[pathname] = (counts.served[pathname] ?? 0) + info.size;
      response.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': info.size });
      createReadStream(file).pipe(response);
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  return {
    url: `http://${host}:${typeof address === 'object' && address ? address.port : 0}/`,
    stats: () => ({ ...counts, notFound: [...counts.notFound], served: { ...counts.served } }),
    resetStats: () => void (counts = { requests: 0, bytes: 0, notModified: 0, notFound: [], served: {} }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
