/**
 * recommend()'s options with the shipped demo model in Chromium: what is in the cart stays out
 * unless asked for, a filter keeps only what it accepts (still ranked by the model), and every
 * recommendation carries a reason built from what the shopper looked at.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { launchChromium } from './chromium.js';
import { readStoredEvents } from './stored-events.js';

type Storefront = Awaited<ReturnType<typeof startStorefront>>;
let storefront: Storefront;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  storefront = await startStorefront({ port: 0 });
  browser = await launchChromium({ webgpu: false });
  page = await browser.newPage();
  await page.route(`${storefront.url}recs.html`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>recs</title><script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm"></script>' }),
  );
  await page.goto(`${storefront.url}recs.html`);
  await page.evaluate(async () => {
    const hunch = window.hunch!;
    await hunch.forget();
    for (const id of ['mugs-01', 'mugs-04']) hunch.track('view_item', { item_id: id });
    hunch.track('add_to_cart', { item_id: 'mugs-07' });
    await hunch.flush();
  });
});

afterAll(async () => {
  await browser?.close();
  await storefront?.close();
});

describe('recommend() options', () => {
  it('leaves the cart out unless includeCart, and explains each pick', async () => {
    const { plain, withCart } = await page.evaluate(async () => {
      const pick = (recs: Awaited<ReturnType<NonNullable<typeof window.hunch>['recommend']>>) =>
        recs.map((rec) => ({ id: rec.item.id, category: rec.item.category, source: rec.source, reason: rec.reason }));
      return { plain: pick(await window.hunch!.recommend({ k: 40 })), withCart: pick(await window.hunch!.recommend({ k: 40, includeCart: true })) };
    });
    expect(plain.every((rec) => rec.source === 'model')).toBe(true);
    expect(plain.map((rec) => rec.id)).not.toContain('mugs-07');
    expect(withCart.map((rec) => rec.id)).toContain('mugs-07');
    for (const rec of plain) {
      // The latest mug the shopper touched is mugs-07 (added to cart), then mugs-04.
      if (rec.category === 'mugs') expect(rec.reason).toMatch(/^Because you viewed /);
      else expect(rec.reason).toBe('Picked for you');
    }
    expect(plain.some((rec) => rec.category === 'mugs')).toBe(true);
  });

  it('keeps only what the filter accepts, in the model’s order', async () => {
    const { all, tea } = await page.evaluate(async () => ({
      all: (await window.hunch!.recommend({ k: 1000 })).map((rec) => rec.item.id), // the whole catalog
      tea: (await window.hunch!.recommend({ k: 3, filter: (item) => item.category === 'tea' })).map((rec) => rec.item.id),
    }));
    expect(tea).toHaveLength(3);
    expect(tea.every((id) => id.startsWith('tea-'))).toBe(true);
    expect(tea).toEqual(all.filter((id) => id.startsWith('tea-')).slice(0, 3));
  });
});

describe('placements', () => {
  it('gives each placement on a page items the others are not showing', async () => {
    const { home, cart, homeAgain } = await page.evaluate(async () => {
      const ids = async (placement: string) => (await window.hunch!.recommend({ k: 6, placement })).map((rec) => rec.item.id);
      const home = await ids('home');
      const cart = await ids('cart');
      return { home, cart, homeAgain: await ids('home') };
    });
    expect(home).toHaveLength(6);
    expect(cart).toHaveLength(6);
    expect(cart.filter((id) => home.includes(id))).toEqual([]);
    // Asking again for the same placement keeps its own items (only the others' are left out).
    expect(homeAgain).toEqual(home);
  });

  it('starts afresh on a new page: after a page_view (an SPA route change) a placement no longer avoids the last page’s items', async () => {
    const { home, plain, cartAfter } = await page.evaluate(async () => {
      const hunch = window.hunch!;
      const ids = (recs: Array<{ item: { id: string } }>) => recs.map((rec) => rec.item.id);
      const home = ids(await hunch.recommend({ k: 6, placement: 'home' }));
      hunch.track('page_view', { page_path: '/cart' });
      const plain = ids(await hunch.recommend({ k: 6 }));
      return { home, plain, cartAfter: ids(await hunch.recommend({ k: 6, placement: 'cart' })) };
    });
    // The model still likes some of what the home placement showed: the cart placement may show them now.
    expect(plain.filter((id) => home.includes(id)).length).toBeGreaterThan(0);
    expect(cartAfter).toEqual(plain);
  });
});

describe('the popular list (popularOnly, what shows before the model answers)', () => {
  it('leaves out what is in the cart, as the model\'s list does, unless includeCart', async () => {
    const { before, inCart, withCart, after } = await page.evaluate(async () => {
      const hunch = window.hunch!;
      const ids = (recs: Array<{ item: { id: string } }>) => recs.map((rec) => rec.item.id);
      const before = ids(await hunch.recommend({ k: 4, popularOnly: true }));
      hunch.track('add_to_cart', { item_id: before[0]! });
      await hunch.flush();
      const inCart = ids(await hunch.recommend({ k: 4, popularOnly: true }));
      const withCart = ids(await hunch.recommend({ k: 4, popularOnly: true, includeCart: true }));
      hunch.track('remove_from_cart', { item_id: before[0]! });
      await hunch.flush();
      return { before, inCart, withCart, after: ids(await hunch.recommend({ k: 4, popularOnly: true })) };
    });
    expect(inCart).not.toContain(before[0]);
    expect(inCart).toEqual([...before.slice(1), inCart[3]]);
    expect(withCart).toEqual(before);
    expect(after).toEqual(before);
  });
});

describe('the catalog', () => {
  /** Requests for hunch.json and catalog.json made by the page itself (a worker's fetches have their own timeline). */
  const manifestReadsOnPage = (on: Page) =>
    on.evaluate(() => performance.getEntriesByType('resource').filter((entry) => /\/(hunch|catalog)\.json$/.test(new URL(entry.name).pathname)).length);

  it('comes from the model worker: the page never downloads or parses hunch.json or catalog.json while the model runs', async () => {
    const recs = await page.evaluate(async () => {
      const hunch = window.hunch!;
      const popular = await hunch.recommend({ k: 4, popularOnly: true });
      const model = await hunch.recommend({ k: 4, exclude: ['mugs-01'] });
      return [...popular, ...model].map((rec) => ({ id: rec.item.id, title: rec.item.title, source: rec.source }));
    });
    expect(recs.map((rec) => rec.source)).toEqual(['popular', 'popular', 'popular', 'popular', 'model', 'model', 'model', 'model']);
    for (const rec of recs) expect(rec.title.length).toBeGreaterThan(0);
    expect((await page.evaluate(() => window.hunch!.intent())).source).toBe('model');
    expect(await manifestReadsOnPage(page)).toBe(0);
  });

  it('is read on the page when no worker runs (no consent yet), and gives popular items with their entries', async () => {
    const waiting = await browser.newPage();
    try {
      await waiting.route(`${storefront.url}consent.html`, (route) =>
        route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>consent</title><script src="/hunch/hunch.js" data-model="/models/demo/" data-require-consent></script>' }),
      );
      await waiting.goto(`${storefront.url}consent.html`);
      const { recs, status } = await waiting.evaluate(async () => {
        const hunch = window.hunch!;
        const recs = (await hunch.recommend({ k: 3 })).map((rec) => ({ id: rec.item.id, title: rec.item.title, source: rec.source }));
        return { recs, status: await hunch.status() };
      });
      expect(recs).toHaveLength(3);
      expect(recs.every((rec) => rec.source === 'popular' && rec.title.length > 0)).toBe(true);
      expect(status).toMatchObject({ backend: 'none', modelVersion: expect.stringMatching(/^[0-9a-f]{12}$/) });
      expect(await manifestReadsOnPage(waiting)).toBeGreaterThan(0);
    } finally {
      await waiting.close();
    }
  });
});

describe('event writes while the model loads', () => {
  it('are not held back by a recommendation still waiting for the model: only one the worker is computing holds them', async () => {
    const slow = await browser.newPage();
    try {
      // A worker of the page's own, so that Playwright sees (and can slow down) its model download.
      await slow.route(`${storefront.url}slow.html`, (route) =>
        route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>slow</title><script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm" data-shared-worker="false"></script>' }),
      );
      await slow.route('**/models/demo/onnx/*.onnx', async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 4_000));
        await route.continue();
      });
      await slow.goto(`${storefront.url}slow.html`);
      // The page asks for a recommendation, then tracks an event while it waits for the model.
      await slow.evaluate(async () => {
        const hunch = window.hunch!;
        await hunch.forget();
        const state = window as unknown as { sources: Promise<string[]>; answeredAt?: number; trackedAt: number };
        state.sources = hunch.recommend({ k: 3 }).then((recs) => {
          state.answeredAt = performance.now();
          return recs.map((rec) => rec.source);
        });
        // Long enough for recommend() to have read the history and be waiting for the model.
        await new Promise((resolve) => setTimeout(resolve, 300));
        state.trackedAt = performance.now();
        hunch.track('view_item', { item_id: 'tea-02' });
      });
      while ((await readStoredEvents(slow)).length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const timing = await slow.evaluate(async () => {
        const state = window as unknown as { sources: Promise<string[]>; answeredAt?: number; trackedAt: number };
        const writtenMs = performance.now() - state.trackedAt;
        const answeredBeforeWrite = state.answeredAt !== undefined;
        return { writtenMs, answeredBeforeWrite, sources: await state.sources };
      });
      // Before: the write waited for the recommendation, so for the load, up to its 1 s cap.
      expect(timing.answeredBeforeWrite).toBe(false);
      expect(timing.writtenMs).toBeLessThan(800);
      expect(timing.sources).toEqual(['model', 'model', 'model']);
    } finally {
      await slow.close();
    }
  });
});
