/**
 * forget() and consent on the device, end to end: the demo storefront's own page with the
 * script tag under `data-require-consent` (behind the test's proxy), uploading to a real
 * `hunch collect` server (SQLite), in real Chromium, with two tabs of one browser context
 * sharing IndexedDB, localStorage, the Cache API, the consent channel and the model's shared
 * worker. Issue 17:
 *   - forget() in one tab must reach the others: none of them may store or upload anything
 *     until consent is given again;
 *   - before `personalization_storage` is granted Hunch creates nothing on the device (no
 *     cache, no IndexedDB database, no Web Storage key), and forget() leaves nothing behind:
 *     the database is deleted, the model's caches too, in every tab, and the shared worker
 *     holding the model does not bring them back.
 * What is on the device is read with the browser's own APIs, not through the SDK.
 */
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { HunchEvent } from '@hunch/core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { startCollector, type Collector } from '../../packages/collector/src/server.js';
import type { EventStore } from '../../packages/collector/src/store.js';
import { openSqliteStore, type SqliteStore } from '../../packages/collector/src/sqlite-store.js';
import { tempDir } from '../../packages/collector/test/helpers.js';
import { launchChromium } from './chromium.js';
import { startShopProxy, type ShopProxy } from './shop-proxy.js';

const GRANTED = { personalization_storage: 'granted', analytics_storage: 'granted' } as const;
const DENIED = { personalization_storage: 'denied', analytics_storage: 'denied' } as const;

/** What Hunch could have left on the device, as the page's browser APIs list it. */
interface Device {
  caches: string[];
  databases: string[];
  localStorage: string[];
  /** This tab's sessionStorage keys, but the demo shop's own (`demo.cart`, `demo.intentPanel`). */
  sessionStorage: string[];
}

function readDevice(page: Page): Promise<Device> {
  return page.evaluate(async () => {
    const keys = (storage: Storage) => Array.from({ length: storage.length }, (_, i) => storage.key(i)!).sort();
    return {
      caches: (await caches.keys()).sort(),
      databases: (await indexedDB.databases()).map((db) => db.name ?? '').sort(),
      localStorage: keys(localStorage),
      sessionStorage: keys(sessionStorage).filter((key) => !key.startsWith('demo.')),
    };
  });
}

/** Uncaught errors and the SDK's warnings ("[hunch] …") of every page the test opens. */
const problems: string[] = [];
function watch(page: Page): Page {
  page.on('pageerror', (error) => problems.push(`error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'warning' && message.text().startsWith('[hunch]')) problems.push(message.text());
  });
  return page;
}

const NOTHING: Device = { caches: [], databases: [], localStorage: [], sessionStorage: [] };

/**
 * The shop at another origin, through a forwarder that holds the requests `holds` picks until
 * release(): a model load then stops half-way, for as long as the test needs.
 */
async function startGate(upstreamOrigin: string, holds: (path: string) => boolean) {
  const upstream = new URL(upstreamOrigin);
  const held: Array<() => void> = [];
  let open = false;
  const server = createServer((req, res) => {
    const forward = () => {
      const out = httpRequest({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.writeHead(502).end());
      req.pipe(out);
    };
    if (!open && holds(req.url ?? '/')) held.push(forward);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    release() {
      open = true;
      held.splice(0).forEach((forward) => forward());
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Navigates like a shopper clicking through, and waits for that page's recommendations. */
async function visit(page: Page, hash: string): Promise<void> {
  await page.evaluate((target) => {
    location.hash = target;
  }, hash);
  await page.waitForSelector(`#recs[data-route="${hash}"]`, { timeout: 60_000 });
}

/** A search typed into the shop's form (the SDK records it from the form). */
async function search(page: Page, query: string): Promise<void> {
  await page.fill('#search-input', query);
  await page.click('#search-form button[type="submit"]');
  await page.waitForSelector(`#recs[data-route="#/search?q=${encodeURIComponent(query)}"]`, { timeout: 60_000 });
}

const cardSources = (page: Page) => page.$$eval('#recs-cards .card', (cards) => cards.map((card) => (card as HTMLElement).dataset.source ?? ''));

describe('forget() and consent reach every tab and leave nothing on the device', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let store: SqliteStore;
  let collector: Collector;
  let upstream: Awaited<ReturnType<typeof startStorefront>>;
  let proxy: ShopProxy;
  let browser: Browser;
  /** Every event the collector received, with when it arrived. */
  const arrivals: Array<{ id: string; sessionId: string; at: number }> = [];

  beforeAll(async () => {
    work = await tempDir('forget');
    store = openSqliteStore(join(work.dir, 'events.sqlite'));
    // The real store, noting what arrives and when.
    const recording: EventStore = {
      insert: (events: readonly HunchEvent[]) => {
        const at = Date.now();
        arrivals.push(...events.map(({ id, sessionId }) => ({ id, sessionId, at })));
        return store.insert(events);
      },
      count: () => store.count(),
      read: () => store.read(),
      close: () => store.close(),
    };
    collector = await startCollector({ store: recording, port: 0, allowOrigins: ['*'], rateLimit: false });
    upstream = await startStorefront({ port: 0 });
    // The demo shop's page, opt-in (GDPR-style), uploading to the collector; fp32 on WASM runs on
    // onnxruntime-web, so both of the model's caches (its files and onnxruntime's .wasm) are written.
    const html = readFileSync(new URL('../../examples/storefront/index.html', import.meta.url), 'utf8');
    const tag = '<script src="/hunch/hunch.js"';
    if (!html.includes(tag)) throw new Error('the storefront page has no script tag to configure');
    const page = html.replace(tag, `${tag} data-require-consent data-collector="${collector.url}" data-backend="wasm" data-dtype="fp32"`);
    proxy = await startShopProxy(upstream.url, { pages: { '/': ['text/html', page] } });
    browser = await launchChromium({ webgpu: false });
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await upstream?.close();
    await collector?.close();
    await store?.close();
    await work?.remove();
  });

  it('stores nothing on the device before consent, while the shop is browsed with popular items', async () => {
    const context = await browser.newContext();
    try {
      const page = watch(await context.newPage());
      await page.goto(`${proxy.origin}/`);
      await page.waitForSelector('#recs[data-route="#/"]', { timeout: 60_000 });
      for (const id of ['mugs-01', 'mugs-04', 'lamps-02']) await visit(page, `#/product/${id}`);
      await search(page, 'green tea');
      await visit(page, '#/category/mugs');
      // Recommendations were shown all along: the popular items, from catalog.json read by the page.
      expect((await cardSources(page)).length).toBeGreaterThan(0);
      expect(new Set(await cardSources(page))).toEqual(new Set(['popular']));
      const asked = await page.evaluate(async () => {
        const hunch = window.hunch!;
        return {
          status: await hunch.status(),
          intent: await hunch.intent(),
          recs: (await hunch.recommend({ k: 4 })).map((rec) => rec.source),
          history: (await hunch.history()).map((event) => event.name),
          consent: hunch.consent(),
        };
      });
      expect(asked.status).toMatchObject({ backend: 'none', reason: expect.stringContaining('consent') });
      expect(asked.recs).toEqual(['popular', 'popular', 'popular', 'popular']);
      expect(asked.consent).toEqual(DENIED);
      // The page's events are kept, in memory only.
      expect(asked.history).toContain('view_item');
      expect(asked.history).toContain('search');
      await page.evaluate(() => window.hunch!.flush());
      // Long enough for any write the page's start-up or its catalog read would have made.
      await page.waitForTimeout(1_000);
      expect(await readDevice(page)).toEqual(NOTHING);
      expect(arrivals).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('forget() in one tab stops the other from storing and uploading, and erases the database and the model’s caches in both', async () => {
    const context: BrowserContext = await browser.newContext();
    try {
      const first = watch(await context.newPage());
      await first.goto(`${proxy.origin}/`);
      await first.waitForSelector('#recs[data-route="#/"]', { timeout: 60_000 });
      await first.evaluate(() => window.hunch!.consent({ personalization_storage: 'granted', analytics_storage: 'granted' }));
      await visit(first, '#/product/mugs-01');

      // A second tab of the shop: it reads the consent given in the first.
      const second = watch(await context.newPage());
      await second.goto(`${proxy.origin}/#/product/lamps-02`);
      await second.waitForSelector('#recs[data-route="#/product/lamps-02"]', { timeout: 60_000 });
      expect(await second.evaluate(() => window.hunch!.consent())).toEqual(GRANTED);
      for (const id of ['lamps-05', 'lamps-08']) await visit(second, `#/product/${id}`);
      // The model runs for both (recommendations from it), its files and runtime cached.
      expect(await cardSources(second)).toContain('model');
      await expect.poll(async () => (await readDevice(second)).caches, { timeout: 30_000 }).toEqual(['hunch-model-files', expect.stringMatching(/^hunch-ort-/)]);
      const session = await second.evaluate(() => JSON.parse(sessionStorage.getItem('hunch.session') ?? 'null') as { id: string } | null);
      expect(session).not.toBeNull();
      // Its events reach the collector (within the uploader's 5 s debounce).
      await expect.poll(() => arrivals.filter((event) => event.sessionId === session!.id).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
      expect(await readDevice(second)).toMatchObject({ databases: ['hunch'], localStorage: ['hunch.consent'], sessionStorage: ['hunch.session'] });

      await first.evaluate(() => window.hunch!.forget());
      const forgotAt = Date.now();

      // The second tab goes on browsing: page views, products, a search, and more events than
      // make the uploader send at once (50), then a page hide (the uploader's beacon).
      for (const id of ['mugs-04', 'mugs-07']) await visit(second, `#/product/${id}`);
      await search(second, 'lamp');
      const tracked = await second.evaluate(async () => {
        const hunch = window.hunch!;
        const ids = Array.from({ length: 60 }, (_, i) => hunch.track('view_item', { item_id: `teas-0${(i % 9) + 1}`, item_category: 'teas' })!);
        await hunch.flush();
        return ids;
      });
      await second.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      });
      // Past the uploader's debounce (5 s) and then some.
      await second.waitForTimeout(7_000);
      expect(arrivals.filter((event) => event.at >= forgotAt)).toEqual([]);
      expect(arrivals.filter((event) => tracked.includes(event.id))).toEqual([]);

      // Both tabs are back to the defaults (denied): the second keeps its events in memory only.
      expect(await second.evaluate(() => window.hunch!.consent())).toEqual(DENIED);
      const kept = await second.evaluate(async () => (await window.hunch!.export()).storage);
      expect(kept).toBe('memory');
      // Nothing on the device, seen from either tab (sessionStorage is each tab's own).
      expect(await readDevice(first)).toEqual(NOTHING);
      expect(await readDevice(second)).toEqual(NOTHING);
      // And it stays so: neither the tabs nor the shared worker write anything again.
      await first.waitForTimeout(2_000);
      await visit(second, '#/product/mugs-08');
      expect(new Set(await cardSources(second))).toEqual(new Set(['popular']));
      expect(await readDevice(first)).toEqual(NOTHING);
      expect(await readDevice(second)).toEqual(NOTHING);
      expect(arrivals.filter((event) => event.at >= forgotAt)).toEqual([]);

      // Consent given again, in the second tab this time: both tabs store and upload again.
      await second.evaluate(() => window.hunch!.consent({ personalization_storage: 'granted', analytics_storage: 'granted' }));
      await expect.poll(() => first.evaluate(() => window.hunch!.consent())).toEqual(GRANTED);
      const again = await first.evaluate(async () => {
        const hunch = window.hunch!;
        const ids = Array.from({ length: 50 }, (_, i) => hunch.track('view_item', { item_id: `mugs-0${(i % 9) + 1}`, item_category: 'mugs' })!);
        await hunch.flush();
        return ids;
      });
      await expect.poll(() => arrivals.filter((event) => again.includes(event.id)).length, { timeout: 20_000 }).toBe(50);
      expect(arrivals.filter((event) => tracked.includes(event.id))).toEqual([]);
      expect((await readDevice(first)).databases).toEqual(['hunch']);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('forget() while the shared worker is still loading the model: the caches it was filling do not come back', async () => {
    // onnxruntime's .wasm is held: the worker's load stops after caching catalog.json, with the
    // runtime's cache opened and the model files, their manifest copy and the .wasm still to cache.
    const gate = await startGate(proxy.origin, (path) => path.startsWith('/hunch/ort/') && path.endsWith('.wasm'));
    const context = await browser.newContext();
    try {
      const page = watch(await context.newPage());
      await page.goto(`${gate.origin}/`);
      await page.waitForSelector('#recs[data-route="#/"]', { timeout: 60_000 });
      await page.evaluate(() => void window.hunch!.consent({ personalization_storage: 'granted' }));
      const loaded = page.evaluate(() => window.hunch!.status());
      await expect.poll(() => gate.held.length, { timeout: 30_000 }).toBe(1);
      await expect.poll(async () => (await readDevice(page)).caches).toContain('hunch-model-files');
      await page.evaluate(() => window.hunch!.forget());
      gate.release();
      // The load still ends (a page waiting on it gets its answer), then the worker is let go.
      expect((await loaded).backend).toBe('wasm');
      await page.waitForTimeout(2_000);
      expect(await readDevice(page)).toEqual(NOTHING);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await gate.close();
    }
  });
});
