/**
 * A Playwright shopper clicks through the demo shop (examples/storefront) with the shipped model
 * on WASM: a category page, three of its products, back home, where most of "For you" is of that
 * category; the intent panel shows the stage, the backend and the model version; a search from the
 * form is recorded once; the cart shows the SDK's "Complete your cart" element, and the checkout
 * ends in a purchase of what was in the cart. The events are the ones the markup and the shop's
 * track() calls promise, nothing typed into the checkout form among them.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { launchChromium } from './chromium.js';
import { readStoredEvents as readStoredEventsOf } from './stored-events.js';

type Storefront = Awaited<ReturnType<typeof startStorefront>>;
interface StoredEvent {
  name: string;
  params: { item_id?: string; item_category?: string; item_list_id?: string; search_term?: string; value?: number; currency?: string; items?: Array<{ item_id: string; quantity?: number }> };
}

const readStoredEvents = (page: Page) => readStoredEventsOf<StoredEvent>(page);

/** Waits for the model's recommendations of the page at `hash`. */
const recsFor = (page: Page, hash: string) => page.waitForSelector(`#recs[data-route="${hash}"]`, { timeout: 60_000 });

const recommended = (page: Page) =>
  page.$$eval('#recs-cards .card', (cards) => cards.map((card) => ({ id: (card as HTMLElement).dataset.itemId!, category: (card as HTMLElement).dataset.category!, source: (card as HTMLElement).dataset.source! })));

let storefront: Storefront;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  storefront = await startStorefront({ port: 0 });
  browser = await launchChromium({ webgpu: false });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await storefront?.close();
});

describe('the demo shop', () => {
  it('follows a shopper through a category: "For you" on the home page turns to it, and the intent panel tells why', async () => {
    await page.goto(storefront.url);
    await recsFor(page, '#/');
    expect(await page.$$eval('img:not([alt])', (images) => images.length)).toBe(0);
    expect(await page.locator('#categories a').count()).toBeGreaterThanOrEqual(12);

    await page.getByRole('link', { name: 'Lamps & Lighting' }).first().click();
    await page.waitForSelector('h1:has-text("Lamps & Lighting")');
    for (const id of ['lamps-02', 'lamps-05', 'lamps-08']) {
      await page.click(`[data-hunch-list="category:lamps"] a.card[data-item-id="${id}"]`);
      await recsFor(page, `#/product/${id}`);
      expect(await page.textContent('h1')).toBe((await page.textContent(`#recs-title`))!.replace('Because you viewed ', ''));
      await page.goBack();
      await page.waitForSelector('[data-hunch-list="category:lamps"]');
    }
    await page.click('a.brand');
    await recsFor(page, '#/');
    const forYou = await recommended(page);
    expect(forYou).toHaveLength(6);
    expect(forYou.every((card) => card.source === 'model')).toBe(true);
    expect(forYou.filter((card) => card.category === 'lamps').length).toBeGreaterThanOrEqual(4);

    const stored = await readStoredEvents(page);
    expect(stored.filter((event) => event.name === 'view_item').map((event) => event.params.item_id)).toEqual(['lamps-02', 'lamps-05', 'lamps-08']);
    // Each product was clicked in the category's list, which the markup declares.
    expect(stored.filter((event) => event.name === 'select_item').map((event) => [event.params.item_id, event.params.item_list_id])).toEqual([
      ['lamps-02', 'category:lamps'],
      ['lamps-05', 'category:lamps'],
      ['lamps-08', 'category:lamps'],
    ]);

    const toggle = page.locator('#intent-toggle');
    await expect.poll(() => toggle.textContent(), { timeout: 30_000 }).toContain('Comparing');
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const panel = page.locator('#intent-panel');
    await expect.poll(() => panel.getAttribute('data-backend'), { timeout: 30_000 }).toBe('wasm');
    expect(await panel.isVisible()).toBe(true);
    // The open panel asks hunch.intent() afresh.
    await expect.poll(() => panel.locator('[data-field="why"]').textContent(), { timeout: 30_000 }).toBe('3 products of lamps viewed');
    expect(await panel.getAttribute('data-stage')).toBe('comparing');
    expect(await panel.locator('[data-field="stage"]').textContent()).toBe('Comparing');
    expect(await panel.locator('[data-field="backend"]').textContent()).toMatch(/^WASM, q8 \(onnx\/model_quantized\.onnx\)$/);
    expect(await panel.locator('[data-field="version"]').textContent()).toMatch(/^[0-9a-f]{12}$/);
    expect(await panel.locator('[data-field="purchase"]').textContent()).toMatch(/^\d+(\.\d)? %$/);
    expect(await panel.locator('[data-field="categories"] li').first().textContent()).toContain('Lamps & Lighting');
    expect(await panel.locator('[data-field="actions"] li').count()).toBeGreaterThan(2);
    await page.keyboard.press('Escape');
    expect(await panel.isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('records a search from the form once, and ends a checkout in a purchase of the cart', async () => {
    await page.fill('#search-input', 'green tea');
    await page.press('#search-input', 'Enter');
    await recsFor(page, '#/search?q=green%20tea');
    const results = await page.$$eval('[data-hunch-list="search"] a.card', (cards) => cards.map((card) => (card as HTMLElement).dataset.itemId!));
    expect(results.length).toBeGreaterThanOrEqual(4);
    expect(results.every((id) => id.startsWith('tea-'))).toBe(true);

    await page.click(`[data-hunch-list="search"] a.card[data-item-id="${results[0]}"]`);
    await recsFor(page, `#/product/${results[0]}`);
    await page.click('#add-to-cart');
    expect(await page.textContent('#cart-count')).toBe('1');
    await page.click('a.cart-link');
    await page.waitForSelector('h1:has-text("Your cart")');
    // "Complete your cart" is the SDK's <hunch-recommendations> element.
    await expect
      .poll(() => page.evaluate(() => document.querySelector('hunch-recommendations[placement="cart"]')?.shadowRoot?.querySelectorAll('[part~="card"]').length ?? 0), { timeout: 60_000 })
      .toBe(4);

    await page.click('#checkout');
    await page.fill('#checkout-name', 'Ada Lovelace');
    await page.fill('#checkout-email', 'ada@example.com');
    await page.fill('#checkout-address', '12 Analytical Row');
    await page.click('#place-order');
    await page.waitForSelector('h1:has-text("Thank you")');
    expect(await page.textContent('#cart-count')).toBe('0');
    await page.evaluate(() => window.hunch!.flush());

    const stored = await readStoredEvents(page);
    expect(stored.filter((event) => event.name === 'search').map((event) => event.params.search_term)).toEqual(['green tea']);
    const item = results[0]!;
    const funnel = stored.filter((event) => ['add_to_cart', 'view_cart', 'begin_checkout', 'purchase'].includes(event.name));
    expect(funnel.map((event) => event.name)).toEqual(['add_to_cart', 'view_cart', 'begin_checkout', 'purchase']);
    expect(funnel[0]!.params).toMatchObject({ item_id: item, item_category: 'tea', currency: 'EUR' });
    const price = funnel[0]!.params.value!;
    expect(price).toBeGreaterThan(0);
    expect(funnel[3]!.params).toMatchObject({ value: price, currency: 'EUR', items: [{ item_id: item, quantity: 1 }] });
    // Nothing typed into the checkout form was recorded.
    expect(JSON.stringify(stored)).not.toMatch(/Ada|example\.com|Analytical/);
    expect(pageErrors).toEqual([]);
  });
});
