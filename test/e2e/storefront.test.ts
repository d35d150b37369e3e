/**
 * A scripted shopper in real Chromium against the real demo storefront: events go to
 * real IndexedDB, the shipped model runs in the SDK's (shared) Web Worker through
 * transformers.js, once on WebGPU (SwiftShader's software adapter) and once on WASM.
 * The storefront sits behind the test's proxy, whose request log also sees the shared
 * worker's fetches (Playwright reports only the page's).
 */
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import golden from '../../packages/core/test/golden-encoding.json' with { type: 'json' };
import { launchChromium } from './chromium.js';
import { startShopProxy, type ShopProxy } from './shop-proxy.js';
import { readStoredEvents as readStoredEventsOf } from './stored-events.js';

type Storefront = Awaited<ReturnType<typeof startStorefront>>;
interface StoredEvent {
  name: string;
  params: { item_id?: string; search_term?: string };
}

/** Navigates like a shopper clicking through, and waits for that page's recommendations. */
async function visit(page: Page, hash: string): Promise<void> {
  await page.evaluate((target) => {
    location.hash = target;
  }, hash);
  await page.waitForSelector(`#recs[data-route="${hash}"]`, { timeout: 60_000 });
}

async function recommendedCategories(page: Page): Promise<Array<{ category: string; source: string }>> {
  return page.$$eval('#recs-cards .card', (cards) =>
    cards.map((card) => ({ category: (card as HTMLElement).dataset.category ?? '', source: (card as HTMLElement).dataset.source ?? '' })),
  );
}

const readStoredEvents = (page: Page) => readStoredEventsOf<StoredEvent>(page);

/** The backend with the lower step time in a warm-up race's reason. */
function fasterInRace(reason: string): 'webgpu' | 'wasm' {
  const times = /warm-up race: one event takes ([\d.]+) ms on webgpu \(q4\), ([\d.]+) ms on wasm \(q8\)/.exec(reason);
  expect(times, reason).not.toBeNull();
  return Number(times![1]) <= Number(times![2]) ? 'webgpu' : 'wasm';
}

const share = (categories: Array<{ category: string }>, category: string) =>
  categories.filter((card) => card.category === category).length / categories.length;

for (const backend of ['webgpu', 'wasm'] as const) {
  describe(`demo storefront on ${backend}`, () => {
    let upstream: Storefront;
    let proxy: ShopProxy;
    /** The shop as the browser sees it: the storefront behind the proxy. */
    let storefront: { url: string };
    let browser: Browser;

    beforeAll(async () => {
      upstream = await startStorefront({ port: 0 });
      proxy = await startShopProxy(upstream.url, { pages: {} });
      storefront = { url: `${proxy.origin}/` };
      browser = await launchChromium({ webgpu: backend === 'webgpu' });
    });

    afterAll(async () => {
      await browser?.close();
      await proxy?.close();
      await upstream?.close();
    });

    it('stores a shopper’s events across reloads and recommends from the model in a worker', async () => {
      const page = await browser.newPage();
      const requests: string[] = [];
      const pageErrors: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      page.on('pageerror', (error) => pageErrors.push(error.message));

      await page.goto(storefront.url);
      const status = await page.evaluate(() => window.hunch!.status());
      // With an adapter, 'auto' keeps the faster backend of a warm-up race (intent.test.ts): the one
      // with the lower time in the reason, and on SwiftShader's software adapter that is WASM. The
      // default variant: 4-bit on WebGPU, int8 on WASM (variants.test.ts checks each one's ranking).
      const chosen = backend === 'webgpu' ? fasterInRace(status.reason) : 'wasm';
      if (backend === 'webgpu') expect(chosen).toBe('wasm');
      const file = chosen === 'webgpu' ? 'onnx/model_q4.onnx' : 'onnx/model_quantized.onnx';
      expect(status).toMatchObject({ backend: chosen, modelFile: file, modelVersion: expect.stringMatching(/^[0-9a-f]{12}$/) });
      if (backend === 'webgpu') expect(status.reason).toMatch(/warm-up race/);
      // Without a WebGPU adapter the WASM-only worker (the smaller onnxruntime build) runs the model.
      const worker = backend === 'wasm' ? 'hunch.worker.wasm.js' : 'hunch.worker.js';
      expect(requests).toContain(`${storefront.url}hunch/${worker}`);
      expect(proxy.requested).toContain(`/models/demo/${file}`);
      // On WASM the int8 file runs on the worker's own GPT-2: onnxruntime's .wasm is fetched only for WebGPU.
      expect(status.engine).toBe(chosen === 'wasm' ? 'hunch-gpt2' : 'onnxruntime-web');
      expect(proxy.requested.some((path) => path.startsWith('/hunch/ort/') && path.endsWith('.wasm'))).toBe(backend === 'webgpu');
      // Nothing from a CDN or hub: every request the page makes goes to the shop's own origin
      // (the worker's own fetches are not seen here; without a network, as in CI, one would fail the load).
      expect(requests.filter((url) => /^(https?|wss?):/.test(url) && !url.startsWith(storefront.url))).toEqual([]);

      for (const id of ['mugs-01', 'mugs-04', 'mugs-07']) await visit(page, `#/product/${id}`);
      const afterMugs = await recommendedCategories(page);
      expect(afterMugs).toHaveLength(6);
      expect(afterMugs.every((card) => card.source === 'model')).toBe(true);
      expect(share(afterMugs, 'mugs')).toBeGreaterThanOrEqual(0.5);

      await visit(page, `#/search?q=${encodeURIComponent('green tea')}`);
      await page.evaluate(() => window.hunch!.flush());
      await page.reload();
      await page.waitForSelector('#recs[data-route="#/search?q=green%20tea"]', { timeout: 60_000 });

      const stored = await readStoredEvents(page);
      expect(stored.filter((event) => event.name === 'view_item').map((event) => event.params.item_id)).toEqual(['mugs-01', 'mugs-04', 'mugs-07']);
      expect(stored.filter((event) => event.name === 'search').map((event) => event.params.search_term)).toEqual(['green tea', 'green tea']);
      expect(stored.filter((event) => event.name === 'page_view')).toHaveLength(2);

      for (const id of ['lamps-02', 'lamps-05', 'lamps-08']) await visit(page, `#/product/${id}`);
      const afterLamps = await recommendedCategories(page);
      expect(afterLamps.every((card) => card.source === 'model')).toBe(true);
      expect(share(afterLamps, 'lamps')).toBeGreaterThanOrEqual(0.5);
      expect(share(afterLamps, 'mugs')).toBeLessThan(share(afterMugs, 'mugs'));

      expect(pageErrors).toEqual([]);
      await page.close();
    });
  });
}

describe('encoding golden vectors in the browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium({ webgpu: false });
  });
  afterAll(async () => browser?.close());

  it('encodes exactly as in Node', async () => {
    const coreBuild = await readFile(new URL('../../packages/core/dist/index.js', import.meta.url), 'utf8');
    const page = await browser.newPage();
    // A string, not a function: vitest would rewrite a function's import() for Node.
    const results = await page.evaluate(`(async () => {
      const url = URL.createObjectURL(new Blob([${JSON.stringify(coreBuild)}], { type: 'text/javascript' }));
      const core = await import(url);
      const vectors = ${JSON.stringify(golden)};
      const vocabulary = new core.Vocabulary(vectors.vocabulary, vectors.merges);
      return vectors.cases.map((testCase) => core.encodeHistory(testCase.events, vocabulary, testCase.maxLength));
    })()`);
    expect(results).toEqual(golden.cases.map((testCase) => testCase.ids));
  });
});
