/**
 * `npm start`'s experiment loop, end to end with the real parts: the demo shop runs inside its
 * experiments (a 10% holdout, "For you" as model vs popular) and uploads to `hunch collect`;
 * shoppers in each arm see the section (exposure), one buys; /report, made from the collector's
 * database, first says in one line that nothing is exposed yet, then shows both arms with charts.
 * Shopper ids are chosen through core's assignment so that each arm has a shopper.
 */
import { join } from 'node:path';
import { assign, DEFAULT_HOLDOUT, inHoldout, type HunchEvent } from '@hunch/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveReport } from '../../examples/storefront/live-report.mjs';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { startCollector, type Collector } from '../../packages/collector/src/server.js';
import { openSqliteStore, type SqliteStore } from '../../packages/collector/src/sqlite-store.js';
import { tempDir } from '../../packages/collector/test/helpers.js';
import { launchChromium } from './chromium.js';

const EXPERIMENT = 'recs-main';
const holdout = { ...DEFAULT_HOLDOUT, share: 0.1 };

/** The first candidate id that lands where `wanted` says. */
function shopperWhere(wanted: (id: string) => boolean): string {
  for (let n = 1; n < 10_000; n++) {
    const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    if (wanted(id)) return id;
  }
  throw new Error('no such shopper id');
}
const armOf = (id: string) => {
  const result = assign(id, { key: EXPERIMENT, weights: [1, 1], traffic: 1 }, holdout);
  return result.enrolled ? (['model', 'popular'] as const)[result.variant] : 'held out';
};
const shoppers = {
  model: shopperWhere((id) => armOf(id) === 'model'),
  popular: shopperWhere((id) => armOf(id) === 'popular'),
  heldOut: shopperWhere((id) => inHoldout(id, holdout)),
};

let work: Awaited<ReturnType<typeof tempDir>>;
let store: SqliteStore;
let collector: Collector;
let storefront: Awaited<ReturnType<typeof startStorefront>>;
let browser: Browser;

beforeAll(async () => {
  work = await tempDir('demo-report');
  store = openSqliteStore(join(work.dir, 'events.sqlite'));
  // Any origin: the storefront's port is picked after the collector's. No rate limit: every shopper here is one client.
  collector = await startCollector({ store, port: 0, allowOrigins: ['*'], rateLimit: false });
  storefront = await startStorefront({ port: 0, collector: collector.url, holdout: holdout.share, experiments: true, report: liveReport(store, { holdout: holdout.share }) });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await storefront?.close();
  await collector?.close();
  await store?.close();
  await work?.remove();
});

/** A new shopper (own storage) with the given anonymous id, on the home page. */
async function visit(id: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((shopper) => localStorage.setItem('hunch.shopper', shopper), id);
  const page = await context.newPage();
  await page.goto(storefront.url);
  await page.waitForSelector('#recs[data-route="#/"]', { timeout: 60_000 });
  return page;
}

/** Waits until the page has stored its exposure to `key` (the section has been viewable for a second). */
const exposed = (page: Page, key: string) =>
  expect
    .poll(() => page.evaluate(async (k) => (await window.hunch!.history()).some((e) => e.name === 'experience_impression' && e.params.experiment_id === k), key), { timeout: 10_000 })
    .toBe(true);

const exposures = async (): Promise<HunchEvent[]> => {
  const found: HunchEvent[] = [];
  for await (const event of store.read()) if (event.name === 'experience_impression') found.push(event);
  return found;
};

describe('the demo shop inside an experiment, and its live report', () => {
  it('reports nothing before anyone is exposed, then both arms of "For you" with charts', async () => {
    const page = await browser.newPage();
    await page.goto(`${storefront.url}report`);
    expect(await page.textContent('#report-status')).toMatch(/experience_impression/);

    const model = await visit(shoppers.model);
    expect(await model.getAttribute('#recs', 'data-arm')).toBe('model');
    // The model's arm buys what it was recommended.
    await exposed(model, EXPERIMENT);
    await model.click('#recs-cards .card >> nth=0');
    await model.click('#add-to-cart');
    await model.click('a.cart-link');
    await model.waitForSelector('h1:has-text("Your cart")');
    await model.click('#checkout');
    await model.fill('#checkout-name', 'Ada Lovelace');
    await model.fill('#checkout-email', 'ada@example.com');
    await model.fill('#checkout-address', '12 Analytical Row');
    await model.click('#place-order');
    await model.waitForSelector('text=Thank you!');

    const popular = await visit(shoppers.popular);
    expect(await popular.getAttribute('#recs', 'data-arm')).toBe('popular');
    expect(await popular.$$eval('#recs-cards .card', (cards) => cards.map((card) => (card as HTMLElement).dataset.source))).toContain('popular');
    await exposed(popular, EXPERIMENT);
    const heldOut = await visit(shoppers.heldOut);
    expect(await heldOut.getAttribute('#recs', 'data-arm')).toBe('none');
    await exposed(heldOut, 'hunch-holdout');

    // Leaving the pages sends what is queued (pagehide); exposures arrive with their shopper ids.
    for (const shopper of [model, popular, heldOut]) await shopper.context().close();
    await expect
      .poll(async () => new Set((await exposures()).filter((e) => e.params.experiment_id === EXPERIMENT).map((e) => `${e.shopperId} ${e.params.variant_id}`)), { timeout: 30_000 })
      .toEqual(new Set([`${shoppers.model} model`, `${shoppers.popular} popular`]));
    await expect
      .poll(async () => (await exposures()).filter((e) => e.params.experiment_id === 'hunch-holdout').map((e) => [e.shopperId, e.params.variant_id]), { timeout: 30_000 })
      .toContainEqual([shoppers.heldOut, 'holdout']);
    let purchase: HunchEvent | undefined;
    for await (const event of store.read()) if (event.name === 'purchase') purchase = event;
    expect(purchase?.shopperId).toBe(shoppers.model);

    await page.reload();
    const text = (await page.textContent('body'))!;
    expect(text).toContain(EXPERIMENT);
    expect(text).toMatch(/model/);
    expect(text).toMatch(/popular/);
    expect(await page.locator('svg, canvas').count()).toBeGreaterThan(0);
    await page.close();
  });
});
