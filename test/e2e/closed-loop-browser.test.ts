/**
 * The closed loop's shoppers in the real SDK in Chromium (issue 19: "the real SDK in Chromium
 * for a small end-to-end run"). The first shoppers of the closed-loop test's population
 * (seed 11) visit a page with the script-tag SDK on WASM and the demo model, each in a browser
 * context of their own: the loop's events go in through hunch.track() as the loop produces
 * them, and each placement is asked in the page with hunch.recommend({ k, exclude, placement })
 * (loop-shop.ts). The Node harness (scripts/lib/sdk-shop.ts) is asked the same request on the
 * same events. For the model arm (a shopper outside the global holdout) and the popular arm (a
 * shopper core puts in it): every placement shows the same ids in the browser as in Node, the
 * browser stores the loop's events as they were sent, and the loop driven by what the browser
 * shows gives every shopper exactly the outcomes (clicks, carts, purchases, revenue) of the
 * Node run: what the Node simulation shows its shoppers is what real browsers show them.
 * A few shoppers of many visits (the model arm) take the histories past the model's context
 * window and the SDK's history limit, where the two could part first.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { closedLoopPopulation, potentialOutcomes, type ClosedLoopPopulation, type LoopArm } from '../../packages/trainer/src/experiments/index.js';
import { HISTORY_LIMIT, loadSdkShop, type SdkShop } from '../../scripts/lib/sdk-shop.js';
import { launchChromium } from './chromium.js';
import { browserLoopShop, type BrowserLoopShop, type RequestRecord } from './loop-shop.js';

/** The closed-loop test's seed and window; its first SHOPPERS shoppers per arm. */
const SEED = 11;
const DAYS = 14;
const SHOPPERS = 10;
/**
 * Shoppers who come back about ten times, search on every visit and click half the
 * placements (their own population): histories past the SDK's history limit (50 events) and,
 * with clicks' and searches' two tokens, past the model's context (64 tokens).
 */
const LONG_SHOPPERS = 2;

type Storefront = Awaited<ReturnType<typeof startStorefront>>;
let storefront: Storefront;
let browser: Browser;
let node: SdkShop;

interface Run {
  population: ClosedLoopPopulation;
  arm: LoopArm;
  shop: BrowserLoopShop;
  /** The loop driven by the browser's answers, and by the Node harness's alone. */
  browser: Awaited<ReturnType<typeof potentialOutcomes>>;
  node: Awaited<ReturnType<typeof potentialOutcomes>>;
  /** Wall time of the browser-driven loop. */
  ms: number;
}
const runs = new Map<string, Run>();

async function run(population: ClosedLoopPopulation, arm: LoopArm): Promise<Run> {
  const shop = browserLoopShop(browser, `${storefront.url}loop.html`, node, { shoppers: population.size, heldOut: arm === 'popular' });
  try {
    const started = Date.now();
    const inBrowser = await potentialOutcomes(population, shop, arm);
    await shop.finish();
    const ms = Date.now() - started;
    const inNode = await potentialOutcomes(population, node, arm);
    return { population, arm, shop, browser: inBrowser, node: inNode, ms };
  } finally {
    await shop.finish().catch(() => undefined);
  }
}

beforeAll(async () => {
  const started = Date.now();
  // Every request of the Node harness runs the model on the device's own context, as the worker does.
  [storefront, browser, node] = await Promise.all([startStorefront({ port: 0 }), launchChromium({ webgpu: false }), loadSdkShop(undefined, { cacheLimit: 0 })]);
  const population = closedLoopPopulation(node.products, { shoppers: SHOPPERS, seed: SEED, days: DAYS });
  const long = closedLoopPopulation(node.products, { shoppers: LONG_SHOPPERS, seed: SEED, days: DAYS, model: { visits: 10, visitSpread: 0, search: 1, clickBase: 0.5 } });
  // The runs side by side; in each, shoppers one after another (the next one's context opening meanwhile).
  const [model, popular, longModel] = await Promise.all([run(population, 'model'), run(population, 'popular'), run(long, 'model')]);
  runs.set('model', model).set('popular', popular).set('model, long histories', longModel);
  const all = [...runs.values()].flatMap((r) => r.shop.requests);
  console.log(
    `closed loop in Chromium: ${[...runs].map(([name, r]) => `${name} ${r.population.size} shoppers ${r.shop.requests.length} requests ${(r.ms / 1000).toFixed(1)} s`).join(', ')}; ` +
      `${all.filter((r) => r.reloaded).length} requests on a reloaded page; up to ${Math.max(...all.map((r) => r.behaviour))} behaviour events before one; ` +
      `Node harness: ${node.stats.requests} model requests, ${node.stats.truncated} with a history longer than the model's window; ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
});

afterAll(async () => {
  await browser?.close();
  await storefront?.close();
});

/** A request's line for a failure message. */
const describeRequest = (r: RequestRecord) =>
  `shopper ${r.shopper} request ${r.request} (${r.placement}, k ${r.k}, exclude [${r.exclude.join(' ')}], ${r.events} events${r.reloaded ? ', page reloaded' : ''}): node [${r.node.join(' ')}] browser [${r.browser.join(' ')}]`;

describe.each(['model', 'popular', 'model, long histories'])('the %s run in Chromium', (name) => {
  it('shows, at every placement, the ids the Node harness shows for the same shopper and events', () => {
    const { shop, population, arm } = runs.get(name)!;
    const { requests } = shop;
    // Every shopper asked both placements on every visit.
    expect(new Set(requests.map((r) => r.shopper)).size).toBe(population.size);
    expect(requests.length).toBe(2 * Array.from(population.visits).reduce((s, v) => s + v, 0));
    expect(requests.filter((r) => r.reloaded).length).toBeGreaterThan(requests.length / 3);
    const differing = requests.filter((r) => r.browser.join() !== r.node.join()).map(describeRequest);
    expect(differing).toEqual([]);
    for (const r of requests) {
      expect(r.browser).toHaveLength(r.k);
      expect(r.sources).toEqual(r.browser.map(() => (arm === 'model' ? 'model' : 'popular')));
    }
    if (arm === 'popular') expect(requests[0]!.browser).toEqual(node.popular.slice(0, requests[0]!.k));
  });

  it('stores the loop’s events as the loop sent them, under a shopper id out of (model) or in (popular) the holdout', () => {
    const { shop, population } = runs.get(name)!;
    expect(shop.histories).toHaveLength(population.size);
    for (const h of shop.histories) {
      expect(h.browser).toEqual(h.loop);
      expect(h.shopperId).toMatch(/^loop-shopper-\d+-\d+$/);
    }
  });

  it('gives every shopper the outcomes of the Node run: the same clicks, carts, purchases and revenue', () => {
    const r = runs.get(name)!;
    expect(r.browser.shown).toEqual(r.node.shown);
    for (const column of ['clicks', 'impressions', 'addedToCart', 'purchases', 'purchased', 'revenue'] as const) {
      expect(Array.from(r.browser.outcomes[column]), column).toEqual(Array.from(r.node.outcomes[column]));
    }
  });
});

it('reaches past the model’s window and the history limit with the long histories', () => {
  const requests = runs.get('model, long histories')!.shop.requests;
  expect(requests.some((r) => r.behaviour > HISTORY_LIMIT)).toBe(true);
  expect(node.stats.truncated).toBeGreaterThan(0);
});

it('closes the loop in the browser too: the model arm shows the mission more often, and shoppers respond', () => {
  const model = runs.get('model')!.browser;
  const popular = runs.get('popular')!.browser;
  expect(model.shown.relevantTiles / model.shown.tiles).toBeGreaterThan(popular.shown.relevantTiles / popular.shown.tiles);
  expect(Array.from(model.outcomes.clicks).reduce((s, c) => s + c, 0)).toBeGreaterThan(0);
});
