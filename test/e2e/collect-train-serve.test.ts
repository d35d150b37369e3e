/**
 * A shop's own loop, end to end, with the real parts: the demo storefront's page uploads its
 * shopper's events to `hunch collect` (SQLite), `hunch train --from` that database and
 * `hunch export` make a new model, and the storefront then serves it: the page reports the new
 * version. Other shoppers' events (simulated) reach the same collector over HTTP first, as a
 * shop's traffic would.
 */
import { cp, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chunkEvents } from '@hunch/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { startCollector } from '../../packages/collector/src/server.js';
import { openSqliteStore, type SqliteStore } from '../../packages/collector/src/sqlite-store.js';
import { simulated, tempDir } from '../../packages/collector/test/helpers.js';
import { buildCli, type Cli } from '../../packages/trainer/test/cli-helpers.js';
import { launchChromium } from './chromium.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const catalog = join(repo, 'examples', 'storefront', 'catalog.json');
/** A small model in seconds (one worker: the test's CLI bundle has no train-worker.js beside it). */
const tiny = ['--layers', '1', '--embd', '16', '--heads', '2', '--context', '16', '--epochs', '1', '--batch-tokens', '256', '--workers', '1'];

let cli: Cli;
let work: Awaited<ReturnType<typeof tempDir>>;
let browser: Browser;

beforeAll(async () => {
  cli = await buildCli('loop');
  work = await tempDir('loop');
  // The shop's model directory: a copy of the shipped model, replaced by the one trained here.
  await cp(join(repo, 'models', 'demo'), join(work.dir, 'models', 'demo'), { recursive: true });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await cli?.dispose();
  await work?.remove();
});

describe('collect → train → export → serve', () => {
  it('trains on what the shop’s pages uploaded, and the shop then serves the new model', async () => {
    const db = join(work.dir, 'events.sqlite');
    const store: SqliteStore = openSqliteStore(db);
    // Any origin: the storefront's port is picked after the collector's (npm start allows the shop's
    // origin only). No rate limit: here the whole shop's traffic comes from one client address.
    const collector = await startCollector({ store, port: 0, allowOrigins: ['*'], rateLimit: false });
    const storefront = await startStorefront({ port: 0, modelsDir: join(work.dir, 'models'), collector: collector.url });
    const page = await browser.newPage();
    try {
      // Other shoppers' traffic.
      const others = simulated(200, 21);
      for (const { body } of chunkEvents(others, 16_384).chunks) {
        expect((await fetch(collector.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);
      }

      // This shopper, on the demo shop's own page (its script tag now has data-collector).
      await page.goto(storefront.url);
      const before = await page.evaluate(async () => {
        const hunch = window.hunch!;
        await hunch.forget();
        const ids = ['mugs-01', 'mugs-04', 'mugs-08'].map((item_id) => hunch.track('view_item', { item_id, item_category: 'mugs' })!);
        return { ids, status: await hunch.status() };
      });
      expect(before.status.backend).toBe('wasm');
      const stored = async () => {
        const ids = new Set<string>();
        for await (const event of store.read()) ids.add(event.id);
        return before.ids.filter((id) => ids.has(id)).length;
      };
      await expect.poll(stored, { timeout: 60_000, interval: 500 }).toBe(3);
      await collector.close();
      const events = await store.count();
      // Everything the page recorded (its page_view too), besides the other shoppers'.
      expect(events).toBeGreaterThanOrEqual(others.length + 3);
      await store.close();

      const checkpoint = join(work.dir, 'checkpoint');
      const trained = await cli.run(['train', '--from', db, '--out', checkpoint, ...tiny]);
      expect(trained.code, trained.stderr).toBe(0);
      expect(trained.stderr).toContain(`read ${events} events`);
      const fresh = join(work.dir, 'fresh-model');
      const exported = await cli.run(['export', '--model', checkpoint, '--catalog', catalog, '--out', fresh]);
      expect(exported.code, exported.stderr).toBe(0);
      // Deploying is replacing the files the shop serves.
      await rm(join(work.dir, 'models', 'demo'), { recursive: true });
      await rename(fresh, join(work.dir, 'models', 'demo'));
      const { version } = JSON.parse(await readFile(join(work.dir, 'models', 'demo', 'hunch.json'), 'utf8')) as { version: string };
      expect(version).not.toBe(before.status.modelVersion);

      await page.reload();
      const after = await page.evaluate(async () => {
        const hunch = window.hunch!;
        return { status: await hunch.status(), recs: await hunch.recommend({ k: 3 }) };
      });
      expect(after.status).toMatchObject({ backend: 'wasm', modelVersion: version });
      expect(after.recs.map((rec) => rec.source)).toEqual(['model', 'model', 'model']);
    } finally {
      await page.close();
      await storefront.close();
      await collector.close().catch(() => undefined);
    }
  });
});
