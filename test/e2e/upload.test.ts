/**
 * The uploader. First its decisions with injected fetch, timers and randomness (fast,
 * deterministic); then in real Chromium against a real HTTP collector, with the real
 * IndexedDB event store: failures and retries, rejected events, chunk sizes, the page-hide beacon.
 * Last, the whole SDK (script tag) against `hunch collect` itself: uploaded events carry the
 * anonymous shopper id only while there is one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_UPLOAD_BYTES, parseUploadBatch, type HunchEvent } from '@hunch/core';
import type { EventStore } from '../../packages/browser/src/storage/types.js';
import { backoffDelay, createUploader, parseRetryAfter, type UploaderOptions } from '../../packages/browser/src/upload/index.js';
import { join } from 'node:path';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { startCollector, type Collector as HunchCollector } from '../../packages/collector/src/server.js';
import { openSqliteStore, type SqliteStore } from '../../packages/collector/src/sqlite-store.js';
import { tempDir } from '../../packages/collector/test/helpers.js';
import { launchChromium } from './chromium.js';
import { startModuleServer, type ModuleServer } from './module-server.js';

const makeEvent = (n: number, extra: Partial<HunchEvent['params']> = {}): HunchEvent => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  name: 'view_item',
  ts: Date.now() - 1000 + n,
  sessionId: 's1',
  params: { item_id: `sku-${n}`, ...extra },
});

/** Just the outbox half of an EventStore, in memory. */
function fakeStore(events: HunchEvent[]): EventStore & { queued: Map<string, HunchEvent>; cleared: number } {
  const queued = new Map(events.map((e) => [e.id, e]));
  const store = {
    kind: 'memory' as const,
    queued,
    cleared: 0,
    add: (event: HunchEvent) => void queued.set(event.id, event),
    flush: async () => {},
    all: async () => [...queued.values()],
    recent: async () => [],
    outbox: async (limit: number) => [...queued.values()].slice(0, limit),
    acknowledge: async (ids: readonly string[]) => ids.forEach((id) => queued.delete(id)),
    clearOutbox: async () => {
      store.cleared++;
      queued.clear();
    },
    clear: async () => queued.clear(),
    leaving: () => {},
    close: () => {},
  };
  return store;
}

const REQUEST_TIMEOUT = 12_345;
type Reply = (ids: string[], body: string) => Response | Error;

/** An uploader with a scripted collector and timers that only run when the test says. */
function harness(events: HunchEvent[], replies: Reply[], extra: Partial<UploaderOptions> = {}) {
  const store = fakeStore(events);
  const bodies: string[] = [];
  const timers: Array<{ ms: number; run: () => void }> = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    const body = String(init.body);
    bodies.push(body);
    const ids = (JSON.parse(body) as { events: HunchEvent[] }).events.map((e) => e.id);
    const reply = (replies.length > 1 ? replies.shift()! : replies[0]!)(ids, body);
    if (reply instanceof Error) throw reply;
    return reply;
  }) as typeof globalThis.fetch;
  const uploader = createUploader({
    url: 'https://collector.example/e',
    store,
    fetch,
    random: () => 0.5,
    // The request timeout's timers are left out: only the uploader's schedule is of interest.
    setTimeout: (run, ms) => (ms === REQUEST_TIMEOUT ? 0 : timers.push({ ms, run })),
    clearTimeout: () => {},
    locks: null,
    window: null,
    document: null,
    sendBeacon: null,
    debounceMs: 1000,
    requestTimeoutMs: REQUEST_TIMEOUT,
    ...extra,
  });
  return { store, bodies, timers, uploader };
}

const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json', ...headers } });
const acceptAll: Reply = (ids) => json(200, { accepted: ids, rejected: [] });

describe('uploader decisions (injected fetch, timers, random)', () => {
  it('backs off with full jitter up to the cap, and reads Retry-After', () => {
    const options = { baseMs: 1000, capMs: 300_000 };
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, options, () => 0.999))).toEqual([999, 1998, 3996, 7992]);
    expect(backoffDelay(20, options, () => 0.5)).toBe(150_000);
    expect(backoffDelay(5, options, () => 0)).toBe(0);
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('retries network errors, 5xx and 429 (honouring Retry-After), then acknowledges what was accepted', async () => {
    const events = [makeEvent(1), makeEvent(2)];
    const { store, timers, uploader } = harness(events, [
      () => new Error('connection reset'),
      () => json(503, {}),
      () => json(429, {}, { 'retry-after': '7' }),
      acceptAll,
    ]);
    timers.length = 0; // the start-up schedule
    expect(await uploader.flush()).toEqual({ status: 'retrying', acknowledged: 0 });
    expect(await uploader.flush()).toEqual({ status: 'retrying', acknowledged: 0 });
    expect(await uploader.flush()).toEqual({ status: 'retrying', acknowledged: 0 });
    // Full jitter with random() = 0.5: half of 1 s, then half of 2 s; then the collector's 7 s.
    expect(timers.map((t) => t.ms)).toEqual([500, 1000, 7000]);
    timers.at(-1)!.run();
    await expect.poll(() => store.queued.size).toBe(0);
  });

  it('splits a chunk on 413 until the collector takes it', async () => {
    const events = Array.from({ length: 40 }, (_, n) => makeEvent(n, { item_category: 'x'.repeat(200) }));
    const { store, bodies, uploader } = harness(events, [(ids, body) => (body.length > 3000 ? json(413, {}) : acceptAll(ids, body))]);
    expect(await uploader.flush()).toMatchObject({ status: 'done', acknowledged: 40 });
    expect(store.queued.size).toBe(0);
    const delivered = bodies.filter((b) => b.length <= 3000).flatMap((b) => (JSON.parse(b) as { events: HunchEvent[] }).events.map((e) => e.id));
    expect(delivered.sort()).toEqual(events.map((e) => e.id).sort());
  });

  it('drops rejected ids, keeps unanswered ones, and stops for good on a 4xx without ids', async () => {
    const events = [makeEvent(1), makeEvent(2), makeEvent(3)];
    const { store, bodies, uploader } = harness(events, [
      (ids) => json(400, { accepted: [], rejected: [{ id: ids[1], error: 'bad' }] }),
      (ids) => json(200, { accepted: [ids[0]], rejected: [] }),
      () => json(403, { error: 'forbidden' }),
    ]);
    expect(await uploader.flush()).toEqual({ status: 'stopped', acknowledged: 2 });
    expect([...store.queued.keys()]).toEqual([events[2]!.id]);
    expect(bodies).toHaveLength(3);
    expect(await uploader.flush()).toEqual({ status: 'stopped', acknowledged: 0 });
    expect(bodies).toHaveLength(3);
  });

  it('ends a run even when the store cannot forget acknowledged events', async () => {
    const { store, bodies, uploader } = harness([makeEvent(1), makeEvent(2)], [acceptAll]);
    store.acknowledge = async () => {};
    expect(await uploader.flush()).toEqual({ status: 'done', acknowledged: 2 });
    expect(bodies).toHaveLength(1);
  });

  it('sends nothing without consent and empties the outbox when consent is withdrawn', async () => {
    let allowed = false;
    const listeners: Array<() => void> = [];
    const consent = { allows: () => allowed, subscribe: (l: () => void) => (listeners.push(l), () => {}) };
    const { store, bodies, uploader } = harness([makeEvent(1)], [acceptAll], { consent });
    await Promise.resolve();
    expect(store.cleared).toBe(1); // denied at start: queued under no consent
    store.add(makeEvent(2), { upload: true });
    expect(await uploader.flush()).toEqual({ status: 'denied', acknowledged: 0 });
    expect(bodies).toHaveLength(0);
    allowed = true;
    listeners.forEach((l) => l());
    expect(await uploader.flush()).toEqual({ status: 'done', acknowledged: 1 });
    store.add(makeEvent(3), { upload: true });
    allowed = false;
    listeners.forEach((l) => l());
    await expect.poll(() => store.cleared).toBe(2);
    expect(store.queued.size).toBe(0);
  });

  it('adds the shopper id to each event it sends while there is one (read at send time), never to the stored event', async () => {
    let id: string | undefined = 'shopper-0001';
    const first = makeEvent(1);
    const { store, bodies, uploader } = harness([first], [acceptAll], { shopperId: () => id });
    expect(await uploader.flush()).toEqual({ status: 'done', acknowledged: 1 });
    id = undefined; // forget() or a withdrawal erased it
    store.add(makeEvent(2), { upload: true });
    expect(await uploader.flush()).toEqual({ status: 'done', acknowledged: 1 });
    expect(bodies.map((body) => (JSON.parse(body) as { events: HunchEvent[] }).events.map((event) => event.shopperId ?? null))).toEqual([['shopper-0001'], [null]]);
    expect(first.shopperId).toBeUndefined();
  });

  it('uploads at once when many events were added, else within the debounce', () => {
    const { timers, uploader } = harness([], [acceptAll], { eagerCount: 3 });
    expect(timers.map((t) => t.ms)).toEqual([1000]); // leftovers of earlier pages
    uploader.added([makeEvent(1)]);
    expect(timers.map((t) => t.ms)).toEqual([1000]); // already due within the debounce
    uploader.added([makeEvent(2), makeEvent(3)]);
    expect(timers.map((t) => t.ms)).toEqual([1000, 0]);
  });
});

// ---- real Chromium, real IndexedDB store, real HTTP collector ----

interface Collector {
  /** What to answer next; 'ok' stores and accepts (the default when the script runs out). */
  script: Array<'ok' | '503' | 'drop' | '429' | 'strict'>;
  stored: Map<string, HunchEvent>;
  /** Each request as it arrived, `body` the raw text the browser sent (before the collector's own scrubbing). */
  requests: Array<{ at: number; status: string; bytes: number; type: string; ids: string[]; body: string }>;
}

const collector: Collector = { script: [], stored: new Map(), requests: [] };

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => resolve(Buffer.concat(parts)));
    request.on('error', reject);
  });
}

/** A collector as a real one would be, with a script of failures in front. */
async function collect(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  if (!request.url?.startsWith('/collect')) return false;
  const body = await readBody(request);
  const mode = collector.script.shift() ?? 'ok';
  const parsed = parseUploadBatch(JSON.parse(body.toString('utf8')));
  const ids = parsed.ok ? parsed.batch.events.map((e) => e.id) : [];
  collector.requests.push({ at: Date.now(), status: mode, bytes: body.length, type: request.headers['content-type'] ?? '', ids, body: body.toString('utf8') });
  if (mode === 'drop') {
    request.socket.destroy();
    return true;
  }
  if (mode === '503') return void response.writeHead(503).end(), true;
  if (mode === '429') return void response.writeHead(429, { 'retry-after': '1' }).end(), true;
  if (!parsed.ok) return void response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: parsed.error })), true;
  // 'strict' refuses the whole batch when any event is bad, naming the bad ones.
  if (mode === 'strict' && parsed.rejected.length > 0) {
    response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: [], rejected: parsed.rejected }));
    return true;
  }
  for (const event of parsed.batch.events) if (!collector.stored.has(event.id)) collector.stored.set(event.id, event);
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: ids, rejected: parsed.rejected }));
  return true;
}

/** What the test pages hold (cast, not declared globally: other tests declare their own). */
interface UploadPage {
  HunchUpload: typeof import('../../packages/browser/src/upload/index.js');
  HunchStorage: typeof import('../../packages/browser/src/storage/index.js');
  uploadStore?: EventStore;
  uploader?: import('../../packages/browser/src/upload/index.js').Uploader;
}

/** Opens the real store in the page and queues `events` for upload. */
async function queueInPage(page: Page, events: HunchEvent[]): Promise<void> {
  await page.evaluate(async (events) => {
    const w = window as unknown as UploadPage;
    w.uploadStore ??= await w.HunchStorage.openEventStore();
    for (const event of events) w.uploadStore.add(event, { upload: true });
    await w.uploadStore.flush();
  }, events);
}

const outboxSize = (page: Page) => page.evaluate(async () => (await (window as unknown as UploadPage).uploadStore!.outbox(10_000)).length);

describe('uploader in Chromium against a real collector', () => {
  let server: ModuleServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startModuleServer({
      entries: { HunchUpload: 'packages/browser/src/upload/index.ts', HunchStorage: 'packages/browser/src/storage/index.ts' },
      handle: collect,
    });
    browser = await launchChromium({ webgpu: false });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('survives 503, a dropped connection and 429, then stores every event exactly once, in chunks of at most 64 KB', async () => {
    Object.assign(collector, { script: ['503', 'drop', '429'], stored: new Map(), requests: [] });
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}shop`);
    // ~1 KB each: 300 of them need several 64 KB bodies; multi-byte text so bytes != characters.
    const events = Array.from({ length: 300 }, (_, n) => makeEvent(n, { item_category: `tassen ☕ ${n} `.repeat(60).slice(0, 480) }));
    await queueInPage(page, events);
    expect(await outboxSize(page)).toBe(300);

    await page.evaluate(() => {
      const w = window as unknown as UploadPage;
      w.uploader = w.HunchUpload.createUploader({ url: '/collect', store: w.uploadStore!, baseDelayMs: 50, maxDelayMs: 200, debounceMs: 60_000 });
      void w.uploader.flush();
    });
    await expect.poll(() => outboxSize(page), { timeout: 20_000, interval: 200 }).toBe(0);

    expect([...collector.stored.keys()].sort()).toEqual(events.map((e) => e.id).sort());
    expect([...collector.stored.values()].find((e) => e.id === events[7]!.id)).toEqual(events[7]);
    expect(collector.requests.slice(0, 4).map((r) => r.status)).toEqual(['503', 'drop', '429', 'ok']);
    // Retry-After: 1 was honoured.
    expect(collector.requests[3]!.at - collector.requests[2]!.at).toBeGreaterThanOrEqual(950);
    const delivered = collector.requests.filter((r) => r.status === 'ok');
    expect(delivered.length).toBeGreaterThan(1);
    for (const request of collector.requests) {
      expect(request.bytes).toBeLessThanOrEqual(MAX_UPLOAD_BYTES);
      expect(request.type).toBe('application/json');
    }
    // Each accepted id was sent in exactly one successful request.
    expect(delivered.flatMap((r) => r.ids).sort()).toEqual(events.map((e) => e.id).sort());
    await page.context().close();
  });

  it('drops only the events a 400 names as rejected and delivers the rest', async () => {
    Object.assign(collector, { script: ['strict'], stored: new Map(), requests: [] });
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}shop`);
    const good = Array.from({ length: 5 }, (_, n) => makeEvent(100 + n));
    const bad: HunchEvent[] = [{ ...makeEvent(200), params: {} }, { ...makeEvent(201), name: 'search' }];
    await queueInPage(page, [good[0]!, bad[0]!, ...good.slice(1, 3), bad[1]!, ...good.slice(3)]);
    const report = await page.evaluate(async () => {
      const w = window as unknown as UploadPage;
      return w.HunchUpload.createUploader({ url: '/collect', store: w.uploadStore!, debounceMs: 60_000 }).flush();
    });
    expect(report).toEqual({ status: 'done', acknowledged: 7 });
    expect(await outboxSize(page)).toBe(0);
    expect(collector.requests.map((r) => r.status)).toEqual(['strict', 'ok']);
    expect([...collector.stored.keys()].sort()).toEqual(good.map((e) => e.id).sort());
    // The history keeps every event; only the upload queue forgot them.
    expect(await page.evaluate(async () => (await (window as unknown as UploadPage).uploadStore!.all()).length)).toBe(7);
    await page.context().close();
  });

  it('sends a beacon on pagehide and keeps the events queued until a real answer', async () => {
    Object.assign(collector, { script: [], stored: new Map(), requests: [] });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}shop`);
    const events = Array.from({ length: 3 }, (_, n) => makeEvent(300 + n, { search_term: 'mugs for jane@example.com' })).map((e) => ({ ...e, name: 'search' as const }));
    await queueInPage(page, events);
    await page.evaluate((events) => {
      const w = window as unknown as UploadPage;
      w.uploader = w.HunchUpload.createUploader({ url: '/collect', store: w.uploadStore!, debounceMs: 60_000 });
      w.uploader.added(events);
    }, events);
    await page.goto('about:blank'); // pagehide
    await expect.poll(() => collector.requests.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(collector.requests).toHaveLength(1); // visibilitychange + pagehide: one beacon
    expect(collector.requests[0]!.type).toMatch(/^text\/plain/);
    expect(collector.requests[0]!.ids.sort()).toEqual(events.map((e) => e.id).sort());
    // Scrubbed before it left the page: the bytes the browser sent (the collector scrubs again on receipt, so what it stored proves nothing).
    const sentTerms = (body: string) => (JSON.parse(body) as { events: HunchEvent[] }).events.map((e) => e.params.search_term);
    expect(collector.requests[0]!.body).not.toContain('jane@example.com');
    expect(sentTerms(collector.requests[0]!.body)).toEqual(['mugs for [email]', 'mugs for [email]', 'mugs for [email]']);
    expect(collector.stored.get(events[0]!.id)?.params.search_term).toBe('mugs for [email]');

    // A beacon has no answer, so the outbox still holds them; the next page's upload clears it.
    const next = await context.newPage();
    await next.goto(`${server.url}shop`);
    await queueInPage(next, []);
    expect(await outboxSize(next)).toBe(3);
    expect(await next.evaluate(() => {
        const w = window as unknown as UploadPage;
        return w.HunchUpload.createUploader({ url: '/collect', store: w.uploadStore!, debounceMs: 60_000 }).flush();
      })).toEqual({
      status: 'done',
      acknowledged: 3,
    });
    expect(collector.stored.size).toBe(3);
    // The fetch upload (the outbox's unscrubbed events, read back from IndexedDB) is scrubbed as it is sent too.
    expect(collector.requests).toHaveLength(2);
    expect(collector.requests[1]!.type).toBe('application/json');
    expect(collector.requests[1]!.body).not.toContain('jane@example.com');
    expect(sentTerms(collector.requests[1]!.body)).toEqual(['mugs for [email]', 'mugs for [email]', 'mugs for [email]']);
    await context.close();
  });
});

describe('the SDK against hunch collect: the shopper id on uploaded events', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let store: SqliteStore;
  let hunchCollector: HunchCollector;
  let storefront: Awaited<ReturnType<typeof startStorefront>>;
  let browser: Browser;

  beforeAll(async () => {
    work = await tempDir('shopper-upload');
    store = openSqliteStore(join(work.dir, 'events.sqlite'));
    hunchCollector = await startCollector({ store, port: 0, allowOrigins: ['*'], rateLimit: false });
    storefront = await startStorefront({ port: 0 });
    // The test's page is fulfilled by Playwright (no server address), which Chromium's local-network
    // checks take for a public page and refuse the loopback collector: those checks are off.
    browser = await launchChromium({ webgpu: false, args: ['--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessRespectPreflightResults'] });
  });

  afterAll(async () => {
    await browser?.close();
    await storefront?.close();
    await hunchCollector?.close();
    await store?.close();
    await work?.remove();
  });

  /** The stored event of the view_item of `item`, once the collector has it. */
  async function uploaded(item: string): Promise<HunchEvent> {
    let found: HunchEvent | undefined;
    await expect
      .poll(
        async () => {
          for await (const event of store.read()) if (event.params.item_id === item) found = event;
          return found !== undefined;
        },
        { timeout: 20_000, interval: 250 },
      )
      .toBe(true);
    return found!;
  }

  it('adds the id to what it sends with analytics consent (never to what is stored), none before storage consent, after forget() or a withdrawal', async () => {
    const page = await (await browser.newContext()).newPage();
    const tag = `<script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm" data-auto-capture="false" data-require-consent data-collector="${hunchCollector.url}"></script>`;
    await page.route(`${storefront.url}upload.html`, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta charset="utf-8"><title>upload</title>${tag}` }));
    await page.goto(`${storefront.url}upload.html`);
    const view = (item: string) => page.evaluate((item) => void window.hunch!.track('view_item', { item_id: item }), item);

    // Analytics only: uploaded, but there is no id (it needs personalization_storage).
    await page.evaluate(() => void window.hunch!.consent({ analytics_storage: 'granted' }));
    await view('mugs-01');
    expect((await uploaded('mugs-01')).shopperId).toBeUndefined();

    await page.evaluate(() => {
      window.hunch!.consent({ personalization_storage: 'granted' });
      window.hunch!.experiment('hero', ['a', 'b']); // makes the id
    });
    const id = await page.evaluate(() => localStorage.getItem('hunch.shopper'));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await view('mugs-02');
    expect((await uploaded('mugs-02')).shopperId).toBe(id);
    // On the device the event has none.
    const stored = await page.evaluate(async () => (await window.hunch!.history()).find((event) => event.params.item_id === 'mugs-02'));
    expect(stored).toBeDefined();
    expect(stored!.shopperId).toBeUndefined();

    // Storage consent withdrawn (analytics still granted): the id is erased, and uploads carry none.
    await page.evaluate(() => void window.hunch!.consent({ personalization_storage: 'denied' }));
    await view('mugs-03');
    expect((await uploaded('mugs-03')).shopperId).toBeUndefined();

    // Back, a new id; then forget(): none again, even once analytics is granted anew.
    await page.evaluate(() => {
      window.hunch!.consent({ personalization_storage: 'granted' });
      window.hunch!.experiment('hero', ['a', 'b']);
    });
    const second = await page.evaluate(() => localStorage.getItem('hunch.shopper'));
    expect(second).not.toBe(id);
    await view('mugs-04');
    expect((await uploaded('mugs-04')).shopperId).toBe(second);
    await page.evaluate(async () => {
      await window.hunch!.forget();
      window.hunch!.consent({ analytics_storage: 'granted' });
    });
    await view('mugs-05');
    expect((await uploaded('mugs-05')).shopperId).toBeUndefined();
    await page.context().close();
  });
});

