/**
 * <hunch-recommendations> and [data-hunch-recs] in real Chromium, from the script tag with the
 * demo model: cards follow the shopper's interest, a catalog title carrying markup and a
 * javascript: URL render inert, clicks and viewable cards are tracked with the placement as list
 * id, the shop themes the cards with ::part and custom properties, and a broken model file still
 * leaves the popular items on screen.
 */
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { launchChromium } from './chromium.js';

type Storefront = Awaited<ReturnType<typeof startStorefront>>;

const DEMO = fileURLToPath(new URL('../../models/demo/', import.meta.url));
const PAYLOAD = '<img src=x onerror="window.pwned=1">Mug';

let work: string;
let storefront: Storefront;
let browser: Browser;

interface Card {
  id: string;
  source: string;
  title: string;
  href: string | null;
}

/** The cards of the first element matching `selector`, read through its open shadow root. */
const cardsOf = (page: Page, selector: string) =>
  page.evaluate((selector) => {
    const root = document.querySelector(selector)?.shadowRoot;
    return [...(root?.querySelectorAll('[part~="card"]') ?? [])].map((card) => ({
      id: card.getAttribute('data-hunch-item') ?? '',
      source: (card as HTMLElement).dataset.source ?? '',
      title: card.querySelector('[part~="title"]')?.textContent ?? '',
      href: card.querySelector('a')?.getAttribute('href') ?? null,
    }));
  }, selector) as Promise<Card[]>;

async function shop(page: Page, model: string, body: string, before = ''): Promise<void> {
  await page.route(`${storefront.url}element.html`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><meta charset="utf-8"><title>element</title><style>${before}</style><script src="/hunch/hunch.js" data-model="/models/${model}/" data-backend="wasm"></script>${body}`,
    }),
  );
  await page.goto(`${storefront.url}element.html`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-element-'));
  // demo: as shipped. hostile: one catalog entry with markup in its title and a javascript: URL.
  // broken: a model file that is not ONNX, so the worker fails and the popular list must show.
  for (const name of ['demo', 'hostile', 'broken']) await cp(DEMO, join(work, name), { recursive: true });
  // The shop's catalog.json says so, and hunch.json lists its new hash (an export of that catalog would).
  const catalogPath = join(work, 'hostile', 'catalog.json');
  const catalog = JSON.parse(await readFile(catalogPath, 'utf8'));
  const target = catalog.popular[0];
  catalog.products = catalog.products.map((item: { id: string }) => (item.id === target ? { ...item, title: PAYLOAD, url: 'javascript:window.pwned=2', image: 'javascript:1' } : item));
  const catalogBytes = Buffer.from(JSON.stringify(catalog));
  await writeFile(catalogPath, catalogBytes);
  const manifestPath = join(work, 'hostile', 'hunch.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  manifest.files['catalog.json'] = { sha256: createHash('sha256').update(catalogBytes).digest('hex'), bytes: catalogBytes.length };
  await writeFile(manifestPath, JSON.stringify(manifest));
  for (const file of ['onnx/model.onnx', 'onnx/model_quantized.onnx', 'onnx/model_q4.onnx']) await writeFile(join(work, 'broken', file), 'not an onnx file');
  storefront = await startStorefront({ port: 0, modelsDir: work });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await storefront?.close();
  await rm(work, { recursive: true, force: true });
});

describe('<hunch-recommendations>', () => {
  it('follows the shopper, tracks clicks and viewable cards with the placement, and renders [data-hunch-recs] too', async () => {
    const page = await browser.newPage();
    await shop(page, 'demo', '<div data-hunch-recs="footer" data-limit="3"></div>');
    await page.evaluate(async () => {
      for (const id of ['mugs-01', 'mugs-04', 'mugs-08']) window.hunch!.track('view_item', { item_id: id });
      await window.hunch!.flush();
      // The element arrives after the views, as on the next page of a visit.
      const element = document.createElement('hunch-recommendations');
      element.setAttribute('placement', 'home');
      element.setAttribute('currency', 'EUR');
      document.body.prepend(element);
    });
    await expect.poll(async () => (await cardsOf(page, 'hunch-recommendations')).map((c) => c.source).join(), { timeout: 60_000 }).toBe('model,model,model,model,model,model');
    const cards = await cardsOf(page, 'hunch-recommendations');
    expect(cards.filter((card) => card.id.startsWith('mugs-')).length).toBeGreaterThanOrEqual(3);
    expect(await cardsOf(page, '[data-hunch-recs]')).toHaveLength(3);
    expect(await page.evaluate(() => document.querySelector('hunch-recommendations')!.shadowRoot!.querySelector('ul')!.getAttribute('aria-label'))).toBe('Recommended for you');

    await page.evaluate(() => {
      document.addEventListener('click', (event) => event.preventDefault()); // stay on this page
      (document.querySelector('hunch-recommendations')!.shadowRoot!.querySelector('[part~="title"]') as HTMLElement).click();
    });
    const history = async () => {
      await page.evaluate(() => window.hunch!.flush());
      return page.evaluate(async () => (await window.hunch!.history()).map(({ name, params }) => ({ name, params })));
    };
    /** Items of the home placement counted as seen (view_item_list), in order, repeats included. */
    const seen = async () =>
      (await history()).filter((event) => event.name === 'view_item_list' && event.params.item_list_id === 'home').flatMap((event) => event.params.items!.map((item) => item.item_id));
    // Every model card on screen gets counted once it passes the 1 s viewability rule (the popular cards shown while the model loaded may be too).
    await expect
      .poll(
        async () => {
          const counted = await seen();
          return cards.map((card) => card.id).filter((id) => !counted.includes(id)); // model cards not yet counted
        },
        { timeout: 30_000 },
      )
      .toEqual([]);
    expect(await history()).toContainEqual({ name: 'select_item', params: expect.objectContaining({ item_id: cards[0]!.id, item_list_id: 'home' }) });
    const counted = await seen();
    expect(new Set(counted).size).toBe(counted.length); // once each
    await page.close();
  });

  it('renders a hostile catalog entry as inert text, without its javascript: link or image', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await shop(page, 'hostile', '<hunch-recommendations placement="home" limit="12"></hunch-recommendations>');
    await page.evaluate(() => window.hunch!.forget());
    await expect.poll(async () => (await cardsOf(page, 'hunch-recommendations')).some((card) => card.title === '<img src=x onerror="window.pwned=1">Mug'), { timeout: 60_000 }).toBe(true);
    const hostile = (await cardsOf(page, 'hunch-recommendations')).find((card) => card.title.includes('onerror'))!;
    expect(hostile.href).toBeNull();
    const inShadow = await page.evaluate(() => {
      const root = document.querySelector('hunch-recommendations')!.shadowRoot!;
      return {
        images: [...root.querySelectorAll('img')].map((img) => img.getAttribute('src')),
        // Each card's id and the src of the images inside it.
        cards: [...root.querySelectorAll('[part~="card"]')].map((card) => ({ id: card.getAttribute('data-hunch-item'), images: [...card.querySelectorAll('img')].map((img) => img.getAttribute('src')) })),
        pwned: (window as { pwned?: number }).pwned ?? null,
      };
    });
    expect(inShadow.pwned).toBeNull();
    // Not vacuous: the other cards do show their (http) images; only the hostile entry's javascript: image is dropped.
    expect(inShadow.cards.length).toBeGreaterThan(1);
    expect(inShadow.images).toHaveLength(inShadow.cards.length - 1);
    for (const card of inShadow.cards) expect(card.images).toEqual(card.id === hostile.id ? [] : [`${storefront.url}img/${card.id}.svg`]);
    expect(inShadow.images.every((src) => src !== 'x' && !src!.startsWith('javascript:'))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('is themable with ::part and custom properties', async () => {
    const page = await browser.newPage();
    await shop(page, 'demo', '<hunch-recommendations placement="home" limit="2"></hunch-recommendations>', 'hunch-recommendations { --hunch-gap: 7px } hunch-recommendations::part(title) { color: rgb(255, 0, 0) }');
    await expect.poll(async () => (await cardsOf(page, 'hunch-recommendations')).length, { timeout: 60_000 }).toBe(2);
    const style = await page.evaluate(() => {
      const root = document.querySelector('hunch-recommendations')!.shadowRoot!;
      return { gap: getComputedStyle(root.querySelector('ul')!).rowGap, title: getComputedStyle(root.querySelector('[part~="title"]')!).color };
    });
    expect(style).toEqual({ gap: '7px', title: 'rgb(255, 0, 0)' });
    await page.close();
  });

  it('shows the popular items when the model file is broken', async () => {
    const page = await browser.newPage();
    await shop(page, 'broken', '<hunch-recommendations placement="home" limit="4"></hunch-recommendations>');
    expect(await page.evaluate(() => window.hunch!.status())).toMatchObject({ backend: 'none' });
    await expect.poll(async () => (await cardsOf(page, 'hunch-recommendations')).map((card) => card.source).join(), { timeout: 30_000 }).toBe('popular,popular,popular,popular');
    const popular = JSON.parse(await readFile(join(work, 'broken', 'catalog.json'), 'utf8')).popular.slice(0, 4);
    expect((await cardsOf(page, 'hunch-recommendations')).map((card) => card.id)).toEqual(popular);
    await page.close();
  });
});
