/**
 * Events tracked just before the shopper leaves the page are kept: the SDK's pagehide writes
 * what is still queued in a transaction it starts there and then (a Web Lock or a later task
 * may never come once the page is going away), also while a recommendation the write would
 * normally wait for is still pending. Real Chromium, real IndexedDB, the demo storefront.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useShopPage, type Storefront } from './shop-page.js';
import { readStoredEvents } from './stored-events.js';

let storefront: Storefront, page: Page, pageErrors: string[], warnings: string[];
useShopPage((shop) => ({ storefront, page, pageErrors, warnings } = shop));

async function open(): Promise<void> {
  await page.route(`${storefront.url}leaving.html`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>leaving</title><script src="/hunch/hunch.js"></script>' }),
  );
  await page.goto(`${storefront.url}leaving.html`);
  await page.evaluate(async () => {
    window.hunch = window.Hunch!.createHunch({ model: '/models/demo/', backend: 'wasm', autoCapture: false });
    window.hunch.track('view_item', { item_id: 'mugs-01' });
    await window.hunch.recommend({ k: 4 });
    await window.hunch.flush();
  });
}

describe('leaving the page', () => {
  it('keeps every event tracked right before the shopper navigates away, with a recommendation still pending', async () => {
    await open();
    const tracked: string[] = [];
    for (let round = 0; round < 12; round++) {
      const ids = await page.evaluate((round) => {
        const ids = ['mugs-02', 'mugs-03', 'mugs-04'].map((item) => window.hunch!.track('add_to_cart', { item_id: item, items: [{ item_id: item, price: 10 + round, quantity: 1 }], value: 10 + round, currency: 'EUR' })!);
        // Asked and not awaited: the queued write would wait for it (StoreOptions.writeAfter).
        void window.hunch!.recommend({ k: 4 });
        return ids;
      }, round);
      tracked.push(...ids);
      // To a page that needs no request: the old one is unloaded at once, not once a response came.
      await page.goto('about:blank');
      await page.goto(`${storefront.url}leaving.html`);
      // Once the new page's store is open: events tracked before it are in memory and go with the page.
      await page.evaluate(async () => {
        window.hunch = window.Hunch!.createHunch({ model: '/models/demo/', backend: 'wasm', autoCapture: false });
        await window.hunch.flush();
      });
    }
    await page.evaluate(() => window.hunch!.flush());
    const stored = new Set((await readStoredEvents<{ id: string }>(page)).map((event) => event.id));
    expect(tracked.filter((id) => !stored.has(id))).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
