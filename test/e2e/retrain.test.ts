/**
 * `hunch retrain` on the demo shop's collector, with the real parts: the collector's HTTP
 * server stores shoppers' uploads in SQLite (as `npm start` runs it), the built CLI retrains a
 * copy of models/demo from that database and publishes into it; runs on too little data, on
 * corrupted data and with a candidate that scores worse refuse and leave every byte of the
 * model directory as it was; `hunch rollback` restores the shipped model exactly. The demo
 * shop's page, in Chromium, loads what each step leaves in place.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { chunkEvents, itemToken, type CatalogItem, type HunchEvent } from '@hunch/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { startCollector } from '../../packages/collector/src/server.js';
import { openSqliteStore } from '../../packages/collector/src/sqlite-store.js';
import { tempDir } from '../../packages/collector/test/helpers.js';
import { lastJson } from '../../packages/trainer/test/cli-helpers.js';
import { simulateEvents } from '../../packages/trainer/src/simulate.js';
import { launchChromium } from './chromium.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(repo, 'packages', 'trainer', 'dist', 'cli.js');
const demoCatalog = JSON.parse(await readFile(join(repo, 'examples', 'storefront', 'catalog.json'), 'utf8')) as { categories: unknown; products: CatalogItem[] };
/** New mugs (the simulator draws each category's popularity order from its seed: how often they are met depends on it). */
const NEW_PRODUCTS: CatalogItem[] = ['teapot', 'tumbler', 'flask'].map((kind, i) => ({
  id: `mugs-new-${i + 1}`,
  title: `Speckled ${kind}`,
  url: `/#/product/mugs-new-${i + 1}`,
  image: '/img/mugs-01.svg',
  price: 24 + i,
  category: 'mugs',
  description: `A new ${kind}.`,
}));

const run = promisify(execFile);
async function hunch(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Every file under `dir`, path -> SHA-256. */
async function fileHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(dir, path)] = createHash('sha256').update(await readFile(path)).digest('hex');
  }
  return out;
}
const served = (hashes: Record<string, string>) => Object.fromEntries(Object.entries(hashes).filter(([path]) => !path.startsWith('.hunch-versions')));

/** A database the demo shop's collector filled: `events` POSTed over HTTP as the SDK uploads them. */
async function collected(path: string, events: HunchEvent[]): Promise<void> {
  const store = openSqliteStore(path);
  // No rate limit: here the whole shop's traffic comes from one client address.
  const collector = await startCollector({ store, port: 0, allowOrigins: ['*'], rateLimit: false });
  try {
    for (const { body } of chunkEvents(events, 16_384).chunks) {
      expect((await fetch(collector.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);
    }
  } finally {
    await collector.close();
    await store.close();
  }
}

/**
 * What the demo shop's page makes of the model directory: it loads the model served from
 * `live` (its files checked against hunch.json in the browser) and recommends from it, after a
 * history that views the new mugs and searches for one by a new word.
 */
async function servedByTheShop(): Promise<{ status: { backend: string; modelVersion: string }; sources: string[] }> {
  const storefront = await startStorefront({ port: 0, modelsDir: join(work.dir, 'models') });
  const page = await browser.newPage();
  try {
    await page.goto(storefront.url);
    return await page.evaluate(async (ids) => {
      const hunch = window.hunch!;
      await hunch.forget();
      hunch.track('search', { search_term: 'speckled teapot' });
      for (const item_id of ids) hunch.track('view_item', { item_id, item_category: 'mugs' });
      const status = await hunch.status();
      const recs = await hunch.recommend({ k: 3 });
      return { status: { backend: status.backend, modelVersion: status.modelVersion! }, sources: recs.map((rec) => rec.source) };
    }, NEW_PRODUCTS.map((product) => product.id));
  } finally {
    await page.close();
    await storefront.close();
  }
}

let browser: Browser;
let work: Awaited<ReturnType<typeof tempDir>>;
let live: string;
let shipped: Record<string, string>;
let shippedManifest: { version: string; vocabulary: string[] };
const catalogPath = () => join(work.dir, 'catalog.json');
const db = () => join(work.dir, 'events.sqlite');

beforeAll(async () => {
  work = await tempDir('retrain');
  live = join(work.dir, 'models', 'demo');
  await cp(join(repo, 'models', 'demo'), live, { recursive: true });
  shipped = await fileHashes(live);
  shippedManifest = JSON.parse(await readFile(join(live, 'hunch.json'), 'utf8')) as typeof shippedManifest;
  const catalog = { ...demoCatalog, products: [...NEW_PRODUCTS, ...demoCatalog.products] };
  await writeFile(catalogPath(), JSON.stringify(catalog));
  // New shoppers (the simulator's fresh ids), some of whom meet the new products.
  await collected(db(), [...simulateEvents(catalog.products, { sessions: 400, seed: 5 })]);
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await work?.remove();
});

describe('hunch retrain on the demo shop’s collector', () => {
  it('publishes a model that knows the new products and kept the old ones, every file matching hunch.json', async () => {
    const result = await hunch('retrain', '--from', db(), '--model', live, '--catalog', catalogPath(), '--time-budget', '0.3', '--workers', '1');
    const report = lastJson(result.stdout) as {
      decision: string;
      metrics: { candidate: { 'MRR@20': number; examples: number }; live: { 'MRR@20': number; examples: number; unknownTargets: number } };
      counts: { newItems: number; heldOutSessions: number };
      versions: { live: string; published: string; previous: string };
      paths: { previous: string };
    };
    expect(result.code, result.stderr).toBe(0);
    expect(report.decision).toBe('published');
    expect(report.versions.live).toBe(shippedManifest.version);
    expect(report.versions.previous).toBe(shippedManifest.version);
    expect(report.metrics.candidate.examples).toBe(report.metrics.live.examples);
    // New products in the held-out sessions: misses for the live model, which never saw them.
    expect(report.metrics.live.unknownTargets).toBeGreaterThan(0);
    expect(report.counts.newItems).toBeGreaterThanOrEqual(NEW_PRODUCTS.length);
    expect(report.counts.heldOutSessions).toBe(40);

    const manifest = JSON.parse(await readFile(join(live, 'hunch.json'), 'utf8')) as { version: string; vocabulary: string[]; files: Record<string, { sha256: string; bytes: number }> };
    expect(manifest.version).toBe(report.versions.published);
    for (const [path, entry] of Object.entries(manifest.files)) {
      const bytes = await readFile(join(live, path));
      expect({ path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({ path, ...entry });
    }
    // Old tokens keep their ids; the new products are appended and shown.
    expect(manifest.vocabulary.slice(0, shippedManifest.vocabulary.length)).toEqual(shippedManifest.vocabulary);
    for (const product of NEW_PRODUCTS) expect(manifest.vocabulary.indexOf(itemToken(product.id))).toBeGreaterThanOrEqual(shippedManifest.vocabulary.length);
    const shown = (JSON.parse(await readFile(join(live, 'catalog.json'), 'utf8')) as { products: CatalogItem[] }).products.map((product) => product.id);
    expect(shown).toEqual(expect.arrayContaining([...NEW_PRODUCTS.map((product) => product.id), 'mugs-01']));
    // The shipped version is kept, byte for byte.
    expect(await readFile(join(report.paths.previous, 'hunch.json'))).toEqual(await readFile(join(repo, 'models', 'demo', 'hunch.json')));
  });

  it('is what the shop’s page then loads in Chromium, and recommends from', async () => {
    const { version } = JSON.parse(await readFile(join(live, 'hunch.json'), 'utf8')) as { version: string };
    expect(version).not.toBe(shippedManifest.version);
    expect(await servedByTheShop()).toEqual({ status: { backend: 'wasm', modelVersion: version }, sources: ['model', 'model', 'model'] });
  });

  it('refuses too little data and leaves every file of the model directory as it was', async () => {
    const small = join(work.dir, 'small.sqlite');
    await collected(small, [...simulateEvents(demoCatalog.products, { sessions: 30, seed: 8 })]);
    const before = await fileHashes(live);
    const result = await hunch('retrain', '--from', small, '--model', live, '--time-budget', '0.3', '--workers', '1');
    const report = lastJson(result.stdout) as { decision: string; reason: string; versions: { published: string | null } };
    expect(result.code).toBe(2);
    expect(report.decision).toBe('refused');
    expect(report.reason).toMatch(/too little to retrain on: 30 sessions of 2 or more events .*needs at least 40/);
    expect(report.versions.published).toBeNull();
    expect(await fileHashes(live)).toEqual(before);
  });

  it('refuses a database with corrupted rows, naming them, and leaves every file as it was', async () => {
    const damaged = join(work.dir, 'damaged.sqlite');
    await copyFile(db(), damaged);
    const sqlite = new Database(damaged);
    // Rows a broken writer left: JSON, but not events (no id, a number for a name).
    const insert = sqlite.prepare('INSERT INTO events (id, ts, session, name, shopper, received, event) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < 100; i++) insert.run(`bad-${i}`, 1, 'damaged', 'view_item', null, 1, JSON.stringify({ name: 42, params: {} }));
    sqlite.close();
    const before = await fileHashes(live);
    const result = await hunch('retrain', '--from', damaged, '--model', live, '--time-budget', '0.3', '--workers', '1');
    const report = lastJson(result.stdout) as { decision: string; reason: string };
    expect(result.code).toBe(2);
    expect(report.decision).toBe('refused');
    expect(report.reason).toMatch(/looks corrupted: 100 of its \d+ rows are not valid events .*first: row \d+: /);
    expect(await fileHashes(live)).toEqual(before);
  });

  it('refuses a candidate that scores worse than the live model (wrecked by a learning rate of 1), leaving every file as it was', async () => {
    const before = await fileHashes(live);
    const result = await hunch('retrain', '--from', db(), '--model', live, '--catalog', catalogPath(), '--time-budget', '0.3', '--workers', '1', '--lr', '1');
    const report = lastJson(result.stdout) as { decision: string; reason: string; metrics: { candidate: { 'MRR@20': number }; live: { 'MRR@20': number } } };
    expect(result.code).toBe(2);
    expect(report.decision).toBe('refused');
    expect(report.reason).toMatch(/^candidate is worse: MRR@20 /);
    expect(report.metrics.candidate['MRR@20']).toBeLessThan(report.metrics.live['MRR@20'] - 0.005);
    expect(await fileHashes(live)).toEqual(before);
  });

  it('answers bad arguments with one line and exit code 1, before reading anything', async () => {
    const before = await fileHashes(live);
    const noEvents = await hunch('retrain', '--model', live);
    expect([noEvents.code, noEvents.stdout, noEvents.stderr.trim()]).toEqual([1, '', 'hunch: --events FILE (NDJSON) or --from DB (a "hunch collect" database) is required (run "hunch help" for usage)']);
    const tolerance = await hunch('retrain', '--from', db(), '--model', live, '--tolerance=-1');
    expect([tolerance.code, tolerance.stderr.trim()]).toEqual([1, 'hunch: --tolerance must be a non-negative number, got "-1" (run "hunch help" for usage)']);
    expect(await fileHashes(live)).toEqual(before);
  });

  it('rolls back to the shipped hunch.json and files exactly, once', async () => {
    const result = await hunch('rollback', '--model', live);
    expect(result.code, result.stderr).toBe(0);
    expect(lastJson(result.stdout)).toMatchObject({ decision: 'rolled-back', versions: { live: shippedManifest.version } });
    expect(served(await fileHashes(live))).toEqual(shipped);
    expect((await servedByTheShop()).status.modelVersion).toBe(shippedManifest.version);
    // Nothing older is kept: a second rollback refuses and changes nothing.
    const before = await fileHashes(live);
    const again = await hunch('rollback', '--model', live);
    expect(again.code).toBe(2);
    expect(lastJson(again.stdout)).toMatchObject({ decision: 'refused' });
    expect(await fileHashes(live)).toEqual(before);
  });
});
