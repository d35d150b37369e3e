/**
 * A model published while a page loads it (`hunch retrain` replaces the files, then hunch.json):
 * the catalog is read after the swap, so its bytes are the new version's while the hunch.json
 * read first lists the old. The worker sees hunch.json changed and loads again, once, from the
 * new one; the same mismatch with hunch.json unchanged (a damaged or tampered file) still falls
 * back to popular items. Real Chromium, the demo storefront, the page's own worker (so that the
 * routes see its requests).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useShopPage, type Storefront } from './shop-page.js';

let storefront: Storefront, page: Page, warnings: string[];
useShopPage((shop) => ({ storefront, page, warnings } = shop));

const DEMO = fileURLToPath(new URL('../../models/demo/', import.meta.url));
const NEW_VERSION = 'published0002';

/** The demo model's hunch.json and catalog.json, and a next version whose catalog renames a product. */
async function versions() {
  const oldManifest = await readFile(`${DEMO}hunch.json`);
  const catalog = JSON.parse(await readFile(`${DEMO}catalog.json`, 'utf8')) as { products: Array<{ title: string }> };
  catalog.products[0]!.title = 'Renamed in the next version';
  const newCatalog = Buffer.from(JSON.stringify(catalog));
  const manifest = JSON.parse(oldManifest.toString('utf8'));
  manifest.version = NEW_VERSION;
  manifest.files['catalog.json'] = { sha256: createHash('sha256').update(newCatalog).digest('hex'), bytes: newCatalog.length };
  return { oldManifest, newManifest: Buffer.from(JSON.stringify(manifest)), newCatalog };
}

/** Serves the old hunch.json until the catalog is read, which comes from the next version; then the next hunch.json, unless `republish` is false. */
async function swapDuringLoad(republish: boolean): Promise<void> {
  const { oldManifest, newManifest, newCatalog } = await versions();
  let published = false;
  await page.route('**/models/demo/hunch.json', (route) => {
    const next = published && republish;
    return route.fulfill({ body: next ? newManifest : oldManifest, contentType: 'application/json', headers: { etag: next ? '"v2"' : '"v1"' } });
  });
  await page.route('**/models/demo/catalog.json', (route) => {
    published = true;
    return route.fulfill({ body: newCatalog, contentType: 'application/json' });
  });
  await page.route(`${storefront.url}swap.html`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>swap</title><script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm" data-shared-worker="false"></script>' }),
  );
  await page.goto(`${storefront.url}swap.html`);
}

const answer = () =>
  page.evaluate(async () => {
    const hunch = window.hunch!;
    hunch.track('view_item', { item_id: 'mugs-01' });
    const sources = (await hunch.recommend({ k: 4 })).map((rec) => rec.source);
    return { sources, status: await hunch.status() };
  });

describe('a model published while the page loads it', () => {
  it('loads the new version instead of falling back', async () => {
    await swapDuringLoad(true);
    const { sources, status } = await answer();
    expect(status).toMatchObject({ backend: 'wasm', modelVersion: NEW_VERSION });
    expect(sources).toEqual(['model', 'model', 'model', 'model']);
    expect(warnings).toEqual([]);
  });

  it('still falls back to popular items when the mismatched file is not a newer publish (hunch.json unchanged)', async () => {
    await swapDuringLoad(false);
    const { sources, status } = await answer();
    expect(status).toMatchObject({ backend: 'none' });
    expect(sources.every((source) => source === 'popular')).toBe(true);
    expect(warnings.join('\n')).toMatch(/catalog\.json does not match hunch\.json/);
  });
});
