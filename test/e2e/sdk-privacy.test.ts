/**
 * The SDK's public API in real Chromium, for what a shopper's privacy depends on: under
 * requireConsent nothing reaches the device before consent, the page's events are kept once it
 * is given and erased when it is withdrawn; personal data typed into search or carried in a URL
 * is scrubbed before storage; forget() erases events, session and consent record in every tab;
 * export() returns what is kept; upload follows analytics consent. Storage is read back with
 * the raw IndexedDB / Web Storage APIs, not through the SDK.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hunch, HunchOptions } from '../../packages/browser/src/index.js';
import { launchChromium } from './chromium.js';
import { startModuleServer, type ModuleServer } from './module-server.js';

interface SdkPage {
  HunchSdk: typeof import('../../packages/browser/src/index.js');
  hunch: Hunch;
}

interface Raw {
  /** Events in IndexedDB (null when the database does not exist at all). */
  events: Array<{ id: string; name: string; params: Record<string, unknown> }> | null;
  outbox: number | null;
  session: string | null;
  consent: string | null;
}

/** What is on the device, read without the SDK (indexedDB.databases() so that reading creates nothing). */
function readDevice(page: Page): Promise<Raw> {
  return page.evaluate(async () => {
    const session = sessionStorage.getItem('hunch.session');
    const consent = localStorage.getItem('hunch.consent');
    const exists = (await indexedDB.databases()).some((db) => db.name === 'hunch');
    if (!exists) return { events: null, outbox: null, session, consent };
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('hunch');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const read = <T,>(store: string, method: 'getAll' | 'count') =>
      new Promise<T>((resolve, reject) => {
        const request = db.transaction(store).objectStore(store)[method]();
        request.onsuccess = () => resolve(request.result as T);
        request.onerror = () => reject(request.error);
      });
    const events = await read<Raw['events']>('events', 'getAll');
    const outbox = await read<number>('outbox', 'count');
    db.close();
    return { events, outbox, session, consent };
  });
}

/** Creates the SDK on the page (no model: recommendations fall back, which is not tested here). */
async function start(page: Page, options: Pick<HunchOptions, 'requireConsent' | 'collector'> = {}): Promise<void> {
  await page.evaluate((options) => {
    const w = window as unknown as SdkPage;
    w.hunch = w.HunchSdk.createHunch({ model: '/no-model/', ...options });
  }, options);
}

const track = (page: Page, count: number, prefix: string) =>
  page.evaluate(
    async ({ count, prefix }) => {
      const { hunch } = window as unknown as SdkPage;
      const ids = [];
      for (let i = 0; i < count; i++) ids.push(hunch.track('view_item', { item_id: `${prefix}-${i}` })!);
      await hunch.flush();
      return ids;
    },
    { count, prefix },
  );

const received: Array<{ id: string }> = [];
function collector(request: IncomingMessage, response: ServerResponse): boolean {
  if (!request.url?.startsWith('/collect')) return false;
  const parts: Buffer[] = [];
  request.on('data', (part: Buffer) => parts.push(part));
  request.on('end', () => {
    const events = (JSON.parse(Buffer.concat(parts).toString('utf8')) as { events: Array<{ id: string }> }).events;
    received.push(...events);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: events.map((e) => e.id), rejected: [] }));
  });
  return true;
}

describe('the SDK and the shopper’s privacy, in Chromium', () => {
  let server: ModuleServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startModuleServer({ entries: { HunchSdk: 'packages/browser/src/index.ts' }, module: true, handle: collector });
    browser = await launchChromium({ webgpu: false });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('under requireConsent stores nothing before consent, keeps the page’s events once given, erases them when withdrawn', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}shop`);
    await start(page, { requireConsent: true });
    const before = await track(page, 5, 'early');
    expect(await readDevice(page)).toEqual({ events: null, outbox: null, session: null, consent: null });
    const kept = await page.evaluate(() => (window as unknown as SdkPage).hunch.export());
    expect(kept.storage).toBe('memory');
    expect(kept.events.map((e) => e.id)).toEqual(before);
    expect(await page.evaluate(() => (window as unknown as SdkPage).hunch.status())).toMatchObject({ backend: 'none', reason: expect.stringContaining('consent') });

    const state = await page.evaluate(() => (window as unknown as SdkPage).hunch.consent({ personalization_storage: 'granted' }));
    expect(state).toEqual({ personalization_storage: 'granted', analytics_storage: 'denied' });
    const after = await track(page, 3, 'late');
    await expect.poll(async () => (await readDevice(page)).events?.map((e) => e.id).sort()).toEqual([...before, ...after].sort());
    const device = await readDevice(page);
    expect(JSON.parse(device.consent!)).toMatchObject({ personalization_storage: 'granted' });
    expect(device.session).not.toBeNull();

    // A reload: the consent record and the events are still there.
    await page.reload();
    await start(page, { requireConsent: true });
    expect((await page.evaluate(() => (window as unknown as SdkPage).hunch.history())).map((e) => e.id)).toEqual([...before, ...after]);

    await page.evaluate(() => (window as unknown as SdkPage).hunch.consent({ personalization_storage: 'denied' }));
    await expect.poll(async () => (await readDevice(page)).events).toEqual([]);
    expect((await readDevice(page)).session).toBeNull();
    await track(page, 2, 'withdrawn');
    expect((await readDevice(page)).events).toEqual([]);
    await context.close();
  });

  it('scrubs e-mails, phone and card numbers from search terms and identifying parameters from paths before storing', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}shop`);
    await start(page);
    await page.evaluate(async () => {
      const { hunch } = window as unknown as SdkPage;
      hunch.track('search', { search_term: 'order for jane.doe@example.com call +44 20 7946 0958 card 4111 1111 1111 1111' });
      hunch.track('page_view', { page_path: '/account/reset?email=jane%40example.com&token=abc123&page=2' });
      await hunch.flush();
    });
    const stored = (await readDevice(page)).events!;
    const text = JSON.stringify(stored);
    for (const secret of ['jane', 'example.com', '7946', '4111', 'abc123']) expect(text).not.toContain(secret);
    const search = stored.find((e) => e.name === 'search')!;
    expect(search.params.search_term).toBe('order for [email] call [phone] card [card]');
    expect(stored.find((e) => e.name === 'page_view')!.params.page_path).toBe('/account/reset?page=2');
    await context.close();
  });

  it('forget() erases events, upload queue, session and consent record, in this tab and another', async () => {
    const context = await browser.newContext();
    const [first, second] = [await context.newPage(), await context.newPage()];
    for (const page of [first, second]) {
      await page.goto(`${server.url}shop`);
      await start(page, { requireConsent: true, collector: '/collect-never' });
    }
    await first.evaluate(() => (window as unknown as SdkPage).hunch.consent({ personalization_storage: 'granted', analytics_storage: 'granted' }));
    await expect.poll(() => second.evaluate(() => (window as unknown as SdkPage).hunch.consent().personalization_storage)).toBe('granted');
    await track(first, 4, 'a');
    await track(second, 4, 'b');
    const full = await readDevice(first);
    expect(full.events).toHaveLength(8);
    expect(full.outbox).toBe(8);
    expect(full.consent).not.toBeNull();

    const exported = await second.evaluate(() => (window as unknown as SdkPage).hunch.export());
    expect(exported.storage).toBe('indexeddb');
    expect(exported.events).toHaveLength(8);
    expect(exported.consent).toEqual({ personalization_storage: 'granted', analytics_storage: 'granted' });

    await first.evaluate(() => (window as unknown as SdkPage).hunch.forget());
    const erased = await readDevice(first);
    // Events and upload queue are gone with the database itself (deleted, not just emptied: issue 17).
    expect(erased).toMatchObject({ events: null, outbox: null, session: null, consent: null });
    expect(await second.evaluate(() => (window as unknown as SdkPage).hunch.history())).toEqual([]);
    // The other tab heard it: its own session (sessionStorage is per tab) is erased, its consent back to the defaults.
    await expect.poll(() => readDevice(second)).toEqual({ events: null, outbox: null, session: null, consent: null });
    expect(await second.evaluate(() => (window as unknown as SdkPage).hunch.consent())).toEqual({ personalization_storage: 'denied', analytics_storage: 'denied' });
    await context.close();
  });

  it('uploads only with analytics consent, and never what was tracked before it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}shop`);
    await start(page, { requireConsent: true, collector: '/collect' });
    await page.evaluate(() => (window as unknown as SdkPage).hunch.consent({ personalization_storage: 'granted' }));
    const denied = await track(page, 60, 'no-upload');
    // 50 new events start an upload at once (uploader eagerCount): none may go.
    await page.waitForTimeout(500);
    expect(received.filter((e) => denied.includes(e.id))).toEqual([]);
    expect((await readDevice(page)).outbox).toBe(0);

    await page.evaluate(() => (window as unknown as SdkPage).hunch.consent({ analytics_storage: 'granted' }));
    const granted = await track(page, 60, 'upload');
    await expect.poll(() => received.filter((e) => granted.includes(e.id)).length, { timeout: 15_000 }).toBe(60);
    expect(received.filter((e) => denied.includes(e.id))).toEqual([]);
    await context.close();
  });
});
