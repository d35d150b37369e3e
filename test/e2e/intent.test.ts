/**
 * The worker's running context and what the page builds on it, with the shipped demo model in
 * Chromium: a new event costs its own tokens (and gives what a fresh worker computes from the
 * whole history), intent() and on('intent') follow a scripted shopper from browsing to the
 * cart, rerank() personalises a shop's list, and 'auto' races WebGPU against WASM once per
 * model version.
 */
import { readFileSync } from 'node:fs';
import { isBehaviourEvent, sessionPurchaseFeatures, sessionPurchaseProbability, validateSessionPurchaseModel, type HunchEvent } from '@hunch/core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { launchChromium } from './chromium.js';
import { readStoredEvents } from './stored-events.js';

type Storefront = Awaited<ReturnType<typeof startStorefront>>;
let storefront: Storefront;

/** A blank page of the shop's origin with the script-tag SDK on `backend` (default wasm). */
async function openPage(context: BrowserContext, attributes = 'data-backend="wasm"'): Promise<Page> {
  const page = await context.newPage();
  const body = `<!doctype html><meta charset="utf-8"><title>intent</title><script src="/hunch/hunch.js" data-model="/models/demo/" data-auto-capture="false" ${attributes}></script>`;
  await page.route(`${storefront.url}intent.html`, (route) => route.fulfill({ contentType: 'text/html', body }));
  await page.goto(`${storefront.url}intent.html`);
  return page;
}

beforeAll(async () => {
  storefront = await startStorefront({ port: 0 });
});

afterAll(async () => {
  await storefront?.close();
});

describe('on WASM', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium({ webgpu: false });
    context = await browser.newContext();
    page = await openPage(context);
    await page.evaluate(() => window.hunch!.forget());
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('runs only a new event’s tokens on the cached history, and answers as a fresh worker would', async () => {
    const steps = await page.evaluate(async () => {
      const hunch = window.hunch!;
      const step = async () => {
        await hunch.flush();
        const recs = await hunch.recommend({ k: 10 });
        return { ids: recs.map((rec) => rec.item.id), scores: recs.map((rec) => rec.score), inference: (await hunch.status()).lastInference };
      };
      for (const id of ['tea-02', 'mugs-01', 'mugs-04']) hunch.track('view_item', { item_id: id });
      const first = await step();
      const again = await step();
      hunch.track('view_item', { item_id: 'mugs-07' });
      const afterView = await step();
      hunch.track('search', { search_term: 'green tea' });
      const afterSearch = await step();
      return { first, again, afterView, afterSearch };
    });
    expect(steps.first.inference).toMatchObject({ mode: 'full', tokens: 4, contextTokens: 4 });
    expect(steps.again.inference).toMatchObject({ mode: 'reused', tokens: 0, contextTokens: 4 });
    expect(steps.again.ids).toEqual(steps.first.ids);
    expect(steps.afterView.inference).toMatchObject({ mode: 'incremental', tokens: 1, contextTokens: 5 });
    // The update (the model's step) is part of the worker's time, which also ranks and looks entries up.
    expect(steps.afterView.inference!.updateMs).toBeGreaterThan(0);
    expect(steps.afterView.inference!.updateMs).toBeLessThanOrEqual(steps.afterView.inference!.ms);
    // "<search>" and the search words: a few tokens, not the whole history.
    expect(steps.afterSearch.inference?.mode).toBe('incremental');
    expect(steps.afterSearch.inference?.tokens).toBeGreaterThanOrEqual(2);
    expect(steps.afterSearch.inference?.contextTokens).toBe(5 + steps.afterSearch.inference!.tokens);

    // A fresh page with its own new worker (no cache) over the same stored history runs it whole.
    const fresh = await openPage(context, 'data-backend="wasm" data-shared-worker="false"');
    const fromScratch = await fresh.evaluate(async () => {
      const recs = await window.hunch!.recommend({ k: 10 });
      return { ids: recs.map((rec) => rec.item.id), scores: recs.map((rec) => rec.score), inference: (await window.hunch!.status()).lastInference };
    });
    await fresh.close();
    expect(fromScratch.inference?.mode).toBe('full');
    expect(fromScratch.inference?.contextTokens).toBe(steps.afterSearch.inference?.contextTokens);
    expect(fromScratch.ids).toEqual(steps.afterSearch.ids);
    fromScratch.scores.forEach((score, i) => expect(score).toBeCloseTo(steps.afterSearch.scores[i]!, 5));
  });

  it('follows a scripted shopper from browsing to comparing, the cart and the risk of leaving', async () => {
    const seen = await page.evaluate(async () => {
      const hunch = window.hunch!;
      await hunch.forget();
      const stages: string[] = [];
      const unsubscribe = hunch.on('intent', (intent) => stages.push(intent.stage));
      const settle = () => new Promise((resolve) => setTimeout(resolve, 600));
      await settle();
      const snapshots: Array<Awaited<ReturnType<typeof hunch.intent>>> = [];
      hunch.track('view_item', { item_id: 'tea-02' });
      await settle();
      snapshots.push(await hunch.intent());
      for (const id of ['mugs-01', 'mugs-04', 'mugs-07']) hunch.track('view_item', { item_id: id });
      await settle();
      snapshots.push(await hunch.intent());
      hunch.track('add_to_cart', { item_id: 'mugs-07' });
      await settle();
      snapshots.push(await hunch.intent());
      hunch.track('remove_from_cart', { item_id: 'mugs-07' });
      hunch.track('add_to_cart', { item_id: 'mugs-04' });
      hunch.track('remove_from_cart', { item_id: 'mugs-04' });
      hunch.track('add_to_cart', { item_id: 'mugs-01' });
      hunch.track('remove_from_cart', { item_id: 'mugs-07' }); // the cart still holds mugs-01
      await settle();
      snapshots.push(await hunch.intent());
      unsubscribe();
      hunch.track('view_item', { item_id: 'tea-05' });
      await settle();
      return { stages, snapshots };
    });
    const [browsing, comparing, cart, atRisk] = seen.snapshots;
    expect(browsing).toMatchObject({ stage: 'browsing', source: 'model' });
    expect(comparing).toMatchObject({ stage: 'comparing', why: '3 products of mugs viewed' });
    expect(comparing!.topCategories[0]!.category).toBe('mugs');
    expect(cart).toMatchObject({ stage: 'ready_to_buy', why: '1 item in the cart' });
    expect(atRisk).toMatchObject({ stage: 'at_risk_of_leaving' });
    const nextBuyingStep = (intent: (typeof seen.snapshots)[number]) => intent.nextAction.add_to_cart! + (intent.nextAction.begin_checkout ?? 0) + intent.nextAction.purchase!;
    for (const intent of seen.snapshots) {
      const total = Object.values(intent.nextAction).reduce((sum, p) => sum + p, 0);
      expect(total).toBeCloseTo(1, 5);
      expect(Object.keys(intent.nextAction)).toEqual(expect.arrayContaining(['view_item', 'add_to_cart', 'purchase', 'search']));
    }
    // Having just compared mugs makes a cart step likelier than after one tea view, and each step
    // towards buying makes the next buying step likelier (the shipped demo model: about 0.02, 0.04, then 0.12).
    expect(comparing!.nextAction.add_to_cart!).toBeGreaterThan(browsing!.nextAction.add_to_cart!);
    expect(nextBuyingStep(browsing!)).toBeLessThan(nextBuyingStep(comparing!));
    expect(nextBuyingStep(comparing!)).toBeLessThan(nextBuyingStep(cart!));
    // purchaseProbability is the shipped session purchase model's (purchase.json) on the session's
    // events at each snapshot (1, 4, 5 and 10 events): core's own computation, from the stored events.
    const checked = validateSessionPurchaseModel(JSON.parse(readFileSync(new URL('../../models/demo/purchase.json', import.meta.url), 'utf8')));
    if (!checked.ok) throw new Error(checked.error);
    const stored = (await readStoredEvents<HunchEvent>(page)).filter((event) => isBehaviourEvent(event.name));
    [1, 4, 5, 10].forEach((count, i) => {
      const expected = sessionPurchaseProbability(checked.model, sessionPurchaseFeatures(stored.slice(0, count), nextBuyingStep(seen.snapshots[i]!)))!;
      expect(seen.snapshots[i]!.purchaseProbability).toBeCloseTo(expected, 9);
      expect(seen.snapshots[i]!.purchaseProbability).not.toBeCloseTo(nextBuyingStep(seen.snapshots[i]!), 3);
    });
    // An item in the cart makes a purchase in this session likelier.
    expect(cart!.purchaseProbability!).toBeGreaterThan(comparing!.purchaseProbability!);
    // The listener heard the current stage, then each change once, and nothing after unsubscribing.
    expect(seen.stages).toEqual(['browsing', 'comparing', 'ready_to_buy', 'at_risk_of_leaving']);
  });

  it('reranks a shop’s list towards the shopper, keeping entries and unknown ids', async () => {
    const { ids, objects } = await page.evaluate(async () => {
      const hunch = window.hunch!;
      await hunch.forget();
      for (const id of ['mugs-01', 'mugs-04', 'mugs-07', 'mugs-02']) hunch.track('view_item', { item_id: id });
      await hunch.flush();
      const list = ['tea-01', 'tea-02', 'tea-03', 'not-in-catalog', 'mugs-05', 'mugs-06'];
      const objects = list.map((item_id, rank) => ({ item_id, rank }));
      const reranked = await hunch.rerank(objects);
      return { ids: await hunch.rerank(list), objects: reranked.map((entry) => ({ ...entry, same: objects[entry.rank] === entry })) };
    });
    expect([...ids].sort()).toEqual(['mugs-05', 'mugs-06', 'not-in-catalog', 'tea-01', 'tea-02', 'tea-03']);
    // The mugs climb from the bottom of the shop's order; the shop's top still counts.
    expect(ids.indexOf('mugs-05')).toBeLessThan(4);
    expect(ids.indexOf('mugs-06')).toBeLessThan(5);
    expect(ids.indexOf('not-in-catalog')).toBeGreaterThan(ids.indexOf('mugs-05'));
    expect(objects.map((entry) => entry.item_id)).toEqual(ids);
    expect(objects.every((entry) => entry.same)).toBe(true);
  });
});

describe('auto on a browser with a WebGPU adapter', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium({ webgpu: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('races the backends once per model version, and both give the same top-k', { timeout: 300_000 }, async () => {
    const context = await browser.newContext();
    const first = await openPage(context, 'data-backend="auto"');
    const raced = await first.evaluate(async () => {
      await window.hunch!.forget();
      return window.hunch!.status();
    });
    expect(raced.backend).not.toBe('none');
    const timings = /warm-up race: one event takes ([\d.]+) ms on webgpu \(q4\), ([\d.]+) ms on wasm \(q8\)/.exec(raced.reason);
    expect(timings, raced.reason).not.toBeNull();
    const [gpuMs, cpuMs] = [Number(timings![1]), Number(timings![2])];
    // The race keeps the faster: here SwiftShader's software WebGPU adapter is far slower than
    // WASM (a controlled handicap, see launchChromium), so WASM must win, and by the times it reports.
    expect(gpuMs).toBeGreaterThan(cpuMs);
    expect(raced.backend).toBe('wasm');
    expect(raced.backend).toBe(gpuMs <= cpuMs ? 'webgpu' : 'wasm');
    const remembered = JSON.parse((await first.evaluate(() => localStorage.getItem('hunch.backend'))) ?? 'null');
    expect(remembered).toMatchObject({ backend: raced.backend, modelVersion: raced.modelVersion });
    await first.close();

    const second = await openPage(context, 'data-backend="auto"');
    const again = await second.evaluate(() => window.hunch!.status());
    expect(again.backend).toBe(raced.backend);
    expect(again.reason).toContain('an earlier visit');
    await second.evaluate(() => window.hunch!.forget());
    expect(await second.evaluate(() => localStorage.getItem('hunch.backend'))).toBeNull();
    await second.close();

    const topK = async (backend: 'webgpu' | 'wasm') => {
      const page = await openPage(context, `data-backend="${backend}" data-dtype="fp32"`);
      const result = await page.evaluate(async () => {
        const hunch = window.hunch!;
        await hunch.forget();
        for (const id of ['tea-02', 'mugs-01', 'mugs-04']) hunch.track('view_item', { item_id: id });
        await hunch.flush();
        await hunch.recommend({ k: 10 });
        hunch.track('view_item', { item_id: 'mugs-07' });
        await hunch.flush();
        const recs = await hunch.recommend({ k: 10 });
        return { backend: (await hunch.status()).backend, ids: recs.map((rec) => rec.item.id), mode: (await hunch.status()).lastInference?.mode };
      });
      await page.close();
      return result;
    };
    const gpu = await topK('webgpu');
    const cpu = await topK('wasm');
    expect(gpu).toMatchObject({ backend: 'webgpu', mode: 'incremental' });
    expect(cpu).toMatchObject({ backend: 'wasm', mode: 'incremental' });
    expect(gpu.ids).toEqual(cpu.ids);
    await context.close();
  });
});
