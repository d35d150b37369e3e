/**
 * A sharded catalog (core's catalog-shards.ts) in real Chromium, served by the storefront's
 * static file server: the demo model's catalog.json replaced by catalog/index.json and shards,
 * as `hunch export` writes a big shop's, hunch.json listing the shards by their listing
 * (catalog/shards.sha256, core's shard-listing.ts); beside it the same model whose hunch.json lists
 * every shard (exports from before listings). Both recommend the same. The worker fetches only the
 * shards of the products it shows (counted at the network), each once, checked against the
 * listing, read once; a returning page reads them from the cache; the recommendations carry the
 * catalog's names and prices; a shard whose bytes were altered on the way is refused (its products
 * are left out, the rest still shown), and so is an altered listing (no product is shown: none can be checked).
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_FILE, CATALOG_INDEX_FILE, CATALOG_SHARD_LISTING, catalogShardFile, catalogShardOf, parseCatalog, type CatalogItem, type HunchManifest } from '@hunch/core';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { catalogFiles } from '../../packages/trainer/src/catalog-files.js';
import { blankShopPage } from './blank-shop-page.js';
import { launchChromium } from './chromium.js';
import { writeShardFiles } from './shard-files.js';

const DEMO = fileURLToPath(new URL('../../models/demo/', import.meta.url));
const HISTORY = ['mugs-01', 'tea-02', 'tea-05', 'lamps-03'];
const K = 6;

let work: string;
let storefront: Awaited<ReturnType<typeof startStorefront>>;
let browser: Browser;
let products: Map<string, CatalogItem>;
let shards: number;

/**
 * The demo model with its catalog as shards (a threshold of 0: every catalog is "big"), hunch.json
 * listing them by their listing as `hunch export` does (`listing`), or each shard itself.
 */
async function writeShardedModel(dir: string, listing: boolean): Promise<void> {
  await cp(DEMO, dir, { recursive: true });
  await mkdir(join(dir, 'catalog'));
  const catalog = parseCatalog(JSON.parse(await readFile(join(dir, CATALOG_FILE), 'utf8')));
  products = new Map(catalog.products.map((item) => [item.id, item]));
  const files = catalogFiles(catalog.popular, catalog.products, { threshold: 0, shardBytes: 4096 });
  shards = files.size - 1;
  const manifest = JSON.parse(await readFile(join(dir, 'hunch.json'), 'utf8')) as HunchManifest;
  await rm(join(dir, CATALOG_FILE));
  delete manifest.files[CATALOG_FILE];
  await writeShardFiles(dir, files, manifest, listing);
  await writeFile(join(dir, 'hunch.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-shards-'));
  await writeShardedModel(join(work, 'demo'), true);
  await writeShardedModel(join(work, 'per-file'), false);
  storefront = await startStorefront({ port: 0, modelsDir: work });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await storefront?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A blank page of the shop with the SDK (its own worker, on WASM) and model `name`: the history tracked (when `track`), then recommend({ k }). */
async function recommendOn(context: BrowserContext, track: boolean, name = 'demo') {
  const { page, requests, logged } = await blankShopPage(context, storefront.url, 'shards');
  const recs = await page.evaluate(
    async ({ history, track, k, model }) => {
      const hunch = window.Hunch!.createHunch({ model, backend: 'wasm', sharedWorker: false, autoCapture: false });
      if (track) for (const id of history) hunch.track('view_item', { item_id: id });
      await hunch.flush();
      return (await hunch.recommend({ k })).map((rec) => ({ id: rec.item.id, title: rec.item.title, price: rec.item.price, source: rec.source }));
    },
    { history: HISTORY, track, k: K, model: `/models/${name}/` },
  );
  await page.close();
  const shardRequests = requests.filter((path) => path.startsWith(`/models/${name}/catalog/shard-`));
  const listingRequests = requests.filter((path) => path === `/models/${name}/${CATALOG_SHARD_LISTING}`);
  return { recs, shardRequests, listingRequests, indexRequests: requests.filter((path) => path.endsWith(CATALOG_INDEX_FILE)), logged };
}

const shardPath = (id: string) => `/models/demo/${catalogShardFile(catalogShardOf(id, shards))}`;

describe('a sharded catalog', () => {
  it('fetches only the shards of the products shown, each once, cached for the next page; names and prices are the catalog’s', { timeout: 120_000 }, async () => {
    const context = await browser.newContext();
    const first = await recommendOn(context, true);
    expect(first.recs).toHaveLength(K);
    expect(first.recs.every((rec) => rec.source === 'model')).toBe(true);
    for (const rec of first.recs) expect({ title: rec.title, price: rec.price }).toEqual({ title: products.get(rec.id)!.title, price: products.get(rec.id)!.price });
    expect(first.indexRequests).toHaveLength(1);
    expect(first.listingRequests).toHaveLength(1);
    // Each shard fetched at most once, and only shards of what was shown or looked up (the history's products).
    expect(new Set(first.shardRequests).size).toBe(first.shardRequests.length);
    const allowed = new Set([...first.recs.map((rec) => rec.id), ...HISTORY].map(shardPath));
    for (const path of first.shardRequests) expect(allowed.has(path), path).toBe(true);
    for (const rec of first.recs) expect(first.shardRequests).toContain(shardPath(rec.id));
    expect(first.shardRequests.length).toBeLessThan(shards);
    console.log(`sharded catalog: ${first.shardRequests.length} of ${shards} shards fetched for ${K} recommendations`);

    // The same history on a new page: the same recommendations, their shards (and the listing) from the Cache API.
    const again = await recommendOn(context, false);
    expect(again.recs).toEqual(first.recs);
    expect(again.shardRequests).toEqual([]);
    expect(again.listingRequests).toEqual([]);
    await context.close();
  });

  it('recommends what the same model whose hunch.json lists every shard does', { timeout: 120_000 }, async () => {
    const run = async (name: string) => {
      const context = await browser.newContext();
      try {
        return await recommendOn(context, true, name);
      } finally {
        await context.close();
      }
    };
    const listed = await run('demo');
    const perFile = await run('per-file');
    expect(perFile.recs).toHaveLength(K);
    expect(perFile.listingRequests).toEqual([]);
    expect(listed.recs).toEqual(perFile.recs);
    expect(new Set(listed.shardRequests.map((path) => path.replace('/demo/', '/')))).toEqual(new Set(perFile.shardRequests.map((path) => path.replace('/per-file/', '/'))));
  });

  it('refuses a shard whose bytes differ from hunch.json: its products are left out, the rest shown', { timeout: 120_000 }, async () => {
    const clean = await browser.newContext();
    const reference = (await recommendOn(clean, true)).recs;
    await clean.close();
    const context = await browser.newContext();
    const tampered = shardPath(reference[0]!.id);
    await context.route(`${storefront.url}${tampered.slice(1)}`, async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace(/"price":\d+(\.\d+)?/g, '"price":0.01');
      await route.fulfill({ response, body });
    });
    const { recs, logged } = await recommendOn(context, true);
    await context.close();
    expect(recs.length).toBeGreaterThan(0);
    expect(recs.some((rec) => shardPath(rec.id) === tampered)).toBe(false);
    expect(recs.every((rec) => rec.price === products.get(rec.id)!.price)).toBe(true);
    expect(logged.join('\n')).toContain(`${tampered.replace('/models/demo/', '')} does not match ${CATALOG_SHARD_LISTING}`);
  });

  it('refuses a listing whose bytes differ from hunch.json: no shard is read, logged, and the page gets no product it cannot vouch for', { timeout: 120_000 }, async () => {
    const context = await browser.newContext();
    await context.route(`${storefront.url}models/demo/${CATALOG_SHARD_LISTING}`, async (route) => {
      const response = await route.fetch();
      const body = await response.body();
      body[0] = body[0]! ^ 0xff; // the first shard's hash: what hunch.json's hash of the listing must catch
      await route.fulfill({ response, body });
    });
    const { recs, shardRequests, listingRequests, logged } = await recommendOn(context, true);
    await context.close();
    expect(listingRequests.length).toBeGreaterThan(0);
    expect(shardRequests).toEqual([]);
    // Every product's name and price is in a shard: without a listing none can be checked, so none is shown (recommend() still resolves).
    expect(recs).toEqual([]);
    expect(logged.join('\n')).toContain(`${CATALOG_SHARD_LISTING} does not match hunch.json`);
  });
});
