/**
 * The storefront behind a proxy a test controls: pages of its own, an optional
 * Content-Security-Policy on every response (workers' scripts included) with a report-uri that
 * collects the violation reports, and a switch that makes it fail like a gone server for the
 * model directory and onnxruntime's files.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The policy the SDK promises to work under (README, "Content Security Policy"). */
export const STRICT_POLICY = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";

/** No inline styles (`<style>` elements, style attributes): what a stricter shop adds (README, "Content Security Policy"). */
export const NO_INLINE_STYLES = "style-src 'self'";

/** Trusted Types enforced: script URLs (Worker, SharedWorker, script.src, importScripts) only from the SDK's `hunch` policy. */
export const TRUSTED_TYPES = "require-trusted-types-for 'script'; trusted-types hunch";

/** STRICT_POLICY with more directives, e.g. `stricterPolicy(NO_INLINE_STYLES)`. */
export const stricterPolicy = (...directives: string[]): string => [STRICT_POLICY, ...directives].join('; ');

/** A page script recording the violations the page itself sees, in window.violations. */
export const VIOLATION_PROBE = `window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));`;

/** Where the policy's reports are POSTed. */
const REPORT_PATH = '/shop-proxy/csp-report';

export interface ShopProxy {
  origin: string;
  /** While true the proxy answers 503 for /models/ and /hunch/ort/. */
  down: boolean;
  /** Every path asked for (query included), oldest first. */
  requested: string[];
  /** Paths refused while down. */
  refused: string[];
  /** Bodies POSTed to the policy's report-uri: violations anywhere, workers included. */
  reports: string[];
  /** Forgets what was requested, refused and reported, and comes back up. */
  reset(): void;
  close(): Promise<void>;
}

export interface ShopProxyOptions {
  /** Pathname -> [content type, body], served by the proxy itself (never cached). */
  pages: Record<string, [string, string]>;
  /** The Content-Security-Policy to add to every response, if any. */
  policy?: string;
}

export async function startShopProxy(upstreamUrl: string, { pages, policy }: ShopProxyOptions): Promise<ShopProxy> {
  const upstream = new URL(upstreamUrl);
  const headers: Record<string, string> = policy ? { 'content-security-policy': `${policy}; report-uri ${REPORT_PATH}` } : {};
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === REPORT_PATH) {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => {
        proxy.reports.push(body);
        res.writeHead(204).end();
      });
      return;
    }
    proxy.requested.push(path);
    const own = pages[path.split('?')[0]!];
    if (own) {
      res.writeHead(200, { ...headers, 'content-type': `${own[0]}; charset=utf-8`, 'cache-control': 'no-cache' }).end(own[1]);
      return;
    }
    if (proxy.down && (path.startsWith('/models/') || path.startsWith('/hunch/ort/'))) {
      proxy.refused.push(path);
      res.writeHead(503, { ...headers, 'content-type': 'text/plain' }).end('down');
      return;
    }
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, path, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...headers });
      answer.pipe(res);
    });
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: ShopProxy = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    down: false,
    requested: [],
    refused: [],
    reports: [],
    reset() {
      proxy.down = false;
      proxy.requested.length = 0;
      proxy.refused.length = 0;
      proxy.reports.length = 0;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return proxy;
}
