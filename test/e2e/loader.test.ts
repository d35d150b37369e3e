/**
 * The script-tag loader (hunch.js) and the SDK it imports lazily (hunch.sdk.js), in real
 * Chromium: events tracked before the SDK arrives are stored with the ids track() returned, in
 * order, auto-capture's first page_view included; a failed SDK load throws nothing into the
 * page; consent() answers before the SDK is there and applies once it is; `script-src 'self'`
 * is enough.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useShopPage, type Storefront } from './shop-page.js';
import { readStoredEvents as readStoredEventsOf } from './stored-events.js';

interface StoredEvent {
  id: string;
  name: string;
  ts: number;
  params: { item_id?: string; page_path?: string };
}

const TAG = '<script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm"></script>';
const SDK = '**/hunch/hunch.sdk.js';

const readStoredEvents = (page: Page) => readStoredEventsOf<StoredEvent>(page);

/**
 * What the SDK's database holds, read with the raw IndexedDB API: 'absent', or its events and
 * upload queue counted. A failing read rejects (it is never taken for "erased").
 */
const storedCounts = (page: Page) =>
  page.evaluate(async () => {
    if (!(await indexedDB.databases()).some((db) => db.name === 'hunch')) return 'absent';
    return new Promise<string>((resolve, reject) => {
      const open = indexedDB.open('hunch');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        try {
          const tx = open.result.transaction(['events', 'outbox']);
          const events = tx.objectStore('events').count();
          const outbox = tx.objectStore('outbox').count();
          tx.oncomplete = () => {
            open.result.close();
            resolve(`events: ${events.result}, outbox: ${outbox.result}`);
          };
          tx.onerror = () => reject(tx.error);
        } catch (error) {
          open.result.close();
          reject(error);
        }
      };
    });
  });

/** Whether the SDK has arrived: history() resolves at once when it has, and waits for it otherwise. */
const sdkState = (page: Page) =>
  page.evaluate(() => Promise.race([window.hunch!.history().then(() => 'loaded'), new Promise((resolve) => setTimeout(() => resolve('pending'), 300))]));

/** Holds hunch.sdk.js back until the returned function is called. */
async function delaySdk(page: Page): Promise<() => void> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  await page.route(SDK, async (route) => {
    await gate;
    await route.continue();
  });
  return release;
}

// Set before each test by useShopPage.
let storefront: Storefront, page: Page, pageErrors: string[], warnings: string[];
useShopPage((shop) => ({ storefront, page, pageErrors, warnings } = shop));

/** Serves `body` as /loader.html (with optional headers) and opens it. */
async function open(body: string, headers: Record<string, string> = {}): Promise<void> {
  await page.route(`${storefront.url}loader.html`, (route) => route.fulfill({ contentType: 'text/html', headers, body: `<!doctype html><meta charset="utf-8"><title>loader</title>${body}` }));
  await page.goto(`${storefront.url}loader.html`);
}

describe('the script-tag loader', () => {
  it('keeps hunch.js small and hunch.sdk.js out of it', async () => {
    const { readFile } = await import('node:fs/promises');
    const { gzipSync } = await import('node:zlib');
    const dist = new URL('../../packages/browser/dist/', import.meta.url);
    const loader = await readFile(new URL('hunch.js', dist));
    expect(gzipSync(loader, { level: 9 }).length).toBeLessThanOrEqual(10 * 1024);
    // No storage engine (only forget()'s deleteDatabase fallback) and no model worker in the loader.
    expect(loader.toString()).not.toMatch(/objectStore|indexedDB\.open|new Worker/);
    const sdk = await readFile(new URL('hunch.sdk.js', dist), 'utf8');
    expect(sdk).toContain('hunch.worker.js');
  });

  it('stores events tracked before the SDK loaded, in order, with the ids track() returned', async () => {
    const release = await delaySdk(page);
    await open(TAG);
    expect(await page.evaluate(() => typeof window.hunch?.track)).toBe('function');
    expect(await sdkState(page)).toBe('pending');

    const early = await page.evaluate(() => {
      const ids: string[] = [];
      const started = performance.now();
      for (let i = 1; i <= 5; i++) ids.push(window.hunch!.track('view_item', { item_id: `mugs-0${i}` })!);
      return { ids, ms: performance.now() - started, now: Date.now() };
    });
    expect(early.ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id))).toBe(true);
    expect(new Set(early.ids).size).toBe(5);
    expect(early.ms).toBeLessThan(50); // five calls: queued, not recorded

    await page.waitForTimeout(200); // so that times assigned at recording would be later
    release();
    await page.evaluate(() => window.hunch!.flush());
    expect(await sdkState(page)).toBe('loaded');
    const late = await page.evaluate(() => window.hunch!.track('view_item', { item_id: 'tea-01' })!);
    await page.evaluate(() => window.hunch!.flush());

    const stored = await readStoredEvents(page);
    // Auto-capture started in the loader: the page_view came first, before the SDK arrived.
    expect(stored.map((event) => event.name)).toEqual(['page_view', 'view_item', 'view_item', 'view_item', 'view_item', 'view_item', 'view_item']);
    expect(stored[0]!.params.page_path).toBe('/loader.html');
    expect(stored.slice(1).map((event) => event.id)).toEqual([...early.ids, late]);
    expect(stored.slice(1).map((event) => event.params.item_id)).toEqual(['mugs-01', 'mugs-02', 'mugs-03', 'mugs-04', 'mugs-05', 'tea-01']);
    // Timed when track() was called (strictly increasing, µs apart in a burst), not when the SDK recorded them.
    for (const event of stored.slice(0, 6)) expect(event.ts).toBeLessThan(early.now + 1);
    for (let i = 1; i < stored.length; i++) expect(stored[i]!.ts).toBeGreaterThan(stored[i - 1]!.ts);
    expect(pageErrors).toEqual([]);
  });

  it('bounds the queue while the SDK is away, logging once', async () => {
    const release = await delaySdk(page);
    await open(TAG.replace('<script ', '<script data-auto-capture="false" '));
    const ids = await page.evaluate(() => Array.from({ length: 1005 }, (_, i) => window.hunch!.track('view_item', { item_id: `mugs-0${1 + (i % 9)}` })));
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(warnings).toEqual([expect.stringContaining('events dropped')]);
    release();
    await page.evaluate(() => window.hunch!.flush());
    expect((await readStoredEvents(page)).map((event) => event.id)).toEqual(ids.slice(0, 1000));
  });

  it('degrades without throwing when hunch.sdk.js cannot load', async () => {
    await page.route(SDK, (route) => route.abort());
    await open(TAG);
    const result = await page.evaluate(async () => {
      const hunch = window.hunch!;
      const ids = [hunch.track('view_item', { item_id: 'mugs-01' }), hunch.track('search', { search_term: 'tea' })];
      return {
        ids,
        recs: await hunch.recommend({ k: 6 }),
        status: await hunch.status(),
        history: await hunch.history(),
        flushed: await hunch.flush().then(() => true),
        exported: await hunch.export(),
        consent: hunch.consent(),
        later: hunch.track('view_item', { item_id: 'tea-02' }),
        forgot: await hunch.forget().then(() => true),
      };
    });
    expect(result.ids.every((id) => typeof id === 'string' && id.length === 36)).toBe(true);
    expect(typeof result.later).toBe('string');
    expect(result.recs).toEqual([]);
    expect(result.status).toMatchObject({ backend: 'none', dtype: null, modelFile: null, modelVersion: null, reason: expect.stringContaining('did not load') });
    expect(result.history).toEqual([]);
    expect(result.flushed).toBe(true);
    expect(result.exported).toMatchObject({ events: [], storage: 'memory', consent: { personalization_storage: 'granted' } });
    expect(result.consent).toEqual({ personalization_storage: 'granted', analytics_storage: 'granted' });
    expect(result.forgot).toBe(true);
    expect(pageErrors).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('SDK failed to load');
  });

  it('forget() without the SDK still erases what an earlier visit stored', async () => {
    await open(TAG);
    await page.evaluate(async () => {
      window.hunch!.track('view_item', { item_id: 'mugs-01' });
      window.hunch!.consent({ analytics_storage: 'denied' });
      await window.hunch!.flush();
    });
    expect((await readStoredEvents(page)).map((event) => event.params.item_id)).toContain('mugs-01');

    await page.route(SDK, (route) => route.abort());
    await page.reload();
    await page.evaluate(() => window.hunch!.forget());
    const left = await page.evaluate(async () => ({
      databases: (await indexedDB.databases()).map((db) => db.name),
      session: sessionStorage.getItem('hunch.session'),
      consent: localStorage.getItem('hunch.consent'),
    }));
    expect(left).toEqual({ databases: [], session: null, consent: null });
    expect(pageErrors).toEqual([]);
  });

  it('answers consent() before the SDK loads and applies it once it has', async () => {
    const release = await delaySdk(page);
    await open(TAG.replace('<script ', '<script data-require-consent '));
    const before = await page.evaluate(() => {
      const hunch = window.hunch!;
      const initial = hunch.consent();
      const id = hunch.track('view_item', { item_id: 'lamps-01' });
      const granted = hunch.consent({ personalization_storage: 'granted' });
      return { initial, id, granted, persisted: localStorage.getItem('hunch.consent') };
    });
    expect(before.initial).toEqual({ personalization_storage: 'denied', analytics_storage: 'denied' });
    expect(before.granted).toEqual({ personalization_storage: 'granted', analytics_storage: 'denied' });
    expect(JSON.parse(before.persisted!)).toMatchObject({ personalization_storage: 'granted', analytics_storage: 'denied' });
    expect(await sdkState(page)).toBe('pending');

    release();
    await page.evaluate(() => window.hunch!.flush());
    const stored = await readStoredEvents(page);
    expect(stored.map((event) => event.id)).toContain(before.id);
    expect(stored.map((event) => event.name)).toEqual(['page_view', 'view_item']);
    expect(await page.evaluate(() => window.hunch!.consent())).toEqual(before.granted);
    // Withdrawn after load: the SDK erases what it stored (same consent object).
    await page.evaluate(() => window.hunch!.consent({ personalization_storage: 'denied' }));
    // Erased: the database gone, or its events and upload queue both empty (a read error fails the test).
    await expect.poll(() => storedCounts(page), { timeout: 10_000 }).toMatch(/^(absent|events: 0, outbox: 0)$/);
    expect(pageErrors).toEqual([]);
  });

  it("loads the SDK under Content-Security-Policy script-src 'self'", async () => {
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await open(TAG, { 'content-security-policy': "script-src 'self'" });
    const history = await page.evaluate(async () => {
      await window.hunch!.flush();
      return (await window.hunch!.history()).map((event) => event.name);
    });
    expect(history).toEqual(['page_view']); // history() is [] unless the SDK loaded
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('window.Hunch.createHunch() returns a working facade too', async () => {
    await open(TAG.replace(' data-model="/models/demo/"', ''));
    const result = await page.evaluate(async () => {
      const hunch = window.Hunch!.createHunch({ model: '/models/demo/' });
      const id = hunch.track('view_item', { item_id: 'mugs-02' });
      await hunch.flush();
      return { id, global: window.hunch === undefined, history: (await hunch.history()).map((event) => event.id) };
    });
    expect(result.global).toBe(true);
    expect(result.history).toEqual([result.id]);
    expect(pageErrors).toEqual([]);
  });
});
