/**
 * New products without retraining (issue 21 part 2), as a shop gets them: `hunch train` with the
 * catalog's attributes, then products are added to the catalog and `hunch export` is run again
 * from the same checkpoint. In Chromium, a shopper who views mugs gets the new mug recommended,
 * on the worker's own GPT-2 (int8) and on onnxruntime-web (fp32 and q4 on WASM, q4 on WebGPU: the graph's own head); a new
 * product of an unrelated category ranks below it, and one without attributes is never scored.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CatalogItem } from '@hunch/core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { tempDir } from '../../packages/collector/test/helpers.js';
import { buildCli, type Cli } from '../../packages/trainer/test/cli-helpers.js';
import { launchChromium } from './chromium.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const shopCatalog = join(repo, 'examples', 'storefront', 'catalog.json');
/** A small model in seconds (one worker: the test's CLI bundle has no train-worker.js beside it). */
const tiny = ['--layers', '1', '--embd', '32', '--heads', '2', '--context', '16', '--epochs', '8', '--batch-tokens', '256', '--workers', '1'];

/** Added after training, alike but for their attributes: same title words (none the model knows) and price. */
const added = (id: string, fields: Partial<CatalogItem>): CatalogItem => ({ id, title: 'Limited Edition', url: `/#/product/${id}`, price: 24, ...fields });
const NEW_MUG = added('new-mug', { category: 'mugs' });
const NEW_SPEAKER = added('new-speaker', { category: 'audio' });
const NEW_BARE = added('new-bare', { title: 'X', price: undefined });

let cli: Cli;
let work: Awaited<ReturnType<typeof tempDir>>;
let storefront: Awaited<ReturnType<typeof startStorefront>>;
let browser: Browser;
let webgpuBrowser: Browser | undefined;

beforeAll(async () => {
  cli = await buildCli('new-products');
  work = await tempDir('new-products');
  const events = join(work.dir, 'events.ndjson');
  const simulated = await cli.run(['simulate', '--catalog', shopCatalog, '--sessions', '1000', '--seed', '5', '--out', events]);
  expect(simulated.code, simulated.stderr).toBe(0);
  const checkpoint = join(work.dir, 'checkpoint');
  const trained = await cli.run(['train', '--events', events, '--catalog', shopCatalog, '--out', checkpoint, ...tiny]);
  expect(trained.code, trained.stderr).toBe(0);
  expect(trained.stderr).toMatch(/item attributes: \d+ from the catalog/);
  // After training: the shop adds three products to its catalog and exports again.
  const { products } = JSON.parse(await readFile(shopCatalog, 'utf8')) as { products: CatalogItem[] };
  const catalog = join(work.dir, 'catalog.json');
  await writeFile(catalog, JSON.stringify({ products: [...products, NEW_MUG, NEW_SPEAKER, NEW_BARE] }));
  const exported = await cli.run(['export', '--model', checkpoint, '--catalog', catalog, '--out', join(work.dir, 'models', 'shop'), '--quant', 'fp32,int8,q4']);
  expect(exported.code, exported.stderr).toBe(0);
  storefront = await startStorefront({ port: 0, modelsDir: join(work.dir, 'models') });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await webgpuBrowser?.close();
  await storefront?.close();
  await cli?.dispose();
  await work?.remove();
});

/** A page of the shop with the script tag on the exported model (`attributes` on the tag), in a fresh context, and its [hunch] messages. */
async function shopPage(on: Browser, attributes: string): Promise<{ context: BrowserContext; page: Page; warnings: string[] }> {
  const context = await on.newContext();
  const page = await context.newPage();
  const warnings: string[] = [];
  page.on('console', (message) => {
    if (message.text().startsWith('[hunch]')) warnings.push(message.text());
  });
  await page.route(`${storefront.url}new.html`, (route) =>
    route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta charset="utf-8"><title>new</title><script src="/hunch/hunch.js" data-model="/models/shop/" ${attributes}></script>` }),
  );
  return { context, page, warnings };
}

describe('new products in recommendations', () => {
  it.each([
    ['the worker’s own GPT-2 (int8)', 'data-backend="wasm"', { backend: 'wasm', engine: 'hunch-gpt2', itemScoring: 'int8-simd' }],
    ['onnxruntime-web (fp32, the graph’s head)', 'data-backend="wasm" data-dtype="fp32"', { backend: 'wasm', engine: 'onnxruntime-web', itemScoring: 'graph' }],
    ['onnxruntime-web (q4, the graph’s MatMulNBits head)', 'data-backend="wasm" data-dtype="q4"', { backend: 'wasm', engine: 'onnxruntime-web', itemScoring: 'graph', dtype: 'q4' }],
    ['onnxruntime-web on WebGPU (q4; SwiftShader)', 'data-backend="webgpu"', { backend: 'webgpu', engine: 'onnxruntime-web', itemScoring: 'graph', dtype: 'q4' }],
  ])('a shopper viewing mugs gets the mug added after training, on %s', async (_, attributes, expected) => {
    const onWebgpu = expected.backend === 'webgpu';
    if (onWebgpu) webgpuBrowser ??= await launchChromium({ webgpu: true });
    const { context, page, warnings } = await shopPage(onWebgpu ? webgpuBrowser! : browser, attributes);
    try {
      await page.goto(`${storefront.url}new.html`);
      const { status, ranked } = await page.evaluate(async () => {
        const hunch = window.hunch!;
        for (const id of ['mugs-01', 'mugs-04', 'mugs-07', 'mugs-02']) hunch.track('view_item', { item_id: id, item_category: 'mugs' });
        await hunch.flush();
        const recs = await hunch.recommend({ k: 1000 }); // every product the model scores
        return { status: await hunch.status(), ranked: recs.map((rec) => ({ id: rec.item.id, category: rec.item.category, source: rec.source })) };
      });
      const ids = ranked.map((rec) => rec.id);
      expect(status).toMatchObject(expected);
      expect(warnings).toEqual([]);
      const rank = (id: string) => ids.indexOf(id);
      expect(ranked.every((rec) => rec.source === 'model')).toBe(true);
      // The model's recommendations for this shopper are mugs; the new mug is among the first of them.
      expect(ranked.slice(0, 10).filter((rec) => rec.category === 'mugs').length).toBeGreaterThanOrEqual(5);
      expect(rank(NEW_MUG.id)).toBeGreaterThanOrEqual(0);
      expect(rank(NEW_MUG.id)).toBeLessThan(12);
      const shown = await page.evaluate(async () => (await window.hunch!.recommend({ k: 12 })).map((rec) => rec.item.id));
      expect(shown).toContain('new-mug');
      // Its attributes made it: the new speaker, alike but for its category, ranks far below.
      expect(rank(NEW_SPEAKER.id)).toBeGreaterThan(rank(NEW_MUG.id) + 20);
      // Without an attribute the model knows, a new product is not scored (not even shipped).
      expect(ids).not.toContain(NEW_BARE.id);
    } finally {
      await context.close();
    }
  });

  it('a shopper who viewed only new products gets their category, on the worker’s own GPT-2: the history feeds their composed vectors', async () => {
    const { context, page, warnings } = await shopPage(browser, 'data-backend="wasm"');
    try {
      const topCategories = async (viewed: CatalogItem) => {
        await page.goto(`${storefront.url}new.html`);
        return page.evaluate(async (id) => {
          const hunch = window.hunch!;
          await hunch.forget();
          hunch.track('view_item', { item_id: id });
          hunch.track('view_item', { item_id: id });
          await hunch.flush();
          const recs = await hunch.recommend({ k: 10 });
          return { engine: (await hunch.status()).engine, sources: recs.map((rec) => rec.source), categories: recs.map((rec) => rec.item.category) };
        }, viewed.id);
      };
      const mug = await topCategories(NEW_MUG);
      const speaker = await topCategories(NEW_SPEAKER);
      expect([mug.engine, speaker.engine]).toEqual(['hunch-gpt2', 'hunch-gpt2']);
      expect([...mug.sources, ...speaker.sources].every((source) => source === 'model')).toBe(true);
      // Read as the unknown token, both histories would be the same and so would their recommendations.
      expect(mug.categories.filter((category) => category === 'mugs').length).toBeGreaterThanOrEqual(5);
      expect(speaker.categories.filter((category) => category === 'audio').length).toBeGreaterThanOrEqual(5);
      expect(warnings).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
