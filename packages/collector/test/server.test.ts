/**
 * The collector over real HTTP (port 0) into a real SQLite file: what the SDK's uploader
 * sends, and every answer it relies on.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { MAX_UPLOAD_BYTES, chunkEvents, type HunchEvent } from '@hunch/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_RATE_LIMIT, startCollector, type Collector, type CollectorOptions } from '../src/server.js';
import { openSqliteStore, type SqliteStore } from '../src/sqlite-store.js';
import { batchBody, post, shopperEvents, tempDir } from './helpers.js';

let work: Awaited<ReturnType<typeof tempDir>>;
const open: Array<{ collector: Collector; store: SqliteStore }> = [];
let dbCount = 0;

beforeAll(async () => {
  work = await tempDir('server');
});
afterEach(async () => {
  for (const { collector, store } of open.splice(0)) {
    await collector.close();
    await store.close();
  }
});
afterAll(async () => {
  await work?.remove();
});

/** A collector on a free loopback port with its own database. */
async function start(options: Partial<CollectorOptions> = {}): Promise<{ url: string; store: SqliteStore; collector: Collector }> {
  const store = openSqliteStore(join(work.dir, `events-${++dbCount}.sqlite`));
  const collector = await startCollector({ port: 0, rateLimit: false, ...options, store });
  open.push({ collector, store });
  return { url: collector.url, store, collector };
}

const storedIds = async (store: SqliteStore): Promise<string[]> => {
  const ids: string[] = [];
  for await (const event of store.read()) ids.push(event.id);
  return ids;
};

/** A raw request with a body of `bytes` bytes, sent without Content-Length (chunked) when `chunked`. */
function rawPost(url: string, body: Buffer, chunked: boolean, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, ...(chunked ? { 'content-type': 'text/plain' } : { 'content-type': 'text/plain', 'content-length': body.length }) } });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (chunked) {
      // Several chunks, as a streaming client would send them.
      for (let at = 0; at < body.length; at += 8192) req.write(body.subarray(at, at + 8192));
      req.end();
    } else req.end(body);
  });
}

describe('collector: batches', () => {
  it('stores a valid batch and answers every id as accepted', async () => {
    const { url, store } = await start();
    const events = shopperEvents(25, 1);
    const answer = await post(url, batchBody(events));
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ accepted: events.map((e) => e.id), rejected: [] });
    expect(await store.count()).toBe(25);
    expect(new Set(await storedIds(store))).toEqual(new Set(events.map((e) => e.id)));
  });

  it('answers malformed JSON with 400 and the reason, storing nothing', async () => {
    const { url, store } = await start();
    const answer = await post(url, '{"v":1,"sentAt":1,"events":[');
    expect(answer.status).toBe(400);
    expect(answer.json?.error).toMatch(/^body is not valid JSON: /);
    expect(await store.count()).toBe(0);
  });

  it('answers a batch that is not a batch with 400 and the reason', async () => {
    const { url } = await start();
    const events = shopperEvents(2, 2);
    const cases: Array<[unknown, RegExp]> = [
      [[1, 2], /batch must be an object/],
      [{ v: 2, sentAt: 1, events }, /unsupported batch version 2/],
      [{ v: 1, events }, /sentAt must be a timestamp/],
      [{ v: 1, sentAt: 1, events: 'all of them' }, /events must be an array/],
    ];
    for (const [body, reason] of cases) {
      const answer = await post(url, JSON.stringify(body));
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json?.error).toMatch(reason);
    }
  });

  it('accepts the valid events of a batch and rejects the others by id, with reasons', async () => {
    const { url, store } = await start();
    const [a, b, c] = shopperEvents(3, 3) as [HunchEvent, HunchEvent, HunchEvent];
    const unknownName = { ...b, name: 'login' };
    const noItem = { ...c, name: 'add_to_cart', params: {} };
    const answer = await post(url, batchBody([a, unknownName, noItem, 'not an event']));
    expect(answer.status).toBe(200);
    expect(answer.json?.accepted).toEqual([a.id]);
    expect(answer.json?.rejected).toEqual([
      { id: b.id, error: 'unknown event name "login"' },
      { id: c.id, error: 'add_to_cart: item_id is required' },
      { id: '#3', error: 'event must be an object' },
    ]);
    expect(await storedIds(store)).toEqual([a.id]);
  });

  it('stores what it validated and scrubbed, not what the client sent', async () => {
    const { url, store } = await start();
    const [event] = shopperEvents(1, 4) as [HunchEvent];
    const sent = { ...event, name: 'search', params: { search_term: 'mail me at jane.doe@example.com', tracking: 'secret' }, extra: 1 };
    expect((await post(url, batchBody([sent]))).status).toBe(200);
    const stored: HunchEvent[] = [];
    for await (const e of store.read()) stored.push(e);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toEqual({ id: event.id, name: 'search', ts: event.ts, sessionId: event.sessionId, params: { search_term: expect.not.stringContaining('jane.doe') } });
    expect(JSON.stringify(stored[0])).not.toMatch(/secret|extra|jane/);
  });

  it('stores a retried batch once and acknowledges it again', async () => {
    const { url, store } = await start();
    const events = shopperEvents(25, 5);
    const first = await post(url, batchBody(events));
    const again = await post(url, batchBody(events));
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    // The retry is accepted too: the client needs to hear that these ids are stored.
    expect(again.json).toEqual(first.json);
    // Part of a retry overlapping new events; and one id twice in one batch.
    const more = shopperEvents(30, 5).slice(20);
    const overlap = await post(url, batchBody([...more, more[0]!]));
    expect(overlap.json?.accepted).toEqual(more.map((e) => e.id));
    expect(await store.count()).toBe(30);
    const ids = await storedIds(store);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('accepts a sendBeacon body (text/plain) like any other', async () => {
    const { url, store } = await start();
    const events = shopperEvents(10, 6);
    const answer = await post(url, batchBody(events), { 'content-type': 'text/plain;charset=UTF-8' });
    expect(answer.status).toBe(200);
    expect(answer.json?.accepted).toHaveLength(10);
    expect(await store.count()).toBe(10);
  });

  it('accepts the largest body the SDK sends and answers a larger one with 413 and the reason', async () => {
    const { url, store } = await start();
    const events = shopperEvents(1200, 7);
    const { chunks } = chunkEvents(events, MAX_UPLOAD_BYTES);
    const largest = chunks[0]!;
    expect(largest.bytes).toBeGreaterThan(MAX_UPLOAD_BYTES - 1000);
    expect((await post(url, largest.body)).status).toBe(200);
    expect(await store.count()).toBe(largest.ids.length);

    const tooLarge = batchBody(events);
    const answer = await post(url, tooLarge);
    expect(answer.status).toBe(413);
    expect(answer.json?.error).toBe(`body larger than ${MAX_UPLOAD_BYTES} bytes: split the batch`);
    // Without Content-Length (chunked), the cap holds while reading.
    const chunked = await rawPost(url, Buffer.from(tooLarge), true);
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toEqual({ error: `body larger than ${MAX_UPLOAD_BYTES} bytes: split the batch` });
    // A body over a smaller configured cap, sent with its length, by 1 byte.
    const small = await start({ maxBodyBytes: 1000 });
    expect((await rawPost(small.url, Buffer.alloc(1001, ' '), false)).status).toBe(413);
    expect((await rawPost(small.url, Buffer.from(batchBody([]).padEnd(1000, ' ')), false)).status).toBe(200);
    expect(await store.count()).toBe(largest.ids.length);
  });

  it('answers other methods 405, other paths 404, compressed bodies 415', async () => {
    const { url } = await start({ path: '/events' });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/events$/);
    const get = await post(url, undefined, {}, 'GET');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    expect((await post(url, undefined, {}, 'PUT')).status).toBe(405);
    const elsewhere = await post(url.replace(/\/events$/, '/collect'), batchBody([]));
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.json?.error).toBe('not found: uploads go to /events');
    const gzip = await post(url, batchBody([]), { 'content-encoding': 'gzip' });
    expect(gzip.status).toBe(415);
  });

  it('answers 503 with Retry-After when the store fails, acknowledging nothing', async () => {
    const errors: unknown[] = [];
    const { url, store } = await start({ onError: (error) => errors.push(error) });
    await store.close();
    const answer = await post(url, batchBody(shopperEvents(3, 8)));
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.json).toEqual({ error: 'storage unavailable: try again later' });
    expect(String(errors[0])).toMatch(/the store is closed/);
  });
});

describe('collector: CORS', () => {
  const shop = 'https://shop.example';

  it('answers an allowed origin with its CORS headers, never with credentials', async () => {
    const { url, store } = await start({ allowOrigins: [shop, 'http://localhost:8080'] });
    const answer = await post(url, batchBody(shopperEvents(2, 10)), { origin: shop });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(shop);
    expect(answer.headers.get('vary')).toBe('Origin');
    expect(answer.headers.get('access-control-expose-headers')).toBe('Retry-After');
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    expect(await store.count()).toBe(2);
  });

  it('answers the preflight of an allowed origin, and 403 to any other origin', async () => {
    const { url, store } = await start({ allowOrigins: [shop] });
    const preflight = await post(url, undefined, { origin: shop, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }, 'OPTIONS');
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(shop);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('Content-Type');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();

    for (const origin of ['https://evil.example', 'https://shop.example:8443', 'http://shop.example', 'null']) {
      const denied = await post(url, batchBody(shopperEvents(2, 11)), { origin });
      expect(denied.status, origin).toBe(403);
      expect(denied.json?.error).toBe(`origin ${origin} is not allowed to upload`);
      expect(denied.headers.get('access-control-allow-origin')).toBeNull();
      expect((await post(url, undefined, { origin, 'access-control-request-method': 'POST' }, 'OPTIONS')).status).toBe(403);
    }
    expect(await store.count()).toBe(0);
    // No Origin at all (a server, curl): CORS does not apply.
    expect((await post(url, batchBody(shopperEvents(2, 11)))).status).toBe(200);
  });

  it('allows any page only when "*" is configured, and refuses a misspelt origin at start', async () => {
    const none = await start();
    expect((await post(none.url, batchBody([]), { origin: shop })).status).toBe(403);
    const any = await start({ allowOrigins: ['*'] });
    const answer = await post(any.url, batchBody([]), { origin: 'https://anyone.example' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    const store = openSqliteStore(join(work.dir, 'misspelt.sqlite'));
    await expect(startCollector({ store, port: 0, allowOrigins: ['https://shop.example/'] })).rejects.toThrow(
      'allowed origin "https://shop.example/" is not an origin (scheme://host[:port], no path): did you mean "https://shop.example"?',
    );
    await store.close();
  });
});

describe('collector: rate limit', () => {
  it('answers 429 with Retry-After once a client spent its events, storing nothing of that batch', async () => {
    const { url, store } = await start({ rateLimit: { rate: 10, burst: 30 }, allowOrigins: ['https://shop.example'] });
    const events = shopperEvents(50, 20);
    expect((await post(url, batchBody(events.slice(0, 25)))).status).toBe(200);
    const limited = await post(url, batchBody(events.slice(25, 50)), { origin: 'https://shop.example' });
    expect(limited.status).toBe(429);
    // 5 tokens left, 25 needed, 10 a second.
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(limited.json?.error).toBe('rate limit: 10 events per second per client');
    expect(await store.count()).toBe(25);
  });

  it('charges every request by its bytes before parsing it: malformed 64 KB bodies from one client soon get 429, unparsed', async () => {
    // The case, at the default limit (200 a second, bursts of 1,000): a client spends its
    // bucket on events, then sends 200 bodies of 64 KB that are not JSON.
    const { url, store } = await start({ rateLimit: DEFAULT_RATE_LIMIT });
    const { chunks } = chunkEvents(shopperEvents(1200, 21), MAX_UPLOAD_BYTES);
    const started = performance.now();
    let sent = 0;
    for (const chunk of chunks) {
      if (sent + chunk.ids.length > 1000) break;
      expect((await post(url, chunk.body)).status).toBe(200);
      sent += chunk.ids.length;
    }
    // Not JSON from the first byte to the last: 64 KB for JSON.parse to walk through before it fails.
    const junk = `[${'1,'.repeat(MAX_UPLOAD_BYTES / 2 - 2)}`;
    expect(Buffer.byteLength(junk)).toBe(MAX_UPLOAD_BYTES - 3);
    // The server runs in this process: its JSON.parse calls on a 64 KB string show what it parsed.
    const parse = vi.spyOn(JSON, 'parse');
    const parsedJunk = () => parse.mock.calls.filter(([text]) => String(text).length > 60_000).length;
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) statuses.push((await post(url, junk)).status);
    const seconds = (performance.now() - started) / 1000;
    const parsed = parsedJunk();
    parse.mockRestore();
    const count = (status: number) => statuses.filter((s) => s === status).length;
    expect(count(400) + count(429)).toBe(200);
    // Each costs 32 tokens (64 KB at 2 KB a token) of what the events left and what trickled in
    // since the first of them: a few a second.
    const affordable = Math.floor((1000 - sent + seconds * DEFAULT_RATE_LIMIT.rate) / 32);
    expect(count(400), `${count(400)} parsed in ${seconds.toFixed(2)} s`).toBeLessThanOrEqual(affordable);
    expect(parsed).toBe(count(400));
    expect(count(429)).toBeGreaterThan(100);
    expect(await store.count()).toBe(sent);
  });

  it('refuses a malformed body once the client cannot pay for its bytes, with or without Content-Length', async () => {
    // 0.01 tokens a second: no refill to speak of while the test runs; 100 tokens to spend.
    const { url } = await start({ rateLimit: { rate: 0.01, burst: 100 }, trustProxy: true });
    const junk = Buffer.from(`[${'1,'.repeat(MAX_UPLOAD_BYTES / 2 - 2)}`); // 32 tokens
    const parse = vi.spyOn(JSON, 'parse');
    const parsedJunk = () => parse.mock.calls.filter(([text]) => String(text).length > 60_000).length;
    const client = { 'x-forwarded-for': '192.0.2.1' };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(url, junk.toString(), client)).status);
    // 3 × 32 of 100: the 4th is refused before a byte is read.
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
    expect(parsedJunk()).toBe(3);
    const refused = await post(url, junk.toString(), client);
    expect(refused.json?.error).toBe('rate limit: 0.01 events per second per client');
    // 28 tokens short at 0.01 a second, less the trickle since.
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(2700);

    // Chunked (no Content-Length): 1 token up front, the rest once read, still before parsing.
    const chunked = { 'x-forwarded-for': '192.0.2.2' };
    const sendChunked = async () => (await rawPost(url, junk, true, chunked)).status;
    expect([await sendChunked(), await sendChunked(), await sendChunked(), await sendChunked()]).toEqual([400, 400, 400, 429]);
    expect(parsedJunk()).toBe(6);
    parse.mockRestore();
  });

  it('keys clients by socket address, or by the proxy-added X-Forwarded-For entry when told to trust it', async () => {
    const plain = await start({ rateLimit: { rate: 1, burst: 1, per: 'request' } });
    expect((await post(plain.url, batchBody([]), { 'x-forwarded-for': '10.0.0.1' })).status).toBe(200);
    // Without trustProxy the header is ignored: same socket address, same bucket.
    expect((await post(plain.url, batchBody([]), { 'x-forwarded-for': '10.0.0.2' })).status).toBe(429);

    const proxied = await start({ rateLimit: { rate: 1, burst: 1, per: 'request' }, trustProxy: true });
    expect((await post(proxied.url, batchBody([]), { 'x-forwarded-for': '10.0.0.1' })).status).toBe(200);
    expect((await post(proxied.url, batchBody([]), { 'x-forwarded-for': '203.0.113.9, 10.0.0.2' })).status).toBe(200);
    // A client cannot pick its own bucket by prepending addresses: the last one counts.
    const spoofed = await post(proxied.url, batchBody([]), { 'x-forwarded-for': '198.51.100.1, 10.0.0.1' });
    expect(spoofed.status).toBe(429);
    expect(spoofed.headers.get('retry-after')).toBe('1');
  });
});

describe('collector: close', () => {
  it('lets a request in flight finish before close resolves', async () => {
    const { url, store, collector } = await start();
    const events = shopperEvents(25, 30);
    const body = Buffer.from(batchBody(events));
    // Send half the body, close, then send the rest.
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write(body.subarray(0, 100));
      setTimeout(() => req.end(body.subarray(100)), 200);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = collector.close();
    const result = await answer;
    await closed;
    expect(result.status).toBe(200);
    expect(await store.count()).toBe(25);
    await expect(post(url, batchBody([]))).rejects.toThrow();
  });
});
