/**
 * Strategies (issue 20) in real Chromium, through the script tag with the demo model:
 * hunch.decide() draws an eligible action with the probability it reports and logs a `decision`
 * event with it; <hunch-slot> renders the copy as text only (a product title carrying markup stays
 * text), logs view_promotion once viewable and select_promotion on click; frequency caps hold
 * across a reload; the policy hunch.json names (with its hash) decides (ε-greedy), and none is
 * requested when it names none; bad input (an unknown strategy, an unknown slot, a policy that
 * does not match, a policy.json other than the one hunch.json lists) leaves the slot empty with
 * one warning and logs none; a held-out shopper gets none.
 */
import { createHash, randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DECISION_FEATURES, type EventParams } from '@hunch/core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { inHoldout } from '../../packages/core/src/experiments/assignment.js';
import type { StrategyDeclarations } from '../../packages/browser/src/index.js';
import { launchChromium } from './chromium.js';

const DEMO = fileURLToPath(new URL('../../models/demo/', import.meta.url));
const PAYLOAD = '<img src=x onerror="window.pwned=1">Mug';

const NUDGE: StrategyDeclarations = {
  'cart-nudge': {
    currency: 'EUR',
    freeShippingThreshold: 50,
    cap: { perSession: 2 },
    actions: [
      { id: 'remind', kind: 'message', copy: 'Still thinking about {title}?', when: { stages: ['at_risk_of_leaving'], minCartItems: 1 } },
      { id: 'free-shipping', kind: 'message', copy: 'Only {left_to_free_shipping} to free shipping', when: { withinFreeShipping: 30 }, meter: 'free_shipping' },
      { id: 'banner', kind: 'message', copy: 'New in {top_category}', when: { stages: ['browsing'] } },
    ],
  },
};

let work: string;
let storefront: Awaited<ReturnType<typeof startStorefront>>;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let warnings: string[];
let pageErrors: string[];

/** A policy for cart-nudge over the demo's actions: a bias per action, ε = 0.2. */
const policy = (actions: Record<string, number>) => ({
  version: 1,
  id: 'learned-7',
  features: [...DECISION_FEATURES],
  epsilon: 0.2,
  strategies: { 'cart-nudge': { actions: Object.fromEntries(Object.entries(actions).map(([id, bias]) => [id, { weights: DECISION_FEATURES.map((_, i) => (i === 0 ? bias : 0)) }])) } },
});

/** Ships `policy` with the model in `dir` as `hunch export --policy` does: policy.json, named in hunch.json and listed with its hash. */
async function shipPolicy(dir: string, policyFile: object): Promise<void> {
  const bytes = Buffer.from(`${JSON.stringify(policyFile, null, 2)}\n`);
  await writeFile(join(dir, 'policy.json'), bytes);
  const manifestPath = join(dir, 'hunch.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  manifest.files['policy.json'] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  manifest.policy = 'policy.json';
  await writeFile(manifestPath, JSON.stringify(manifest));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-strategies-'));
  for (const name of ['demo', 'hostile', 'policy', 'mismatch', 'tampered', 'unlisted']) await cp(DEMO, join(work, name), { recursive: true });
  // hostile: mugs-01's title carries markup (and hunch.json lists the catalog's new hash).
  const catalogPath = join(work, 'hostile', 'catalog.json');
  const catalog = JSON.parse(await readFile(catalogPath, 'utf8'));
  catalog.products = catalog.products.map((item: { id: string }) => (item.id === 'mugs-01' ? { ...item, title: PAYLOAD } : item));
  const bytes = Buffer.from(JSON.stringify(catalog));
  await writeFile(catalogPath, bytes);
  const manifestPath = join(work, 'hostile', 'hunch.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  manifest.files['catalog.json'] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  await writeFile(manifestPath, JSON.stringify(manifest));
  // policy: learned to prefer the free-shipping bar. mismatch: a policy without it.
  await shipPolicy(join(work, 'policy'), policy({ remind: 1, 'free-shipping': 3, banner: 0, none: 0 }));
  await shipPolicy(join(work, 'mismatch'), policy({ remind: 1, none: 0 }));
  // tampered: policy.json replaced after export (the bar's weight raised; same size), hunch.json still lists the exported one's hash.
  await shipPolicy(join(work, 'tampered'), policy({ remind: 1, 'free-shipping': 3, banner: 0, none: 0 }));
  const tamperedPath = join(work, 'tampered', 'policy.json');
  await writeFile(tamperedPath, (await readFile(tamperedPath, 'utf8')).replace(/\b3\b/, '9'));
  // unlisted: a policy.json in the directory that hunch.json does not name: never requested, never used.
  await writeFile(join(work, 'unlisted', 'policy.json'), JSON.stringify(policy({ remind: 1, 'free-shipping': 3, banner: 0, none: 0 })));
  storefront = await startStorefront({ port: 0, modelsDir: work });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await storefront?.close();
  await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  context = await browser.newContext();
  page = await context.newPage();
  warnings = [];
  pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'warning' && message.text().startsWith('[hunch]')) warnings.push(message.text());
  });
});

afterEach(async () => {
  expect(pageErrors).toEqual([]);
  await context.close();
});

/**
 * A script that fixes decide()'s draw (crypto.getRandomValues of one 32-bit value) at `u`.
 * Math.random is left alone: comlink's message ids use it, and a constant one mixes up the worker's answers.
 */
const fixDraw = (u: number) =>
  `{ const random = crypto.getRandomValues.bind(crypto); crypto.getRandomValues = (array) => (array instanceof Uint32Array && array.length === 1 ? ((array[0] = Math.floor(${u} * 2 ** 32)), array) : random(array)); }`;

/** Opens a page with the script tag on model `model`, declares `strategies` and fixes the draw at `u`. */
async function open({ model = 'demo', body = '', attributes = '', strategies = NUDGE, u = 0, shopper }: { model?: string; body?: string; attributes?: string; strategies?: StrategyDeclarations; u?: number; shopper?: string } = {}) {
  const url = `${storefront.url}strategies.html`;
  // As a shop would: the declarations right after the script tag (the loader queues them until the SDK arrives).
  const declare = `<script>${fixDraw(u)} hunch.strategies(${JSON.stringify(strategies)}); document.addEventListener('click', (event) => event.preventDefault());</script>`;
  await context.route(url, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><meta charset="utf-8"><title>strategies</title><script src="/hunch/hunch.js" data-model="/models/${model}/" data-backend="wasm"${attributes}></script>${declare}${body}`,
    }),
  );
  if (shopper) await context.addInitScript((id) => localStorage.setItem('hunch.shopper', id), shopper);
  await page.goto(url);
}

/** At risk of leaving with Classic Mug (21.99 €) in the cart: 28.01 € from free shipping. */
const atRiskCart = () =>
  page.evaluate(async () => {
    const add = (item_id: string, price: number) => window.hunch!.track('add_to_cart', { item_id, items: [{ item_id, price, quantity: 1 }], value: price, currency: 'EUR' });
    add('mugs-01', 21.99);
    add('mugs-04', 22.99);
    window.hunch!.track('remove_from_cart', { item_id: 'mugs-04' });
    await window.hunch!.flush();
  });

const decide = (name = 'cart-nudge') => page.evaluate((name) => window.hunch!.decide(name), name);

const events = (name: string) =>
  page.evaluate(async (name) => {
    await window.hunch!.flush();
    return (await window.hunch!.history()).filter((event) => event.name === name).map(({ params }) => params);
  }, name) as Promise<EventParams[]>;

/** The slot's shadow root as text and markup. */
const slot = (selector = 'hunch-slot') =>
  page.evaluate((selector) => {
    const root = document.querySelector(selector)?.shadowRoot;
    return {
      message: root?.querySelector('[part~="message"]')?.textContent ?? null,
      reason: root?.querySelector('[part~="reason"]')?.textContent ?? null,
      meter: root?.querySelector('progress') ? { value: (root.querySelector('progress') as HTMLProgressElement).value, max: (root.querySelector('progress') as HTMLProgressElement).max } : null,
      elements: root ? [...root.querySelectorAll('*')].map((element) => element.tagName.toLowerCase()) : [],
    };
  }, selector);

describe('hunch.decide()', () => {
  it('draws an eligible action with the probability it reports, and logs the decision with it', async () => {
    await open({ u: 0.5 });
    await atRiskCart();
    const decision = (await decide())!;
    // At risk, 28.01 € from free shipping: remind, the bar and none are eligible (the banner is for browsing).
    expect(Object.keys(decision.probabilities)).toEqual(['remind', 'free-shipping', 'none']);
    expect(decision).toMatchObject({ strategy: 'cart-nudge', action: { id: 'free-shipping', kind: 'message' }, policy: 'uniform', meter: { value: 21.99, max: 50 } });
    expect(decision.copy).toMatch(/^Only €?28[.,]01( €)? to free shipping$/);
    expect(decision.propensity).toBeCloseTo(1 / 3);
    const [logged] = await events('decision');
    expect(logged).toEqual({ strategy_id: 'cart-nudge', action_id: 'free-shipping', propensity: decision.propensity, policy_id: 'uniform', features: expect.any(Array), eligible: ['remind', 'free-shipping', 'none'] });
    expect(logged!.features).toHaveLength(DECISION_FEATURES.length);
    expect(logged!.features![DECISION_FEATURES.indexOf('stage:at_risk_of_leaving')]).toBe(1);
    expect(logged!.features![DECISION_FEATURES.indexOf('free_shipping_gap_open')]).toBe(1); // the cart is under the strategy's threshold

    // Doing nothing is logged too, with its probability.
    await page.evaluate(fixDraw(0.99));
    expect(await decide()).toMatchObject({ action: { id: 'none' }, copy: '', propensity: decision.propensity });
    expect((await events('decision')).map((params) => params.action_id)).toEqual(['free-shipping', 'none']);
    // Decisions are no behaviour: the intent still reads the cart.
    expect((await page.evaluate(() => window.hunch!.intent())).stage).toBe('at_risk_of_leaving');
    expect(warnings).toEqual([]);
  });

  it('requests no policy when hunch.json names none, even with a policy.json beside it: uniform', async () => {
    const requested: string[] = [];
    context.on('request', (request) => requested.push(request.url()));
    await open({ model: 'unlisted', u: 0.5 });
    await atRiskCart();
    expect(await decide()).toMatchObject({ action: { id: 'free-shipping' }, policy: 'uniform' });
    expect(requested.filter((url) => url.includes('policy.json'))).toEqual([]);
    // The worker said hunch.json names none: the page itself never read it.
    expect(await page.evaluate(() => performance.getEntriesByType('resource').filter((entry) => new URL(entry.name).pathname.endsWith('/hunch.json')).length)).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('follows the policy hunch.json names: the learned best with 1 - ε + ε/n, its id logged', async () => {
    await open({ model: 'policy', u: 0.5 });
    await atRiskCart();
    const decision = (await decide())!;
    expect(decision).toMatchObject({ action: { id: 'free-shipping' }, policy: 'learned-7' });
    expect(decision.propensity).toBeCloseTo(0.8 + 0.2 / 3);
    // The worker named the policy: the page itself never read hunch.json (the vocabulary: megabytes in a big shop).
    expect(await page.evaluate(() => performance.getEntriesByType('resource').filter((entry) => new URL(entry.name).pathname.endsWith('/hunch.json')).length)).toBe(0);
    expect(await events('decision')).toEqual([
      { strategy_id: 'cart-nudge', action_id: 'free-shipping', propensity: decision.propensity, policy_id: 'learned-7', features: expect.any(Array), eligible: ['remind', 'free-shipping', 'none'] },
    ]);
  });

  it('caps hold: past perSession only none is eligible, also after a reload', async () => {
    await open({ u: 0 });
    await atRiskCart();
    expect((await decide())!.action.id).toBe('remind');
    expect((await decide())!.action.id).toBe('remind');
    expect(await decide()).toMatchObject({ action: { id: 'none' }, propensity: 1, probabilities: { none: 1 } });
    await page.reload();
    expect(await decide()).toMatchObject({ action: { id: 'none' }, propensity: 1 });
    // Polled (up to 10 s, as on a loaded CI machine): the decision's record may still be on its way to the store when flush() is called.
    await expect.poll(async () => (await events('decision')).map((params) => `${params.action_id}@${params.propensity}`), { timeout: 10_000 }).toEqual(['remind@0.3333333333333333', 'remind@0.3333333333333333', 'none@1', 'none@1']);
  });

  it('a held-out shopper decides none (policy holdout, propensity 1) and the slot stays empty', async () => {
    const shopper = Array.from({ length: 500 }, () => randomUUID()).find((id) => inHoldout(id, { key: 'hunch-holdout', share: 0.1 }))!;
    await open({ attributes: ' data-holdout="0.1"', shopper, body: '<hunch-slot name="cart-nudge"></hunch-slot>' });
    await atRiskCart();
    expect(await decide()).toMatchObject({ action: { id: 'none' }, propensity: 1, policy: 'holdout' });
    await expect.poll(() => events('decision'), { timeout: 10_000 }).toContainEqual({ strategy_id: 'cart-nudge', action_id: 'none', propensity: 1, policy_id: 'holdout' });
    expect((await events('decision')).every((params) => params.action_id === 'none')).toBe(true);
    expect((await slot()).elements).toEqual([]);
  });
  it('logs nothing without personalization_storage consent, and decides from the cart once it is granted', async () => {
    await open({ attributes: ' data-require-consent' });
    await atRiskCart();
    // No consent: nothing stored, so no cart to decide on, and nothing logged.
    expect(await decide()).toMatchObject({ action: { id: 'none' }, propensity: 1 });
    expect(await events('decision')).toEqual([]);
    await page.evaluate(() => window.hunch!.consent({ personalization_storage: 'granted', analytics_storage: 'granted' }));
    await atRiskCart();
    expect((await decide())!.action.id).toBe('remind');
    await expect.poll(() => events('decision'), { timeout: 10_000 }).toEqual([expect.objectContaining({ action_id: 'remind', propensity: 1 / 3 })]);
  });
});

describe('<hunch-slot>', () => {
  it('renders the copy as text only, logs view_promotion once viewable and select_promotion on click', async () => {
    await open({ model: 'hostile', u: 0, body: '<div style="height: 3000px"></div>' });
    await atRiskCart();
    await page.evaluate(() => {
      const element = document.createElement('hunch-slot');
      element.setAttribute('name', 'cart-nudge');
      element.setAttribute('show-reason', '');
      document.body.append(element); // below the fold
    });
    await expect.poll(async () => (await slot()).message, { timeout: 60_000 }).toBe(`Still thinking about ${PAYLOAD}?`);
    const shown = await slot();
    expect(shown.elements).toEqual(['div', 'span', 'span']); // the box, the message, the reason: no <img>
    expect(shown.reason).toBe(`because you left ${PAYLOAD} in your cart`);
    expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.evaluate(() => (document.querySelector('hunch-slot') as HTMLElement & { decision: { action: { id: string } } }).decision.action.id)).toBe('remind');

    await page.waitForTimeout(1500);
    expect(await events('view_promotion')).toEqual([]); // not in view yet
    await page.evaluate(() => document.querySelector('hunch-slot')!.scrollIntoView());
    await expect.poll(() => events('view_promotion'), { timeout: 10_000 }).toEqual([{ promotion_id: 'remind', creative_slot: 'cart-nudge' }]);
    await page.evaluate(() => (document.querySelector('hunch-slot')!.shadowRoot!.querySelector('[part~="message"]') as HTMLElement).click());
    await expect.poll(() => events('select_promotion'), { timeout: 10_000 }).toEqual([{ promotion_id: 'remind', creative_slot: 'cart-nudge' }]);
    await page.waitForTimeout(1200);
    expect(await events('view_promotion')).toHaveLength(1); // once per decision shown
    expect(await events('decision')).toEqual([{ strategy_id: 'cart-nudge', action_id: 'remind', propensity: 1 / 3, policy_id: 'uniform', features: expect.any(Array), eligible: ['remind', 'free-shipping', 'none'] }]);
  });

  it('decides again when its name changes: the old content goes, the new strategy renders and its exposure is logged', async () => {
    const exit = { actions: [{ id: 'come-back', kind: 'message' as const, copy: 'Before you go: {title} is still here', when: { minCartItems: 1 } }] };
    await open({ u: 0, strategies: { ...NUDGE, 'exit-offer': exit } });
    await atRiskCart();
    await page.evaluate(async () => {
      const element = document.createElement('hunch-slot');
      element.setAttribute('name', 'cart-nudge'); // not connected yet: no decision
      await new Promise((resolve) => setTimeout(resolve, 50));
      document.body.append(element);
    });
    await expect.poll(async () => (await slot()).message, { timeout: 60_000 }).toBe('Still thinking about Classic Mug?');
    await expect.poll(() => events('view_promotion'), { timeout: 10_000 }).toEqual([{ promotion_id: 'remind', creative_slot: 'cart-nudge' }]);
    expect((await events('decision')).map((params) => `${params.strategy_id}:${params.action_id}`)).toEqual(['cart-nudge:remind']); // one decision on connection

    await page.evaluate(() => document.querySelector('hunch-slot')!.setAttribute('name', 'exit-offer'));
    await expect.poll(async () => (await slot()).message, { timeout: 10_000 }).toBe('Before you go: Classic Mug is still here');
    expect((await slot()).elements).toEqual(['div', 'span']); // the new box only
    expect(await page.evaluate(() => (document.querySelector('hunch-slot') as HTMLElement & { decision: { strategy: string } }).decision.strategy)).toBe('exit-offer');
    await expect.poll(() => events('view_promotion'), { timeout: 10_000 }).toEqual([
      { promotion_id: 'remind', creative_slot: 'cart-nudge' },
      { promotion_id: 'come-back', creative_slot: 'exit-offer' },
    ]);
    // The same name again is no change: no new decision.
    await page.evaluate(() => document.querySelector('hunch-slot')!.setAttribute('name', 'exit-offer'));
    await page.waitForTimeout(300);
    expect((await events('decision')).map((params) => `${params.strategy_id}:${params.action_id}`)).toEqual(['cart-nudge:remind', 'exit-offer:come-back']);
    expect(warnings).toEqual([]);
  });

  it('shows the free-shipping bar with its progress', async () => {
    await open({ u: 0.5 });
    await atRiskCart();
    await page.evaluate(() => {
      const element = document.createElement('hunch-slot');
      element.id = 'second';
      element.setAttribute('name', 'cart-nudge');
      document.body.append(element);
    });
    await expect.poll(async () => (await slot('#second')).meter, { timeout: 60_000 }).toEqual({ value: 21.99, max: 50 });
    expect((await slot('#second')).message).toMatch(/28[.,]01/);
    expect((await events('decision')).map((params) => params.action_id)).toEqual(['free-shipping']);
  });
});

describe('bad input', () => {
  const cases: Array<[string, { model?: string; strategies?: StrategyDeclarations; name?: string }]> = [
    ['an unknown strategy name', { name: 'exit-offer' }],
    ['a template slot that is not one', { strategies: { 'cart-nudge': { actions: [{ id: 'remind', kind: 'message', copy: 'Still thinking about {titel}?' }] } } }],
    ['a policy that does not match the strategies on the page', { model: 'mismatch' }],
    ['a policy.json other than the one hunch.json lists (tampered)', { model: 'tampered' }],
  ];
  for (const [what, { model, strategies, name = 'cart-nudge' }] of cases) {
    it(`${what}: the slot stays empty, one warning, the decision logged as none`, async () => {
      await open({ ...(model ? { model } : {}), ...(strategies ? { strategies } : {}) });
      await atRiskCart();
      await page.evaluate((name) => {
        for (let i = 0; i < 2; i++) {
          const element = document.createElement('hunch-slot');
          element.setAttribute('name', name);
          document.body.append(element);
        }
      }, name);
      expect(await decide(name)).toBeNull();
      await expect.poll(() => events('decision'), { timeout: 10_000 }).toHaveLength(3);
      expect(await events('decision')).toEqual([0, 1, 2].map(() => ({ strategy_id: name, action_id: 'none', propensity: 1, policy_id: 'fallback' })));
      const slots = await page.evaluate(() => [...document.querySelectorAll('hunch-slot')].map((element) => [element.shadowRoot?.childElementCount ?? 0, (element as HTMLElement & { decision: unknown }).decision]));
      expect(slots).toEqual([
        [0, null],
        [0, null],
      ]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`strategy ${name} decides nothing`);
      if (model === 'tampered') expect(warnings[0]).toMatch(/policy\.json does not match hunch\.json: SHA-256 [0-9a-f]{64} where hunch\.json lists/);
    });
  }
});

describe('the demo shop', () => {
  it('a cart at risk gets the reminder in the banner, one near free shipping the bar; the panel says which fired, how likely and why', async () => {
    const demo = await startStorefront({ port: 0 });
    try {
      await context.addInitScript(fixDraw(0)); // the first eligible action each time
      await page.goto(`${demo.url}#/product/mugs-15`);
      // Ribbed Glass Tumbler, 31.49 €: 18.51 € from free shipping (the banner's bar, on the next page).
      await page.click('#add-to-cart');
      await page.goto(`${demo.url}#/product/mugs-19`);
      await page.click('#add-to-cart');
      // 59.98 €: past the threshold, nothing to show. Then the Hand-Thrown Mug goes (a mini-cart's removal, no new page):
      // at risk, 18.51 € away again; the stage change makes the banner decide again.
      await page.evaluate(() => window.hunch!.track('remove_from_cart', { item_id: 'mugs-19' }));
      const banner = () =>
        page.evaluate(() => {
          const root = document.querySelector('#nudge hunch-slot')?.shadowRoot;
          return { message: root?.querySelector('[part~="message"]')?.textContent ?? null, meter: root?.querySelector('progress') !== null && root !== undefined, reason: root?.querySelector('[part~="reason"]')?.textContent ?? null };
        });
      await expect.poll(async () => (await banner()).message, { timeout: 60_000 }).toBe('Still thinking about Ribbed Glass Tumbler? It is waiting in your cart.');
      expect((await banner()).reason).toBe('because you left Ribbed Glass Tumbler in your cart');
      await page.click('#intent-toggle');
      await expect.poll(() => page.textContent('[data-field="strategy"]')).toMatch(/^cart-nudge: “remind” \(33 % under uniform exploration; 3 eligible\) — because you left Ribbed Glass Tumbler in your cart$/);

      // The bar: the second eligible action.
      await page.evaluate(fixDraw(0.5));
      await page.goto(`${demo.url}#/`);
      await expect.poll(async () => (await banner()).message, { timeout: 60_000 }).toMatch(/^Add €18\.51 more for free shipping$/);
      expect((await banner()).meter).toBe(true);
      // How many pages decided before the clicks landed depends on timing; the last two are the reminder, then the bar.
      const shown = (await events('decision')).filter((params) => params.action_id !== 'none').map((params) => params.action_id);
      expect(shown.slice(-2)).toEqual(['remind', 'free-shipping']);
      expect(shown.every((id) => id === 'remind' || id === 'free-shipping')).toBe(true);
      expect(warnings).toEqual([]);
    } finally {
      await demo.close();
    }
  });
});
