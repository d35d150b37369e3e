/**
 * Declarative auto-capture in real Chromium: the capture module is bundled onto a real http
 * origin, pages are built with the real DOM, and clicks, form submits, History navigation,
 * scrolling (real IntersectionObserver) and page navigation are done as a shopper would.
 * Nothing is mocked; `track` just records what it is given in `window.events`.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateParams, type EventName, type EventParams } from '@hunch/core';
import type * as Capture from '../../packages/browser/src/capture/index.js';
import { launchChromium } from './chromium.js';
import { startModuleServer, type ModuleServer } from './module-server.js';

interface Captured {
  name: EventName;
  params: EventParams;
  /** performance.now() when tracked. */
  t: number;
  /** Whether the page was already in pagehide. */
  hiding: boolean;
}

declare global {
  interface Window {
    HunchCapture: typeof Capture;
    events: Captured[];
    stopCapture: () => void;
    hiding?: boolean;
    /** performance.now() when openPage() started capture: impressions are timed from there. */
    captureStartedAt?: number;
    /** Called by the test's `track` after recording each event. */
    onTracked?: (event: Captured) => void;
  }
}

type Flags = Omit<Capture.AutoCaptureOptions, 'root'>;

/** A product page with the capture script at the top of <head>, as a script-tag shop has it. */
const STREAMED_PAGE = `<!doctype html><html><head><meta charset="utf-8">
  <script src="/bundle/HunchCapture.js"></script>
  <script>
    window.events = [];
    window.stopCapture = HunchCapture.startAutoCapture((name, params) => window.events.push({ name, params, t: performance.now(), hiding: false }));
  </script>
  <script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product", "sku": "mug-01", "category": "mugs"}</script>
  </head><body>
  <section data-hunch-list="related"><a data-hunch-item="mug-02" data-hunch-category="mugs" id="related" href="#related" style="display:block;height:100px">Red mug</a></section>
  </body></html>`;

let server: ModuleServer;
let browser: Browser;

beforeAll(async () => {
  server = await startModuleServer({
    entries: { HunchCapture: 'packages/browser/src/capture/index.ts' },
    handle: async (request, response) => {
      if (!request.url?.startsWith('/streamed/')) return false;
      // A slow server-rendered product page: the first chunk ends in the middle of the
      // JSON-LD, so the parser has written only part of the script's text for a while.
      const cut = STREAMED_PAGE.indexOf('"category"');
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.write(STREAMED_PAGE.slice(0, cut));
      await new Promise((resolve) => setTimeout(resolve, 300));
      response.end(STREAMED_PAGE.slice(cut));
      return true;
    },
  });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens `path` on the test origin, sets the body, and starts capture with `flags`. */
async function openPage(path: string, html: string, flags: Flags = {}): Promise<Page & { warnings: string[]; errors: string[] }> {
  const page = Object.assign(await browser.newPage(), { warnings: [] as string[], errors: [] as string[] });
  page.on('console', (message) => {
    if (message.type() === 'warning') page.warnings.push(message.text());
  });
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(new URL(path, server.url).href);
  await page.evaluate(
    ({ html, flags }) => {
      document.body.innerHTML = html;
      window.events = [];
      addEventListener('pagehide', () => (window.hiding = true)); // before capture's own listener
      window.captureStartedAt = performance.now();
      window.stopCapture = window.HunchCapture.startAutoCapture((name, params) => {
        const event = { name, params, t: performance.now(), hiding: window.hiding === true };
        window.events.push(event);
        window.onTracked?.(event);
      }, flags);
    },
    { html, flags },
  );
  return page;
}

/** Every event so far; each must pass the SDK's own schema validation. */
async function captured(page: Page, name?: EventName): Promise<Captured[]> {
  const events = await page.evaluate(() => window.events);
  for (const event of events) expect(validateParams(event.name, event.params), JSON.stringify(event)).toMatchObject({ ok: true });
  return name ? events.filter((event) => event.name === name) : events;
}

const withoutPageViews = (events: Captured[]) => events.filter((event) => event.name !== 'page_view').map(({ name, params }) => ({ name, params }));

function waitForEvents(page: Page, name: EventName, count: number, timeout = 10_000): Promise<unknown> {
  return page.waitForFunction(({ name, count }) => window.events.filter((event) => event.name === name).length >= count, { name, count }, { timeout });
}

const ldJson = (data: unknown) => `<script type="application/ld+json">${typeof data === 'string' ? data : JSON.stringify(data)}</script>`;

describe('auto-capture: clicks and forms', () => {
  it('turns clicks in a list into select_item and action buttons into cart events, never both', async () => {
    const page = await openPage(
      '/home/',
      `<section data-hunch-list="home-recs">
         <article data-hunch-item="mug-01" data-hunch-category="mugs" data-hunch-price="12.50" data-hunch-currency="EUR">
           <a href="#mug-01"><img alt=""><span id="mug-title">Blue mug</span></a>
           <button data-hunch-action="add_to_cart" data-hunch-quantity="2" id="mug-add"><svg width="20" height="20"><rect id="mug-add-icon" width="20" height="20"/></svg> Add</button>
         </article>
       </section>
       <div data-hunch-item="tea-07" id="not-in-list">A product outside any list</div>
       <main data-hunch-item="pot-03" data-hunch-price="30">
         <input id="qty" value="3"><button data-hunch-action="add_to_cart" data-hunch-quantity="#qty" id="pot-add">Add</button>
       </main>
       <button data-hunch-action="remove_from_cart" data-hunch-item="mug-01" id="remove">Remove</button>
       <a href="#cart" data-hunch-action="view_cart" id="cart">Cart</a>
       <button data-hunch-action="begin_checkout" id="checkout">Checkout</button>
       <button data-hunch-action="add_to_cart" id="no-item">Add what?</button>
       <button data-hunch-action="add_to_wishlist" data-hunch-item="mug-01" id="unknown">Wish</button>`,
      { impressions: false },
    );
    // The shop's own handler stops propagation: capture-phase delegation still sees the click.
    await page.evaluate(() => document.getElementById('mug-add')!.addEventListener('click', (event) => event.stopPropagation()));

    for (const selector of ['#mug-title', '#mug-add-icon', '#not-in-list', '#pot-add', '#remove', '#cart', '#checkout', '#no-item', '#unknown']) {
      await page.click(selector);
    }

    expect(withoutPageViews(await captured(page))).toEqual([
      { name: 'select_item', params: { item_id: 'mug-01', item_category: 'mugs', item_list_id: 'home-recs' } },
      {
        name: 'add_to_cart',
        params: {
          item_id: 'mug-01',
          item_category: 'mugs',
          item_list_id: 'home-recs',
          items: [{ item_id: 'mug-01', item_category: 'mugs', price: 12.5, quantity: 2 }],
          value: 25,
          currency: 'EUR',
        },
      },
      { name: 'add_to_cart', params: { item_id: 'pot-03', items: [{ item_id: 'pot-03', price: 30, quantity: 3 }], value: 90 } },
      { name: 'remove_from_cart', params: { item_id: 'mug-01', items: [{ item_id: 'mug-01', quantity: 1 }] } },
      { name: 'view_cart', params: {} },
      { name: 'begin_checkout', params: {} },
    ]);
    // Mistakes in the markup are told to the shop's developer, once each, not thrown.
    expect(page.warnings.filter((text) => text.includes('without data-hunch-item'))).toHaveLength(1);
    expect(page.warnings.filter((text) => text.includes('unknown data-hunch-action'))).toHaveLength(1);
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('tracks search from marked and role="search" forms, trimmed; ignores empty queries and other forms', async () => {
    const page = await openPage(
      '/',
      `<form data-hunch-search><input type="search" id="s1"><button>Go</button></form>
       <form role="search"><input name="q" id="s2"><button id="go2">Go</button></form>
       <form><input name="email" id="email"><input name="q" id="s3"><button id="subscribe">Subscribe</button></form>`,
      { impressions: false },
    );
    // A single-page shop handles the submit itself (and cancels it, after our capture listener).
    await page.evaluate(() => document.addEventListener('submit', (event) => event.preventDefault()));

    await page.fill('#s1', '  blue mug  ');
    await page.press('#s1', 'Enter');
    await page.fill('#s2', 'teapot');
    await page.click('#go2');
    await page.fill('#s2', '   ');
    await page.click('#go2');
    await page.fill('#email', 'jane@example.com');
    await page.fill('#s3', 'newsletter');
    await page.click('#subscribe');

    expect(withoutPageViews(await captured(page))).toEqual([
      { name: 'search', params: { search_term: 'blue mug' } },
      { name: 'search', params: { search_term: 'teapot' } },
    ]);
    await page.close();
  });
});

describe('auto-capture: product JSON-LD', () => {
  const cases = [
    {
      what: 'a plain Product (related products nested in it are not viewed)',
      scripts: [
        {
          '@context': 'https://schema.org',
          '@type': 'Product',
          name: 'Blue mug',
          sku: 'mug-01',
          productID: 'not-this-one',
          category: 'mugs',
          offers: { '@type': 'Offer', price: '12.50', priceCurrency: 'EUR' },
          isSimilarTo: { '@type': 'Product', sku: 'mug-02' },
        },
      ],
      expected: { item_id: 'mug-01', item_category: 'mugs', items: [{ item_id: 'mug-01', item_category: 'mugs', price: 12.5 }], value: 12.5, currency: 'EUR' },
    },
    {
      what: 'a Product in @graph',
      scripts: [
        {
          '@context': 'https://schema.org',
          '@graph': [
            { '@type': 'WebPage', name: 'Green tea' },
            { '@type': ['Product'], productID: 'tea-07', category: ['tea', 'green'], offers: [{ '@type': 'Offer', price: 4, priceCurrency: 'GBP' }] },
          ],
        },
      ],
      expected: { item_id: 'tea-07', item_category: 'tea', items: [{ item_id: 'tea-07', item_category: 'tea', price: 4 }], value: 4, currency: 'GBP' },
    },
    {
      what: 'a Product in a top-level array, named by @id, beside malformed scripts',
      scripts: [
        '{"@type": "Product", "sku": }',
        [{ '@type': 'Organization', name: 'Shop' }, { '@type': 'https://schema.org/Product', '@id': 'https://shop.example/p/pot-03#product' }],
        '{not json',
      ],
      expected: { item_id: 'https://shop.example/p/pot-03#product', items: [{ item_id: 'https://shop.example/p/pot-03#product' }] },
    },
  ];

  for (const { what, scripts, expected } of cases) {
    it(`tracks exactly one view_item for ${what}`, async () => {
      const page = await browser.newPage();
      const warnings: string[] = [];
      page.on('console', (message) => void (message.type() === 'warning' && warnings.push(message.text())));
      await page.goto(new URL('/p/item', server.url).href);
      // The scripts are in <head> before capture starts, as on a server-rendered product page.
      await page.evaluate(
        ({ scripts, ldJson }) => {
          document.head.insertAdjacentHTML('beforeend', scripts.join(''));
          window.events = [];
          window.stopCapture = window.HunchCapture.startAutoCapture((name, params) => void window.events.push({ name, params, t: 0, hiding: false }), {
            impressions: false,
          });
          // The same product again, later (a second copy of the markup): still one view per page view.
          document.body.insertAdjacentHTML('beforeend', `<div>${ldJson}</div>`);
        },
        { scripts: scripts.map(ldJson), ldJson: ldJson(scripts.find((script) => typeof script !== 'string')) },
      );
      await page.waitForTimeout(200);
      expect(withoutPageViews(await captured(page))).toEqual([{ name: 'view_item', params: expected }]);
      expect(warnings.filter((text) => text.includes('JSON-LD')).length).toBe(scripts.some((script) => typeof script === 'string') ? 1 : 0);
      await page.close();
    });
  }
});

describe('auto-capture: SPA routes', () => {
  it('tracks page_view with the path only; same-path replaceState and hash changes are no page view; back is', async () => {
    const page = await openPage('/shop/?utm_source=mail', '<p>shop</p>', { impressions: false });
    const pagePaths = async () => (await captured(page, 'page_view')).map((event) => event.params.page_path);

    await page.evaluate(() => history.pushState({}, '', '/p/mug-01?email=jane%40example.com#reviews'));
    await page.evaluate(() => history.replaceState({}, '', '/p/mug-01?sort=price'));
    await page.evaluate(() => history.pushState({}, '', '/p/mug-01#photos'));
    expect(await pagePaths()).toEqual(['/shop/', '/p/mug-01']);

    // Back to the same path (a popstate, but no new page), then back to the shop (a new page).
    const back = () => page.evaluate(() => new Promise<void>((resolve) => (addEventListener('popstate', () => resolve(), { once: true }), history.back())));
    await back();
    expect(await pagePaths()).toEqual(['/shop/', '/p/mug-01']);
    await back();
    expect(await page.evaluate(() => location.search)).toBe('?utm_source=mail');
    // replaceState to another path is a route change too (some routers redirect that way).
    await page.evaluate(() => history.replaceState({}, '', '/cart?coupon=SECRET'));
    expect(await pagePaths()).toEqual(['/shop/', '/p/mug-01', '/shop/', '/cart']);

    const everything = JSON.stringify(await captured(page));
    for (const secret of ['?', 'utm_source', 'jane', 'sort=', '#', 'SECRET']) expect(everything).not.toContain(secret);
    await page.close();
  });

  it('tracks JSON-LD injected after a route change once per page view, and never the previous page’s leftover', async () => {
    const product = (sku: string) => ({ '@context': 'https://schema.org', '@type': 'Product', sku });
    const page = await openPage('/p/mug-01', ldJson(product('mug-01')), { impressions: false });

    // The SPA routes, then renders the new product's JSON-LD a little later; the old script stays.
    await page.evaluate((script) => {
      history.pushState({}, '', '/p/tea-07');
      setTimeout(() => document.head.insertAdjacentHTML('beforeend', script), 50);
    }, ldJson(product('tea-07')));
    await waitForEvents(page, 'view_item', 2);
    // Another route whose framework rewrites the existing script's text in place.
    await page.evaluate((json) => {
      history.pushState({}, '', '/p/pot-03');
      setTimeout(() => (document.head.querySelector('script[type="application/ld+json"]')!.textContent = json), 50);
    }, JSON.stringify(product('pot-03')));
    await waitForEvents(page, 'view_item', 3);
    await page.waitForTimeout(300);

    expect((await captured(page)).map(({ name, params }) => `${name} ${params.page_path ?? params.item_id}`)).toEqual([
      'page_view /p/mug-01',
      'view_item mug-01',
      'page_view /p/tea-07',
      'view_item tea-07',
      'page_view /p/pot-03',
      'view_item pot-03',
    ]);
    await page.close();
  });
});

describe('auto-capture: impressions', () => {
  it('counts an item ≥ 50% in view for ≥ 1 s once per page view; not a glimpse; lower lists only once scrolled to; again after a route change', async () => {
    const page = await openPage(
      '/catalog/',
      `<style>body { margin: 0 } .tile { display: block; height: 150px; width: 200px } .spacer { height: 2000px }</style>
       <div data-hunch-list="hero"><div class="tile" data-hunch-item="h1" data-hunch-category="mugs" data-hunch-price="12.5"></div><div class="tile" data-hunch-item="h2"></div></div>
       <div class="spacer"></div>
       <div data-hunch-list="mid"><div class="tile" data-hunch-item="glimpse" id="glimpse"></div></div>
       <div class="spacer"></div>
       <div data-hunch-list="bottom"><div class="tile" data-hunch-item="b1" id="b1"></div><div class="tile" data-hunch-item="b2"></div></div>
       <div class="spacer"></div>`,
      { pageViews: false },
    );
    const lists = async () => (await captured(page, 'view_item_list')).map(({ params }) => `${params.item_list_id}: ${params.items!.map((item) => item.item_id).join(',')}`);
    // From when capture started watching (a later evaluate could come ~50 ms late under load).
    const started = await page.evaluate(() => window.captureStartedAt!);

    await waitForEvents(page, 'view_item_list', 1);
    const [hero] = await captured(page, 'view_item_list');
    expect(hero!.params).toEqual({ item_list_id: 'hero', items: [{ item_id: 'h1', item_category: 'mugs', price: 12.5 }, { item_id: 'h2' }] });
    expect(hero!.t - started).toBeGreaterThanOrEqual(1000);

    // A glimpse of the middle list (0.4 s), then back to the top: the hero is not counted again.
    // (Timed in the page, so a slow test runner cannot stretch the glimpse.)
    await page.evaluate(async () => {
      document.getElementById('glimpse')!.scrollIntoView({ block: 'center' });
      await new Promise((resolve) => setTimeout(resolve, 400));
      scrollTo(0, 0);
    });
    await page.waitForTimeout(1600);
    expect(await lists()).toEqual(['hero: h1,h2']);

    // The bottom list only now that it is scrolled to, and only after a second.
    const scrolled = await page.evaluate(() => (document.getElementById('b1')!.scrollIntoView({ block: 'center' }), performance.now()));
    await waitForEvents(page, 'view_item_list', 2);
    const bottom = (await captured(page, 'view_item_list'))[1]!;
    expect(bottom.t - scrolled).toBeGreaterThanOrEqual(1000);

    // Away and back again, for longer than a second each: nothing new in this page view.
    await page.evaluate(() => scrollTo(0, 0));
    await page.waitForTimeout(1200);
    await page.evaluate(() => document.getElementById('b1')!.scrollIntoView({ block: 'center' }));
    await page.waitForTimeout(1700);
    expect(await lists()).toEqual(['hero: h1,h2', 'bottom: b1,b2']);

    // An SPA route change is a new page view: what is still on screen counts again, after a second.
    await page.evaluate(() => history.pushState({}, '', '/catalog/page-2'));
    await waitForEvents(page, 'view_item_list', 3);
    expect(await lists()).toEqual(['hero: h1,h2', 'bottom: b1,b2', 'bottom: b1,b2']);
    await page.close();
  });

  it('sees items added later, forgets removed ones, batches ≤ 25 per event, and flushes on pagehide', async () => {
    const page = await openPage('/search/', '<style>body { margin: 0 } i { display: inline-block; width: 40px; height: 40px }</style><div data-hunch-list="results" id="results"></div>', {
      pageViews: false,
    });
    // Infinite scroll appends 30 results at once, and a tile that is re-rendered away in 0.3 s.
    await page.evaluate(() => {
      const results = document.getElementById('results')!;
      results.insertAdjacentHTML('beforeend', Array.from({ length: 30 }, (_, i) => `<i data-hunch-item="r${i}"></i>`).join(''));
      results.insertAdjacentHTML('beforeend', '<i data-hunch-item="flicker" id="flicker"></i>');
      setTimeout(() => document.getElementById('flicker')!.remove(), 300);
    });
    await waitForEvents(page, 'view_item_list', 2);
    await page.waitForTimeout(700);
    const batches = (await captured(page, 'view_item_list')).map(({ params }) => params);
    expect(batches.map((params) => [params.item_list_id, params.items!.length])).toEqual([
      ['results', 25],
      ['results', 5],
    ]);
    expect(batches.flatMap((params) => params.items!.map((item) => item.item_id)).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `r${i}`).sort());

    // A re-render replaces a tile with a new element for the same product: not counted again.
    // Then one more result, and a second list of 25 whose full batch goes out at once, in the
    // same moment "last" is counted: the shopper leaves right then, before the 0.5 s batch is
    // due. (pagehide is dispatched there, rather than timing a navigation against that 0.5 s.)
    await page.evaluate(() => {
      const fresh = document.createElement('i');
      fresh.dataset.hunchItem = 'r0';
      document.querySelector('[data-hunch-item="r0"]')!.replaceWith(fresh);
      window.onTracked = (event) => {
        if (event.params.item_list_id === 'more') dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
      };
      const results = document.getElementById('results')!;
      results.insertAdjacentHTML('afterbegin', '<i data-hunch-item="last"></i>');
      results.insertAdjacentHTML('afterend', `<div data-hunch-list="more">${Array.from({ length: 25 }, (_, i) => `<i data-hunch-item="m${i}"></i>`).join('')}</div>`);
    });
    await waitForEvents(page, 'view_item_list', 4);
    await page.waitForTimeout(700); // the batch timer finds nothing left to send
    const afterRerender = (await captured(page, 'view_item_list')).slice(2);
    expect(afterRerender.map(({ params, hiding }) => ({ list: params.item_list_id, items: params.items!.length, hiding }))).toEqual([
      { list: 'more', items: 25, hiding: false },
      { list: 'results', items: 1, hiding: true },
    ]);
    expect(afterRerender[1]!.params.items).toEqual([{ item_id: 'last' }]);
    await page.close();
  });
});

describe('auto-capture: from a script tag', () => {
  it('started in <head> before the page is parsed, still sees the JSON-LD, lists and clicks that follow', async () => {
    const page = await browser.newPage();
    const warnings: string[] = [];
    page.on('console', (message) => void (message.type() === 'warning' && warnings.push(message.text())));
    await page.goto(new URL('/streamed/p/mug-01?ref=mail', server.url).href);
    await waitForEvents(page, 'view_item_list', 1);
    await page.click('#related');
    expect((await captured(page)).map(({ name, params }) => ({ name, params }))).toEqual([
      { name: 'page_view', params: { page_path: '/streamed/p/mug-01' } },
      { name: 'view_item', params: { item_id: 'mug-01', item_category: 'mugs', items: [{ item_id: 'mug-01', item_category: 'mugs' }] } },
      { name: 'view_item_list', params: { item_list_id: 'related', items: [{ item_id: 'mug-02', item_category: 'mugs' }] } },
      { name: 'select_item', params: { item_id: 'mug-02', item_category: 'mugs', item_list_id: 'related' } },
    ]);
    expect(warnings).toEqual([]);
    await page.close();
  });
});

describe('auto-capture: stop and safety', () => {
  it('stop() removes every listener and observer and restores History; nothing is tracked after', async () => {
    const page = await openPage(
      '/p/mug-01',
      `<div style="height: 2000px"></div>
       <div data-hunch-list="recs"><a href="#x" data-hunch-item="mug-02" id="tile" style="display:block;height:100px">Mug</a>
       <button data-hunch-action="add_to_cart" data-hunch-item="mug-02" id="add">Add</button></div>
       <form role="search"><input type="search" id="q" value="mugs"><button id="go">Go</button></form>`,
    );
    expect(await page.evaluate(() => Object.hasOwn(history, 'pushState'))).toBe(true);
    await page.evaluate(() => window.stopCapture()); // the list is below the fold: no impression yet
    expect(await page.evaluate(() => !Object.hasOwn(history, 'pushState') && !Object.hasOwn(history, 'replaceState'))).toBe(true);
    const before = await captured(page);
    expect(before.map((event) => event.name)).toEqual(['page_view']);

    await page.evaluate(() => document.addEventListener('submit', (event) => event.preventDefault()));
    await page.click('#tile');
    await page.click('#add');
    await page.click('#go');
    await page.evaluate(() => {
      history.pushState({}, '', '/p/tea-07');
      history.back();
      document.head.insertAdjacentHTML('beforeend', '<script type="application/ld+json">{"@type":"Product","sku":"tea-07"}</script>');
      document.querySelector('[data-hunch-list]')!.insertAdjacentHTML('afterbegin', '<p data-hunch-item="new" style="height:100px">New</p>');
    });
    await page.waitForTimeout(1600);
    expect(await captured(page)).toEqual(before);

    // Started again, and then another script wraps pushState on top of ours: stop() cannot
    // unwrap without dropping theirs, so ours stays in place, inert, and theirs keeps working.
    const after = await page.evaluate(async () => {
      window.events = [];
      const stop = window.HunchCapture.startAutoCapture((name, params) => void window.events.push({ name, params, t: 0, hiding: false }), {
        impressions: false,
        jsonLd: false,
      });
      const ours = history.pushState;
      let theirs = 0;
      history.pushState = function (...args: Parameters<History['pushState']>) {
        theirs += 1;
        ours.apply(this, args);
      };
      stop();
      history.pushState({}, '', '/p/pot-03');
      return { theirs, path: location.pathname, names: window.events.map((event) => event.name) };
    });
    expect(after).toEqual({ theirs: 1, path: '/p/pot-03', names: ['page_view'] });
    await page.close();
  });

  it('never throws into the page, even when track throws', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const warnings: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => void (message.type() === 'warning' && warnings.push(message.text())));
    await page.goto(new URL('/shop/', server.url).href);
    const path = await page.evaluate(() => {
      document.body.innerHTML = '<div data-hunch-list="l"><button data-hunch-item="a" id="a">A</button></div>';
      window.HunchCapture.startAutoCapture(() => {
        throw new Error('boom');
      });
      history.pushState({}, '', '/p/a');
      return location.pathname;
    });
    await page.click('#a');
    // The impression's track throws too, a second and a half later.
    await expect.poll(() => warnings.filter((text) => text.includes('boom')).length, { timeout: 10_000 }).toBe(3);
    expect(path).toBe('/p/a');
    expect(errors).toEqual([]);
    // The click and the impression race on a slow machine: the order of their warnings is not the point.
    expect(warnings.filter((text) => text.includes('boom')).sort()).toEqual([
      '[hunch] auto-capture: track(page_view) failed: boom',
      '[hunch] auto-capture: track(select_item) failed: boom',
      '[hunch] auto-capture: track(view_item_list) failed: boom',
    ]);
    await page.close();
  });
});
