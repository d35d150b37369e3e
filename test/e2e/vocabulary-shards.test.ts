/**
 * Sharded item tokens (core's item-vocabulary.ts) in real Chromium, served by the storefront's
 * static file server: the demo model as it is, a copy whose hunch.json keeps the tokens before
 * the items and lists the item token shards by their listings (core's shard-listing.ts), as
 * `hunch export` writes a big shop's, and one whose hunch.json lists every shard (exports from
 * before listings). The copies recommend exactly what the original does, fetching only the shards
 * of the products it shows and of the history's (counted at the network), each once, and each
 * listing once; a shard or a listing whose bytes were altered on the way is refused by its hash,
 * logged, and the page shows its fallback.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ITEM_ID_SHARD_LISTING, ITEM_TOKEN_SHARD_LISTING, itemIdShardFile, itemIdShardOf, itemTokenShardFile, itemTokenShardOf, splitVocabulary, type HunchManifest, type ItemVocabularyManifest } from '@hunch/core';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { blankShopPage } from './blank-shop-page.js';
import { launchChromium } from './chromium.js';
import { writeShardFiles } from './shard-files.js';

const DEMO = fileURLToPath(new URL('../../models/demo/', import.meta.url));
const HISTORY = ['mugs-01', 'tea-02', 'tea-05', 'lamps-03'];
const K = 8;

let work: string;
let storefront: Awaited<ReturnType<typeof startStorefront>>;
let browser: Browser;
let items: ItemVocabularyManifest;
let tokenIds: Map<string, number>;
let shardCount: number;

/**
 * The demo model with its item tokens as shards of 16 tokens and 8 products (a threshold of 0:
 * every vocabulary is "big"), listed by their listings as `hunch export` does (`listing`), or each itself.
 */
async function writeShardedModel(dir: string, listing: boolean): Promise<void> {
  await cp(DEMO, dir, { recursive: true });
  await mkdir(join(dir, 'vocabulary'));
  const manifest = JSON.parse(await readFile(join(dir, 'hunch.json'), 'utf8')) as HunchManifest;
  tokenIds = new Map(manifest.vocabulary.map((token, id) => [token.slice('item:'.length), id]));
  const split = splitVocabulary(manifest.vocabulary, { threshold: 0, tokensPerShard: 16, idsPerShard: 8 });
  items = split.items!;
  shardCount = split.shards.size;
  await writeShardFiles(dir, new Map([...split.shards].map(([path, text]) => [path, new TextEncoder().encode(text)])), manifest, listing);
  await writeFile(join(dir, 'hunch.json'), `${JSON.stringify({ ...manifest, vocabulary: split.inline, itemVocabulary: items }, null, 2)}\n`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-vocabulary-shards-'));
  await cp(DEMO, join(work, 'whole'), { recursive: true });
  await writeShardedModel(join(work, 'sharded'), true);
  await writeShardedModel(join(work, 'per-file'), false);
  storefront = await startStorefront({ port: 0, modelsDir: work });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await storefront?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A blank page of the shop with the SDK (its own worker, on WASM) and model `name`: the history tracked, then recommend({ k }). */
async function recommendOn(context: BrowserContext, name: string) {
  const { page, requests, logged } = await blankShopPage(context, storefront.url, 'vocabulary');
  const recs = await page.evaluate(
    async ({ history, k, model }) => {
      const hunch = window.Hunch!.createHunch({ model, backend: 'wasm', sharedWorker: false, autoCapture: false });
      for (const id of history) hunch.track('view_item', { item_id: id });
      await hunch.flush();
      return (await hunch.recommend({ k })).map((rec) => ({ id: rec.item.id, source: rec.source }));
    },
    { history: HISTORY, k: K, model: `/models/${name}/` },
  );
  await page.close();
  const vocabulary = requests.filter((path) => path.startsWith(`/models/${name}/vocabulary/`));
  return { recs, vocabularyRequests: vocabulary.filter((path) => path.endsWith('.json')), listingRequests: vocabulary.filter((path) => !path.endsWith('.json')), logged };
}

const shardsOf = (ids: string[]) =>
  new Set(ids.flatMap((id) => [itemTokenShardFile(itemTokenShardOf(tokenIds.get(id)!, items)), itemIdShardFile(itemIdShardOf(id, items))]).map((path) => `/models/sharded/${path}`));

describe('sharded item tokens', () => {
  it('recommend what the single hunch.json does, reading only the shards of the history and of the products shown, each once', { timeout: 120_000 }, async () => {
    // A context each: the same history in a fresh IndexedDB.
    const run = async (name: string) => {
      const context = await browser.newContext();
      try {
        return await recommendOn(context, name);
      } finally {
        await context.close();
      }
    };
    const whole = await run('whole');
    const sharded = await run('sharded');
    const perFile = await run('per-file');
    expect(whole.recs).toHaveLength(K);
    expect(whole.recs.every((rec) => rec.source === 'model')).toBe(true);
    expect(sharded.recs).toEqual(whole.recs);
    expect(perFile.recs).toEqual(whole.recs);
    expect(perFile.listingRequests).toEqual([]);
    expect(perFile.vocabularyRequests.map((path) => path.replace('/per-file/', '/sharded/')).sort()).toEqual([...sharded.vocabularyRequests].sort());
    // Each listing read once, whatever number of its shards the page needs.
    expect(sharded.listingRequests.sort()).toEqual([`/models/sharded/${ITEM_ID_SHARD_LISTING}`, `/models/sharded/${ITEM_TOKEN_SHARD_LISTING}`].sort());
    expect(whole.vocabularyRequests).toEqual([]);
    expect(new Set(sharded.vocabularyRequests).size).toBe(sharded.vocabularyRequests.length);
    const allowed = shardsOf([...HISTORY, ...whole.recs.map((rec) => rec.id)]);
    for (const path of sharded.vocabularyRequests) expect(allowed.has(path), path).toBe(true);
    for (const id of HISTORY) expect(sharded.vocabularyRequests).toContain(`/models/sharded/${itemIdShardFile(itemIdShardOf(id, items))}`);
    expect(sharded.vocabularyRequests.length).toBeLessThan(shardCount);
    console.log(`sharded vocabulary: ${sharded.vocabularyRequests.length} of ${shardCount} shards fetched for a ${HISTORY.length}-item history and ${K} recommendations`);
  });

  it('refuse token shards whose bytes differ from hunch.json: logged, and the page shows its fallback (the popular products)', { timeout: 120_000 }, async () => {
    const context = await browser.newContext();
    await context.route(`${storefront.url}models/sharded/vocabulary/tokens-*`, async (route) => {
      const response = await route.fetch();
      const body = `${await response.text()} `; // still JSON, another hash
      await route.fulfill({ response, body });
    });
    const { recs, logged } = await recommendOn(context, 'sharded');
    await context.close();
    expect(recs).toHaveLength(K);
    expect(recs.every((rec) => rec.source === 'popular')).toBe(true);
    expect(logged.join('\n')).toMatch(/vocabulary\/tokens-\d{4}\.json does not match vocabulary\/tokens\.sha256/);
  });

  it('refuse a listing whose bytes differ from hunch.json: none of its shards is read, logged, and the page shows its fallback', { timeout: 120_000 }, async () => {
    const context = await browser.newContext();
    await context.route(`${storefront.url}models/sharded/${ITEM_TOKEN_SHARD_LISTING}`, async (route) => {
      const response = await route.fetch();
      const body = await response.body();
      body[body.length - 1] = body[body.length - 1]! ^ 0x01; // the last shard's size: what hunch.json's hash of the listing must catch
      await route.fulfill({ response, body });
    });
    const { recs, vocabularyRequests, logged } = await recommendOn(context, 'sharded');
    await context.close();
    expect(recs).toHaveLength(K);
    expect(recs.every((rec) => rec.source === 'popular')).toBe(true);
    expect(vocabularyRequests.filter((path) => path.includes('/vocabulary/tokens-'))).toEqual([]);
    expect(logged.join('\n')).toContain(`${ITEM_TOKEN_SHARD_LISTING} does not match hunch.json`);
  });
});
