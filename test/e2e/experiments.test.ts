/**
 * Experiments on the device (issue 19), in real Chromium through the script tag: no shopper id
 * and no variant before personalization_storage consent (nothing in localStorage); after it, an
 * id whose variant is the same across a reload and in a second tab, before the SDK arrives too;
 * forget() in one tab erases the id for both; a shopper core puts in the global holdout
 * (data-holdout) gets popular recommendations, the shop's order from rerank() and rule-based
 * intent, while a shopper outside it gets the model's. Variant shares over many ids are checked
 * in packages/browser/test/experiments.test.ts, on the function the facade uses.
 */
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { inHoldout } from '../../packages/core/src/experiments/assignment.js';
import { useShopPage, type Storefront } from './shop-page.js';

const TAG = '<script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm" data-auto-capture="false"></script>';
/** With auto-capture: route changes and data-hunch-experiment markup. */
const CAPTURE_TAG = TAG.replace(' data-auto-capture="false"', '');
const VARIANTS = ['control', 'big-hero', 'small-hero'];

let storefront: Storefront, page: Page, pageErrors: string[], warnings: string[];
useShopPage((shop) => ({ storefront, page, pageErrors, warnings } = shop));

/** Serves `tag` and `body` on /experiments.html (and any path below the storefront, for route changes) for every page of the test's browser context. */
async function serve(tag: string, body = ''): Promise<string> {
  const url = `${storefront.url}experiments.html`;
  await page.context().route(url, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta charset="utf-8"><title>experiments</title>${tag}${body}` }));
  return url;
}

/** The exposures stored so far, oldest first. */
const exposuresOf = (p: Page) =>
  p.evaluate(async () => {
    await window.hunch!.flush();
    return (await window.hunch!.history()).filter((event) => event.name === 'experience_impression').map(({ params }) => params);
  });

const localKeys = (p: Page) => p.evaluate(() => Array.from({ length: localStorage.length }, (_, i) => localStorage.key(i)!).sort());
const variantOf = (p: Page) => p.evaluate((variants) => window.hunch!.experiment('hero', variants), VARIANTS);
const shopperOf = (p: Page) => p.evaluate(() => localStorage.getItem('hunch.shopper'));

describe('experiments on the device', () => {
  it('no id and no variant before consent; after it a sticky variant across a reload and tabs; forget() in one tab erases it for both', async () => {
    const url = await serve(TAG.replace('<script ', '<script data-require-consent '));
    await page.goto(url);
    expect(await variantOf(page)).toBeNull();
    expect(await page.evaluate(() => window.hunch!.experiments())).toEqual({ hero: { variants: {}, notEnrolled: { consent: 1 } } });
    // Nothing stored on the device, once the SDK has loaded too.
    await page.evaluate(() => window.hunch!.history());
    expect(await localKeys(page)).toEqual([]);

    await page.evaluate(() => window.hunch!.consent({ personalization_storage: 'granted' }));
    const variant = await variantOf(page);
    const id = await shopperOf(page);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(VARIANTS).toContain(variant);
    expect(await page.evaluate(() => window.hunch!.experiments().hero)).toEqual({ variants: { [variant!]: 1 }, notEnrolled: { consent: 1 } });

    // A reload answers at once, from the loader, before hunch.sdk.js is even asked for.
    await page.context().route('**/hunch/hunch.sdk.js', () => undefined); // never answered
    await page.reload();
    expect(await variantOf(page)).toBe(variant);
    await page.context().unroute('**/hunch/hunch.sdk.js');
    await page.reload();
    await page.evaluate(() => window.hunch!.history());
    expect(await variantOf(page)).toBe(variant);
    const second = await page.context().newPage();
    await second.goto(url);
    expect(await variantOf(second)).toBe(variant);
    expect(await shopperOf(second)).toBe(id);

    await page.evaluate(() => window.hunch!.forget());
    await expect.poll(() => second.evaluate(() => window.hunch!.consent().personalization_storage)).toBe('denied');
    expect(await variantOf(second)).toBeNull();
    expect(await localKeys(second)).toEqual([]);
    expect(await localKeys(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('withdrawing personalization_storage erases the id', async () => {
    await page.goto(await serve(TAG));
    expect(await variantOf(page)).not.toBeNull();
    expect(await shopperOf(page)).not.toBeNull();
    await page.evaluate(() => window.hunch!.consent({ personalization_storage: 'denied' }));
    expect(await shopperOf(page)).toBeNull();
    expect(await variantOf(page)).toBeNull();
    expect(await shopperOf(page)).toBeNull();
  });

  it('forget() erases the id in every tab where the defaults grant storage too (no data-require-consent)', async () => {
    const url = await serve(TAG);
    await page.goto(url);
    const second = await page.context().newPage();
    await second.goto(url);
    const variant = await variantOf(page);
    const id = await shopperOf(page);
    expect(id).not.toBeNull();
    expect(await variantOf(second)).toBe(variant);
    expect(await shopperOf(second)).toBe(id);
    // forget() in the second tab: the first tab reads no id afterwards (nothing is cached in a page).
    await second.evaluate(() => window.hunch!.forget());
    expect(await shopperOf(page)).toBeNull();
    expect(await shopperOf(second)).toBeNull();
    expect(await page.evaluate(() => window.hunch!.consent().personalization_storage)).toBe('granted');
    // A new shopper as far as experiments go: a new id, made on the next experiment().
    await variantOf(page);
    expect(await shopperOf(second)).not.toBe(id);
    expect(pageErrors).toEqual([]);
  });

  /** What a shopper with `id` gets on a page with data-holdout="0.1", after viewing some lamps. */
  async function personalisation(id: string) {
    const url = await serve(TAG.replace('<script ', '<script data-holdout="0.1" '));
    await page.context().addInitScript((shopper) => localStorage.setItem('hunch.shopper', shopper), id);
    await page.goto(url);
    return page.evaluate(async (variants) => {
      const hunch = window.hunch!;
      for (const item of ['lamps-02', 'lamps-05', 'lamps-08', 'lamps-03']) hunch.track('view_item', { item_id: item, item_category: 'lamps' });
      await hunch.flush();
      const list = ['mugs-01', 'mugs-02', 'teas-01', 'teas-02', 'mugs-03', 'lamps-01', 'lamps-04', 'lamps-06'];
      return {
        experiment: hunch.experiment('hero', variants),
        recs: (await hunch.recommend({ k: 4 })).map((rec) => rec.source),
        reranked: (await hunch.rerank(list)).join(' '),
        list: list.join(' '),
        intent: (await hunch.intent()).source,
      };
    }, VARIANTS);
  }

  const ids = Array.from({ length: 1000 }, () => randomUUID());
  const holdout = { key: 'hunch-holdout', share: 0.1 };

  it('a shopper in the global holdout gets no personalisation and no experiment', async () => {
    const got = await personalisation(ids.find((id) => inHoldout(id, holdout))!);
    expect(got.experiment).toBeNull();
    expect(got.recs).toEqual(['popular', 'popular', 'popular', 'popular']);
    expect(got.reranked).toBe(got.list);
    expect(got.intent).toBe('rules');
    expect(pageErrors).toEqual([]);
  });

  it('a shopper outside the holdout gets the model (the contrast that shows the holdout test can fail)', async () => {
    const got = await personalisation(ids.find((id) => !inHoldout(id, holdout))!);
    expect(VARIANTS).toContain(got.experiment);
    expect(got.recs).toEqual(['model', 'model', 'model', 'model']);
    expect(got.reranked).not.toBe(got.list);
    expect(got.intent).toBe('model');
    expect(pageErrors).toEqual([]);
  });

  it('expose(): one experience_impression per experiment and page view, with the variant given; an element once viewable; markup; never for a shopper not enrolled', async () => {
    // Below the fold: a target element, and a data-hunch-experiment section inside a list.
    const body = '<div style="height: 3000px"></div><div id="target" style="height: 100px">banner</div><div style="height: 2000px"></div><section data-hunch-list="promos" data-hunch-experiment="promo" style="height: 200px">promo</section>';
    await page.goto(await serve(CAPTURE_TAG, body));
    const given = await page.evaluate(() => {
      const hunch = window.hunch!;
      const variants = { hero: hunch.experiment('hero', ['control', 'big-hero']), below: hunch.experiment('below', ['a', 'b']), promo: hunch.experiment('promo', ['x', 'y']) };
      hunch.experiment('off', ['a', 'b'], { traffic: 0 }); // not enrolled
      hunch.expose('hero');
      hunch.expose('hero'); // once per page view
      hunch.expose('off');
      hunch.expose('never-asked'); // experiment() was not asked on this page: no variant to expose
      hunch.expose('below', document.querySelector('#target'), 'banners');
      return variants;
    });
    expect(await exposuresOf(page)).toEqual([{ experiment_id: 'hero', variant_id: given.hero }]);
    // Out of view, nothing more, however long.
    await page.waitForTimeout(1500);
    expect(await exposuresOf(page)).toHaveLength(1);
    // In view: after one continuous second.
    await page.evaluate(() => document.querySelector('#target')!.scrollIntoView({ block: 'center' }));
    await expect.poll(() => exposuresOf(page), { timeout: 10_000 }).toHaveLength(2);
    expect((await exposuresOf(page))[1]).toEqual({ experiment_id: 'below', variant_id: given.below, item_list_id: 'banners' });
    await page.evaluate(() => document.querySelector('section')!.scrollIntoView({ block: 'center' }));
    await expect.poll(() => exposuresOf(page), { timeout: 10_000 }).toHaveLength(3);
    expect((await exposuresOf(page))[2]).toEqual({ experiment_id: 'promo', variant_id: given.promo, item_list_id: 'promos' });
    await page.waitForTimeout(1500);
    expect(await exposuresOf(page)).toHaveLength(3);

    // A route change is a new page view: exposed again (the section still in view counts after its second).
    await page.evaluate(() => {
      history.pushState({}, '', '/next-page');
      window.hunch!.expose('hero');
      window.hunch!.expose('hero');
    });
    await expect.poll(async () => (await exposuresOf(page)).map((params) => params.experiment_id), { timeout: 10_000 }).toEqual(['hero', 'below', 'promo', 'hero', 'promo']);
    expect(pageErrors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('expose() before the SDK arrives is queued like track(), and a shopper without consent is exposed to nothing', async () => {
    let servedAt = Infinity;
    await page.context().route('**/hunch/hunch.sdk.js', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      servedAt = Date.now();
      await route.continue();
    });
    const inline = "<script>window.early = hunch.experiment('hero', ['control', 'big-hero']); hunch.expose('hero');</script>";
    await page.goto(await serve(TAG, inline));
    const exposures = await page.evaluate(async () => {
      await window.hunch!.flush();
      return (await window.hunch!.history()).filter((event) => event.name === 'experience_impression');
    });
    expect(exposures.map(({ params }) => params)).toEqual([{ experiment_id: 'hero', variant_id: await page.evaluate(() => (window as unknown as { early: string }).early) }]);
    expect(exposures[0]!.ts).toBeLessThan(servedAt);

    // Opt-in consent not given: no id, no variant, nothing exposed.
    await page.goto(await serve(TAG.replace('<script ', '<script data-require-consent '), inline));
    expect(await exposuresOf(page)).toEqual([]);
    expect(await page.evaluate(() => window.hunch!.experiments())).toEqual({ hero: { variants: {}, notEnrolled: { consent: 1 } } });
    expect(pageErrors).toEqual([]);
  });

  it('exposures never reach the model, intent or the cart: the same recommendations and intent after 60 of them', async () => {
    const id = ids.find((candidate) => !inHoldout(candidate, holdout))!;
    await page.context().addInitScript((shopper) => localStorage.setItem('hunch.shopper', shopper), id);
    await page.goto(await serve(TAG));
    const look = () =>
      page.evaluate(async () => {
        const hunch = window.hunch!;
        await hunch.flush();
        const recs = await hunch.recommend({ k: 6 });
        const intent = await hunch.intent();
        return { recs: recs.map((rec) => `${rec.item.id} ${rec.source}`), stage: intent.stage, why: intent.why, categories: intent.topCategories.map((c) => c.category) };
      });
    await page.evaluate(() => {
      const hunch = window.hunch!;
      for (const item of ['lamps-02', 'lamps-05', 'lamps-08']) hunch.track('view_item', { item_id: item, item_category: 'lamps' });
      hunch.track('add_to_cart', { item_id: 'lamps-05', item_category: 'lamps' });
    });
    const before = await look();
    expect(before.recs.every((rec) => rec.endsWith(' model'))).toBe(true);
    // More exposures than the model's history holds (50 events), each a different experiment.
    await page.evaluate(() => {
      for (let n = 0; n < 60; n++) window.hunch!.track('experience_impression', { experiment_id: `exp-${n}`, variant_id: 'a' });
    });
    expect(await look()).toEqual(before);
    expect(await exposuresOf(page)).toHaveLength(60);
    expect(pageErrors).toEqual([]);
  });
});
