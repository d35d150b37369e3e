/**
 * The collector's HTTP endpoint: receives the SDK's upload batches (the protocol is
 * @hunch/core upload.ts), validates them, stores the valid events and answers which ids the
 * browser may forget. An id is acknowledged only after the store has committed it, so an
 * acknowledged event is never lost; anything else is retried by the browser, which is
 * harmless because ids are stable and storing is idempotent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_UPLOAD_BYTES, parseUploadBatch, type UploadResponse } from '@hunch/core';
import { readBody } from './body.js';
import { originPolicy, setCorsHeaders, setPreflightHeaders } from './cors.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import type { EventStore } from './store.js';

export interface CollectorOptions {
  store: EventStore;
  /** Default 8787; 0 picks a free port (see `url`). */
  port?: number;
  /** Default 127.0.0.1 (this machine only): put a TLS-terminating proxy in front, or listen on 0.0.0.0. */
  host?: string;
  /** The path uploads are POSTed to (default '/collect'); any other path is 404. */
  path?: string;
  /**
   * Origins whose pages may upload, matched exactly (`https://shop.example`); `'*'` allows any
   * page. Requests without an Origin header (servers, curl) are always let through: CORS is a
   * browser's rule. Default: none.
   */
  allowOrigins?: readonly string[];
  /**
   * Per-client limit (default 200 events/s, bursts of 1,000); false for none. Every request is
   * charged before its body is parsed (see BYTES_PER_TOKEN), so bodies that turn out malformed
   * are paid for like batches.
   */
  rateLimit?: RateLimitOptions | false;
  /** Largest request body (default MAX_UPLOAD_BYTES, the most the SDK ever sends). */
  maxBodyBytes?: number;
  /** Key the rate limit by the last X-Forwarded-For address (set by your proxy), not the socket's. */
  trustProxy?: boolean;
  /** Where unexpected failures (a store error) are reported; default console.error. */
  onError?: (error: unknown) => void;
}

export interface Collector {
  /** The upload URL, e.g. http://127.0.0.1:8787/collect. */
  url: string;
  /** Stops accepting, lets requests in flight finish, then resolves. The store stays open (it is the caller's). */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8787;
export const DEFAULT_PATH = '/collect';
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { rate: 200, burst: 1000, per: 'event' };
/**
 * Per event, a token pays for one event or this many bytes of body, whichever a request needs
 * more of: every POST costs ceil(bytes / 2 KB), at least 1, charged before its body is parsed
 * (from Content-Length before it is read; a chunked body once it is read), and a batch that
 * parses then pays the rest of its events. 2 KB is about 7 of the SDK's events (~290 bytes
 * each), so SDK batches are still charged by their events, while 64 KB that does not parse
 * costs 32 tokens: at the default 200 a second, about 6 such bodies a second per client.
 * Tokens paid are kept whatever the answer. Per request, a request is one token, charged
 * before its body is read.
 */
export const BYTES_PER_TOKEN = 2048;
/** How long a client may take to send one request (slow clients hold a socket and memory). */
const REQUEST_TIMEOUT_MS = 30_000;
/** Seconds a client waits after a store failure before trying again. */
const STORE_RETRY_AFTER_S = 5;
/** On close, requests still running after this long are cut off. */
const CLOSE_GRACE_MS = 5_000;

function send(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json), 'Cache-Control': 'no-store' });
  res.end(json);
}

function clientKey(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    // The last entry is the one our own proxy added; earlier ones are whatever the client sent.
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').at(-1)?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    // A byte-order mark is legal in a text/plain beacon body but not in JSON.
    return { ok: true, value: JSON.parse(body.toString('utf8').replace(/^\uFEFF/, '')) };
  } catch (error) {
    return { ok: false, error: `body is not valid JSON: ${(error as Error).message}` };
  }
}

export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const { store } = options;
  const path = options.path ?? DEFAULT_PATH;
  if (!path.startsWith('/')) throw new Error(`path must start with "/", got ${JSON.stringify(path)}`);
  const maxBodyBytes = options.maxBodyBytes ?? MAX_UPLOAD_BYTES;
  if (!(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) throw new Error(`maxBodyBytes must be a positive integer, got ${maxBodyBytes}`);
  const checkOrigin = originPolicy(options.allowOrigins ?? []);
  const limiter = options.rateLimit === false ? undefined : new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const trustProxy = options.trustProxy ?? false;
  const onError = options.onError ?? ((error: unknown) => console.error('hunch collector:', error));

  const bodyTokens = (bytes: number) => Math.ceil(bytes / BYTES_PER_TOKEN);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://collector');
    if (url.pathname !== path) return send(res, 404, { error: `not found: uploads go to ${path}` });
    const origin = checkOrigin(req.headers.origin);
    if (!origin.allowed) return send(res, 403, { error: `origin ${req.headers.origin} is not allowed to upload` });
    if (origin.allowOrigin !== undefined) setCorsHeaders(res, origin.allowOrigin);
    if (req.method === 'OPTIONS') {
      setPreflightHeaders(res);
      res.writeHead(204, { Allow: 'POST, OPTIONS' });
      res.end();
      return;
    }
    if (req.method !== 'POST') return send(res, 405, { error: `method ${req.method} not allowed: POST an upload batch` }, { Allow: 'POST, OPTIONS' });
    // Tops what this request has paid up to `total` tokens (at most a full bucket), or answers
    // 429 with when the bucket will hold the rest. What was paid stays paid.
    let paid = 0;
    const charge = (total: number): boolean => {
      const cost = Math.min(Math.max(total, 1), limiter!.burst) - paid;
      if (cost <= 0) return true;
      const admission = limiter!.take(clientKey(req, trustProxy), cost);
      if (admission.ok) {
        paid += cost;
        return true;
      }
      send(res, 429, { error: `rate limit: ${limiter!.rate} ${limiter!.per}s per second per client` }, { 'Retry-After': String(admission.retryAfterSeconds) });
      return false;
    };
    if (limiter) {
      // Charged before a byte of the body is read: an empty bucket answers 429 at once. The
      // declared length is what the read will cost at most (readBody stops there).
      const declared = Number(req.headers['content-length']);
      const upFront = limiter.per === 'event' && Number.isFinite(declared) ? bodyTokens(Math.min(declared, maxBodyBytes)) : 1;
      if (!charge(upFront)) return;
    }
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return send(res, 415, { error: `content-encoding ${encoding} is not supported: send the batch uncompressed` });

    // Any content type: sendBeacon sends text/plain (a type that needs no CORS preflight).
    const body = await readBody(req, maxBodyBytes);
    if (!body.ok) {
      if (body.reason === 'aborted') return; // the client went away: nobody to answer
      // The rest of the body is not read: close the connection rather than drain it.
      return send(res, 413, { error: `body larger than ${maxBodyBytes} bytes: split the batch` }, { Connection: 'close' });
    }
    // A chunked body (no Content-Length) pays for its bytes now, still before it is parsed.
    if (limiter?.per === 'event' && !charge(bodyTokens(body.body.length))) return;
    const json = parseJson(body.body);
    if (!json.ok) return send(res, 400, { error: json.error });
    const parsed = parseUploadBatch(json.value);
    if (!parsed.ok) return send(res, 400, { error: parsed.error });
    const { events } = parsed.batch;
    if (limiter?.per === 'event' && !charge(events.length + parsed.rejected.length)) return;
    try {
      // Resolves once committed: only then may the browser forget these events.
      await store.insert(events);
    } catch (error) {
      onError(error);
      return send(res, 503, { error: 'storage unavailable: try again later' }, { 'Retry-After': String(STORE_RETRY_AFTER_S) });
    }
    // Duplicates are accepted too: they are stored (from an earlier try), which is all the client needs to know.
    const answer: UploadResponse = { accepted: events.map((event) => event.id), rejected: parsed.rejected };
    send(res, 200, answer);
  }

  let closing: Promise<void> | undefined;
  const server: Server = createServer((req, res) => {
    // While closing, hang up once answered: a kept-alive connection would hold close() up.
    res.once('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    handle(req, res).catch((error: unknown) => {
      onError(error);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  const sweeper = limiter ? setInterval(() => limiter.sweep(), 60_000) : undefined;
  sweeper?.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}${path}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (sweeper) clearInterval(sweeper);
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
