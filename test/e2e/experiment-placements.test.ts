/**
 * Built-in experiments per placement (issue 19), in real Chromium through the script tag with
 * the demo model: `<hunch-recommendations experiment="recs-home" arms="model popular shop none">`
 * assigns through hunch.experiment() (the tally counts it), renders the shopper's arm (the
 * model's picks, the popular items only, the shop's own light-DOM list through a slot, or an
 * invisible box), and exposes it once viewable with the placement as item_list_id; clicks keep
 * the placement. A shopper not enrolled (held out, no consent) gets the element as without an
 * experiment and no exposure of it. With the global holdout on, the first placement seen on a
 * page exposes the shopper's holdout variant, once. Shopper ids are picked through core's
 * assignment so that each arm has one.
 */
import { randomUUID } from 'node:crypto';
import type { EventParams } from '@hunch/core';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { assign, inHoldout } from '../../packages/core/src/experiments/assignment.js';
import { useShopPage, type Storefront } from './shop-page.js';

const ARMS = ['model', 'popular', 'shop', 'none'] as const;
const holdout = { key: 'hunch-holdout', share: 0.1 };
const ids = Array.from({ length: 2000 }, () => randomUUID());
const armOf = (id: string) => {
  const result = assign(id, { key: 'recs-home', weights: [1, 1, 1, 1] }, holdout);
  return result.enrolled ? ARMS[result.variant] : null;
};

const TAG = '<script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm" data-holdout="0.1"></script>';
/** A placement in an experiment at the top, with the shop's own list inside; a plain placement far below. */
const BODY =
  '<hunch-recommendations placement="home" limit="4" experiment="recs-home" arms="model popular shop none">' +
  '<ul><li data-hunch-item="teas-01" data-hunch-category="teas"><a href="#teas-01">The shop\'s own pick</a></li></ul></hunch-recommendations>' +
  '<div style="height: 3000px"></div><hunch-recommendations id="footer" placement="footer" limit="2"></hunch-recommendations>';

let storefront: Storefront, page: Page, pageErrors: string[], warnings: string[];
useShopPage((shop) => ({ storefront, page, pageErrors, warnings } = shop));

/** Opens the page as the shopper with `id` (none: no id). */
async function open(id: string | undefined, tag = TAG): Promise<void> {
  const url = `${storefront.url}placements.html`;
  await page.context().route(url, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta charset="utf-8"><title>placements</title>${tag}${BODY}` }));
  if (id) await page.context().addInitScript((shopper) => localStorage.setItem('hunch.shopper', shopper), id);
  await page.goto(url);
  await page.evaluate(() => document.addEventListener('click', (event) => event.preventDefault())); // stay on this page
}

const events = (name: string) =>
  page.evaluate(async (name) => {
    await window.hunch!.flush();
    return (await window.hunch!.history()).filter((event) => event.name === name).map(({ params }) => params);
  }, name) as Promise<EventParams[]>;
const exposures = () => events('experience_impression');

/** The first placement's shadow root as the test reads it. */
const rendered = () =>
  page.evaluate(() => {
    const host = document.querySelector('hunch-recommendations')!;
    const root = host.shadowRoot!;
    const list = root.querySelector('[part~="list"]');
    return {
      sources: [...root.querySelectorAll('[part~="card"]')].map((card) => (card as HTMLElement).dataset.source),
      slot: root.querySelector('slot') !== null,
      hostHeight: host.getBoundingClientRect().height,
      shopItemHeight: document.querySelector('li[data-hunch-item]')!.getBoundingClientRect().height,
      listVisibility: list ? getComputedStyle(list).visibility : null,
      listHidden: list?.getAttribute('aria-hidden') ?? null,
    };
  });

describe('<hunch-recommendations experiment arms>', () => {
  for (const arm of ARMS) {
    it(`the ${arm} arm: rendered as its name says, exposed once viewable with the placement, the first placement exposes the holdout variant`, async () => {
      await open(ids.find((id) => armOf(id) === arm)!);
      await expect.poll(exposures, { timeout: 60_000 }).toHaveLength(2);
      expect(await exposures()).toEqual(
        expect.arrayContaining([
          { experiment_id: 'recs-home', variant_id: arm, item_list_id: 'home' },
          { experiment_id: 'hunch-holdout', variant_id: 'personalised', item_list_id: 'home' },
        ]),
      );
      expect(await page.evaluate(() => window.hunch!.experiments()['recs-home'])).toEqual({ variants: { [arm]: 1 }, notEnrolled: {} });
      if (arm === 'model') await expect.poll(async () => (await rendered()).sources.join(), { timeout: 60_000 }).toBe('model,model,model,model');
      // Long enough for the model to have answered: an arm that is not the model's never shows it.
      await page.waitForTimeout(1500);
      const view = await rendered();
      if (arm === 'popular') expect(view.sources).toEqual(['popular', 'popular', 'popular', 'popular']);
      if (arm === 'shop') expect(view).toMatchObject({ sources: [], slot: true });
      if (arm === 'shop') expect(view.shopItemHeight).toBeGreaterThan(0);
      else expect(view.shopItemHeight).toBe(0); // the shop's own list shows only in its arm
      if (arm === 'none') {
        // The box the placeholders take, with nothing visible in it.
        expect(view).toMatchObject({ sources: [], slot: false, listVisibility: 'hidden', listHidden: 'true' });
        expect(view.hostHeight).toBeGreaterThan(100);
      }

      // A click in the placement keeps it as the list id: the model's or popular cards, or the shop's own.
      if (arm !== 'none') {
        await page.evaluate((arm) => {
          const host = document.querySelector('hunch-recommendations')!;
          const target = arm === 'shop' ? host.querySelector('a')! : host.shadowRoot!.querySelector('[part~="title"]')!;
          (target as HTMLElement).click();
        }, arm);
        const clicks = await events('select_item');
        expect(clicks).toHaveLength(1);
        expect(clicks[0]).toMatchObject({ item_list_id: 'home', ...(arm === 'shop' ? { item_id: 'teas-01', item_category: 'teas' } : {}) });
      }

      // Once per page view: the placement further down exposes no second holdout variant.
      await page.evaluate(() => document.querySelector('#footer')!.scrollIntoView());
      await page.waitForTimeout(2000);
      expect(await exposures()).toHaveLength(2);
      expect(pageErrors).toEqual([]);
      expect(warnings).toEqual([]);
    });
  }

  it('a held-out shopper: today’s element (popular items), no exposure of the experiment, the holdout variant exposed', async () => {
    await open(ids.find((id) => inHoldout(id, holdout))!);
    await expect.poll(exposures, { timeout: 60_000 }).toEqual([{ experiment_id: 'hunch-holdout', variant_id: 'holdout', item_list_id: 'home' }]);
    await page.waitForTimeout(1500);
    expect((await rendered()).sources).toEqual(['popular', 'popular', 'popular', 'popular']);
    expect(await exposures()).toHaveLength(1);
    expect(await page.evaluate(() => window.hunch!.experiments()['recs-home'])).toEqual({ variants: {}, notEnrolled: { holdout: 1 } });
    expect(pageErrors).toEqual([]);
  });

  it('without consent: no id, the popular items, and nothing exposed', async () => {
    await open(undefined, TAG.replace('<script ', '<script data-require-consent '));
    await expect.poll(async () => (await rendered()).sources.join(), { timeout: 60_000 }).toBe('popular,popular,popular,popular');
    await page.waitForTimeout(1500);
    expect(await exposures()).toEqual([]);
    expect(await page.evaluate(() => window.hunch!.experiments()['recs-home'])).toEqual({ variants: {}, notEnrolled: { consent: 1 } });
    expect(pageErrors).toEqual([]);
  });

  it('the div form: data-experiment with the default arms "model popular", on a page without a holdout', async () => {
    const id = ids.find((candidate) => {
      const result = assign(candidate, { key: 'recs-cart', weights: [1, 1] }, null);
      return result.enrolled && result.variant === 1;
    })!;
    const url = `${storefront.url}div.html`;
    await page.context().route(url, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><meta charset="utf-8"><title>div</title>${TAG.replace(' data-holdout="0.1"', '')}<div data-hunch-recs="cart" data-limit="3" data-experiment="recs-cart"></div>`,
      }),
    );
    await page.context().addInitScript((shopper) => localStorage.setItem('hunch.shopper', shopper), id);
    await page.goto(url);
    // Holdout off: only the experiment's exposure, its arm "popular" (the second of the default arms).
    await expect.poll(exposures, { timeout: 60_000 }).toEqual([{ experiment_id: 'recs-cart', variant_id: 'popular', item_list_id: 'cart' }]);
    await page.waitForTimeout(1500);
    expect(await page.evaluate(() => [...document.querySelector('[data-hunch-recs]')!.shadowRoot!.querySelectorAll('[part~="card"]')].map((card) => (card as HTMLElement).dataset.source))).toEqual([
      'popular',
      'popular',
      'popular',
    ]);
    expect(pageErrors).toEqual([]);
  });
});
