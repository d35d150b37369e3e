/**
 * The model worker's life in real Chromium with the shipped demo model: not started at all on
 * Save-Data or low-memory devices, nor on a page served over http:// (popular items instead), recreated after it crashes, and
 * released when idle then loaded again on demand. Recommendations never stop: while there is
 * no worker they come from the popular list.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.js';
import { useShopPage, type Storefront } from './shop-page.js';

// Set before each test by useShopPage.
let storefront: Storefront, page: Page, pageErrors: string[], warnings: string[];
useShopPage((shop) => ({ storefront, page, pageErrors, warnings } = shop));

/** A page of the shop with the SDK by script tag (no instance) and `window.hunch` made with `options`. */
async function open(options: Record<string, unknown> = {}): Promise<void> {
  await page.route(`${storefront.url}lifecycle.html`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>lifecycle</title><script src="/hunch/hunch.js"></script>' }),
  );
  await page.goto(`${storefront.url}lifecycle.html`);
  await page.evaluate((options) => {
    window.hunch = window.Hunch!.createHunch({ model: '/models/demo/', backend: 'wasm', autoCapture: false, ...options });
    for (const id of ['mugs-01', 'mugs-04', 'mugs-07']) window.hunch.track('view_item', { item_id: id });
  }, options);
}

const sources = () => page.evaluate(async () => (await window.hunch!.recommend({ k: 6 })).map((rec) => rec.source));

describe('the model worker in Chromium', () => {
  for (const [name, init, reason] of [
    ['Save-Data', () => Object.defineProperty(navigator, 'connection', { value: { saveData: true } }), 'Save-Data'],
    ['a low-memory device', () => Object.defineProperty(navigator, 'deviceMemory', { value: 0.5 }), 'low-memory'],
  ] as const) {
    it(`does not load the model on ${name}: popular items, no worker, no model file fetched`, async () => {
      const fetched: string[] = [];
      page.on('request', (request) => fetched.push(request.url()));
      await page.addInitScript(init);
      await open();
      expect(await page.evaluate(() => window.hunch!.status())).toMatchObject({ backend: 'none', reason: expect.stringContaining(reason) });
      const recs = await sources();
      expect(recs.length).toBe(6);
      expect(recs.every((source) => source === 'popular')).toBe(true);
      expect(page.workers()).toHaveLength(0);
      expect(fetched.filter((url) => url.endsWith('.onnx') || url.endsWith('.wasm'))).toEqual([]);
      expect(pageErrors).toEqual([]);
    });
  }

  it('does not load the model on a page served over http:// (no SubtleCrypto): popular items with their entries, read on the page', async () => {
    // A host name other than localhost makes a real insecure context: no crypto.subtle, no Cache API.
    // It resolves to the loopback storefront, which Chromium's local-network checks would refuse to an
    // insecure page (a shop's real server is not on the shopper's loopback): those checks are off.
    const insecure = await launchChromium({
      webgpu: false,
      args: ['--host-resolver-rules=MAP shop.test 127.0.0.1', '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessRespectPreflightResults'],
    });
    try {
      const shop = await insecure.newPage();
      const errors: string[] = [];
      const fetched: string[] = [];
      shop.on('pageerror', (error) => errors.push(error.message));
      shop.on('request', (request) => fetched.push(new URL(request.url()).pathname));
      const url = new URL('lifecycle.html', storefront.url);
      url.hostname = 'shop.test';
      await shop.route(url.href, (route) =>
        route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>http</title><script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm"></script>' }),
      );
      await shop.goto(url.href);
      expect(await shop.evaluate(() => [isSecureContext, typeof crypto.subtle])).toEqual([false, 'undefined']);
      const { status, recs } = await shop.evaluate(async () => {
        window.hunch!.track('view_item', { item_id: 'mugs-01' });
        const recs = (await window.hunch!.recommend({ k: 6 })).map((rec) => ({ source: rec.source, title: rec.item.title }));
        return { status: await window.hunch!.status(), recs };
      });
      expect(status).toMatchObject({ backend: 'none', reason: expect.stringContaining('not a secure context'), modelVersion: expect.stringMatching(/^[0-9a-f]{12}$/) });
      expect(recs).toHaveLength(6);
      expect(recs.every((rec) => rec.source === 'popular' && rec.title.length > 0)).toBe(true);
      expect(shop.workers()).toHaveLength(0);
      expect(fetched).toContain('/models/demo/catalog.json'); // read by the page, its size checked
      expect(fetched.filter((path) => path.endsWith('.onnx') || path.endsWith('.wasm'))).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await insecure.close();
    }
  });

  // A page-owned worker (sharedWorker: false): the page ends it, and Playwright can reach into it.
  it('recreates the worker after it crashes', async () => {
    await open({ sharedWorker: false });
    expect(await page.evaluate(() => window.hunch!.status())).toMatchObject({ backend: 'wasm' });
    expect(new Set(await sources())).toEqual(new Set(['model']));
    const [first] = page.workers();
    expect(first).toBeDefined();

    // An uncaught error inside the worker, as a runtime crash would raise.
    const closed = new Promise((resolve) => first!.once('close', resolve));
    await first!.evaluate(() => setTimeout(() => {
      throw new Error('simulated runtime crash');
    }));
    await closed; // the SDK terminated the failed worker
    await expect.poll(() => warnings.some((text) => text.includes('model worker failed'))).toBe(true);

    expect(new Set(await sources())).toEqual(new Set(['model']));
    expect(page.workers()).toHaveLength(1);
    expect(page.workers()[0]).not.toBe(first);
    expect(await page.evaluate(() => window.hunch!.status())).toMatchObject({ backend: 'wasm' });
    expect(pageErrors).toEqual([]);
  });

  it('releases the worker when idle and loads the model again on the next request', async () => {
    await open({ modelIdleMs: 1500, sharedWorker: false });
    expect(new Set(await sources())).toEqual(new Set(['model']));
    expect(page.workers()).toHaveLength(1);
    await expect.poll(() => page.workers().length, { timeout: 10_000 }).toBe(0);

    expect(new Set(await sources())).toEqual(new Set(['model']));
    expect(page.workers()).toHaveLength(1);
    expect(warnings).toEqual([]);
  });
});
