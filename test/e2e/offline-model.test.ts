/**
 * Model files in the Cache API, checked against hunch.json, in real Chromium against a real
 * server (the storefront, behind a proxy that can fail): a returning visit runs the model with
 * the server gone; a corrupted or missing model file never reaches the runtime nor the cache,
 * and the page gets popular items, one logged error and nothing else, until the file is fixed;
 * a new model version replaces the old one's cached files.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { CHROMIUM_PATH, launchChromium } from './chromium.js';
import { startShopProxy, type ShopProxy } from './shop-proxy.js';

declare global {
  interface Window {
    /** Incremented by the page's own timer: the page keeps running whatever the model does. */
    ticks?: number;
  }
}

const DEMO = fileURLToPath(new URL('../../models/demo/', import.meta.url));
const ONNX = 'onnx/model_quantized.onnx'; // what WASM loads
const CATALOG = 'catalog.json';

/** The shop's page: the script tag, then the shop's own script. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>offline</title>
<script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm" data-auto-capture="false"></script>
<script>
  window.ticks = 0;
  setInterval(() => window.ticks++, 20);
  for (const id of ['mugs-01', 'mugs-04', 'mugs-07']) hunch.track('view_item', { item_id: id });
</script>`;

let modelsDir: string;
let storefront: Awaited<ReturnType<typeof startStorefront>>;
let proxy: ShopProxy;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let warnings: string[];
let pageErrors: string[];

const modelFile = (path: string) => join(modelsDir, 'demo', path);

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'hunch-offline-'));
  cpSync(DEMO, join(modelsDir, 'demo'), { recursive: true });
  storefront = await startStorefront({ port: 0, modelsDir });
  proxy = await startShopProxy(storefront.url, { pages: { '/offline.html': ['text/html', PAGE], '/own-worker.html': ['text/html', PAGE.replace('data-backend="wasm"', 'data-backend="wasm" data-shared-worker="false"')] } });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await storefront?.close();
  rmSync(modelsDir, { recursive: true, force: true });
});

beforeEach(async () => {
  proxy.reset();
  // A fresh context: an empty Cache API, HTTP cache and IndexedDB.
  context = await browser.newContext();
  page = await context.newPage();
  warnings = [];
  pageErrors = [];
  page.on('console', (message) => {
    if (message.text().startsWith('[hunch]')) warnings.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterEach(async () => {
  await context?.close();
  // Every test starts from the shipped demo model.
  rmSync(join(modelsDir, 'demo'), { recursive: true, force: true });
  cpSync(DEMO, join(modelsDir, 'demo'), { recursive: true });
});

const status = () => page.evaluate(() => window.hunch!.status());
const sources = () => page.evaluate(async () => (await window.hunch!.recommend({ k: 6 })).map((rec) => rec.source));
/** Cache API keys (URL paths with their query) per cache, read in the page. */
const cached = () =>
  page.evaluate(async () => {
    const out: Record<string, string[]> = {};
    for (const name of await caches.keys()) {
      out[name] = (await (await caches.open(name)).keys()).map((request) => new URL(request.url).pathname + new URL(request.url).search);
    }
    return out;
  });

/** The page recommends from the model on WASM, with nothing logged. */
async function expectModel(): Promise<void> {
  expect(await status()).toMatchObject({ backend: 'wasm', modelFile: ONNX });
  const recs = await sources();
  expect(recs).toHaveLength(6);
  expect(new Set(recs)).toEqual(new Set(['model']));
}

/** The page falls back to popular items, logs exactly one Hunch error naming `file`, and its own script runs on. */
async function expectFallback(file: string, why: RegExp): Promise<void> {
  const { backend, reason } = await status();
  expect(backend).toBe('none');
  expect(reason).toContain(file);
  expect(reason).toMatch(why);
  const recs = await sources();
  expect(recs).toHaveLength(6);
  expect(new Set(recs)).toEqual(new Set(['popular']));
  expect(await sources()).toEqual(recs); // asking again logs nothing more
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain(file);
  const ticks = await page.evaluate(() => window.ticks!);
  await expect.poll(() => page.evaluate(() => window.ticks!)).toBeGreaterThan(ticks);
  expect(await page.evaluate(() => typeof window.hunch!.track('view_item', { item_id: 'mugs-02' }))).toBe('string');
  expect(pageErrors).toEqual([]);
}

describe('model files cached for offline use, checked against hunch.json', () => {
  it('runs the model on a returning visit while the server fails for the model', async () => {
    await page.goto(`${proxy.origin}/offline.html`);
    await expectModel();
    const kept = await cached();
    const modelCache = kept['hunch-model-files'] ?? [];
    const { files, purchase } = JSON.parse(readFileSync(modelFile('hunch.json'), 'utf8'));
    // Only what was loaded: the catalog, the session purchase model, and the int8 file, which runs on the
    // worker's own GPT-2 and needs nothing else of the directory, nor onnxruntime (wasm-worker.test.ts has onnxruntime's files offline).
    expect(purchase).toBe('purchase.json');
    expect(modelCache.sort()).toEqual([
      `/models/demo/${CATALOG}?hunch-sha256=${files[CATALOG].sha256}`,
      '/models/demo/hunch.json',
      `/models/demo/${ONNX}?hunch-sha256=${files[ONNX].sha256}`,
      `/models/demo/purchase.json?hunch-sha256=${files['purchase.json'].sha256}`,
    ]);
    expect(Object.keys(kept).some((name) => name.startsWith('hunch-ort-'))).toBe(false);

    proxy.down = true;
    await page.reload();
    await expectModel();
    expect(proxy.refused).toContain('/models/demo/hunch.json'); // the server really was asked, and failed
    // The shared worker outlived the reload: this answer is the model it kept in memory (the next test reads the Cache API).
    expect((await status()).reason).toContain('kept loaded by the shared worker');
    expect(warnings).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('loads the model afresh from the Cache API when the browser comes back while the server fails for the model', async () => {
    // A profile on disk, so that the Cache API outlives the browser; a browser restart, so that no
    // worker (shared or not) keeps the model in memory.
    const profile = mkdtempSync(join(tmpdir(), 'hunch-offline-profile-'));
    const args = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
    const visit = async () => {
      const persistent = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args });
      const tab = persistent.pages()[0] ?? (await persistent.newPage());
      const errors: string[] = [];
      tab.on('pageerror', (error) => errors.push(error.message));
      await tab.goto(`${proxy.origin}/offline.html`);
      const seen = await tab.evaluate(async () => ({
        status: await window.hunch!.status(),
        sources: (await window.hunch!.recommend({ k: 6 })).map((rec) => rec.source),
        cached: (await (await caches.open('hunch-model-files')).keys()).map((request) => new URL(request.url).pathname),
      }));
      await persistent.close();
      return { ...seen, errors };
    };
    try {
      const first = await visit();
      expect(first.status).toMatchObject({ backend: 'wasm', modelFile: ONNX });
      expect(first.cached).toContain(`/models/demo/${ONNX}`);

      proxy.reset();
      proxy.down = true;
      const again = await visit();
      expect(again.status).toMatchObject({ backend: 'wasm', modelFile: ONNX, modelVersion: first.status.modelVersion });
      expect(again.sources).toEqual(['model', 'model', 'model', 'model', 'model', 'model']);
      // Loaded, not kept: a new worker read the int8 file, checked it and unpacked its weights.
      expect(again.status.reason).not.toContain('kept loaded');
      expect(again.status.load!.session).toBeGreaterThan(0);
      // And not from the server (every model request failed; the files are served no-cache, so the
      // HTTP cache cannot answer either): the bytes came from the Cache API.
      const modelRequests = proxy.requested.filter((path) => path.startsWith('/models/'));
      expect(modelRequests).toContain('/models/demo/hunch.json');
      expect(proxy.refused).toEqual(modelRequests);
      expect(again.errors).toEqual([]);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('reads the model files from the HTTP cache without a request when the Cache API lost them (their hashes decide)', async () => {
    // The page's own worker: the next page's starts afresh, where a shared one would keep the model.
    await page.goto(`${proxy.origin}/own-worker.html`);
    await expectModel();
    // The Cache API emptied (the browser evicts it under storage pressure): the next page's worker finds no copy there.
    await page.evaluate(() => caches.delete('hunch-model-files'));
    await page.close();
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    proxy.reset();
    await page.goto(`${proxy.origin}/own-worker.html`);
    await expectModel();
    expect((await status()).reason).not.toContain('kept loaded');
    // hunch.json is revalidated, as always; the files it lists come from the HTTP cache as they are.
    expect(proxy.requested).toContain('/models/demo/hunch.json');
    expect(proxy.requested.filter((path) => path === `/models/demo/${ONNX}` || path === `/models/demo/${CATALOG}`)).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('falls back to popular items when a model file is corrupted, caches nothing of it, and recovers once it is fixed', async () => {
    const bytes = readFileSync(modelFile(ONNX));
    const corrupted = Buffer.from(bytes);
    for (let i = corrupted.length >> 1; i < (corrupted.length >> 1) + 16; i++) corrupted[i]! ^= 0xff;
    writeFileSync(modelFile(ONNX), corrupted);

    await page.goto(`${proxy.origin}/offline.html`);
    await expectFallback(ONNX, /does not match hunch\.json: SHA-256/);
    expect(Object.values(await cached()).flat().some((key) => key.includes('model_quantized'))).toBe(false);

    writeFileSync(modelFile(ONNX), bytes);
    warnings = [];
    await page.reload();
    await expectModel();
    expect(warnings).toEqual([]);
  });

  it('falls back to popular items when a model file is missing, and recovers once it is back', async () => {
    const bytes = readFileSync(modelFile(ONNX));
    rmSync(modelFile(ONNX));

    await page.goto(`${proxy.origin}/offline.html`);
    await expectFallback(ONNX, /HTTP 404/);

    writeFileSync(modelFile(ONNX), bytes);
    warnings = [];
    await page.reload();
    await expectModel();
  });

  it('shows nothing but keeps the page running when catalog.json is corrupted, and recovers once it is fixed', async () => {
    const text = readFileSync(modelFile(CATALOG), 'utf8');
    // One title's first letter changed: the same size, another hash.
    const corrupted = text.replace(/"title":"[A-Za-z]/, '"title":"#');
    expect(corrupted.length).toBe(text.length);
    writeFileSync(modelFile(CATALOG), corrupted);

    await page.goto(`${proxy.origin}/offline.html`);
    const { backend, reason } = await status();
    expect(backend).toBe('none');
    expect(reason).toMatch(/catalog\.json does not match hunch\.json: SHA-256/);
    // No products to show, not even the popular ones (their entries are in that file): an empty list, no error.
    expect(await sources()).toEqual([]);
    expect(await sources()).toEqual([]); // asking again logs nothing more
    // The model's load and the page's own read of the catalog each say so, naming the file.
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(2);
    for (const warning of warnings) expect(warning).toContain(CATALOG);
    expect(await page.evaluate(() => typeof window.hunch!.track('view_item', { item_id: 'mugs-02' }))).toBe('string');
    expect(pageErrors).toEqual([]);
    expect(Object.values(await cached()).flat().some((key) => key.includes(CATALOG))).toBe(false);

    writeFileSync(modelFile(CATALOG), text);
    warnings = [];
    await page.reload();
    await expectModel();
    expect(warnings).toEqual([]);
  });

  it('replaces the cached files of an earlier model version after loading a new one', async () => {
    await page.goto(`${proxy.origin}/offline.html`);
    await expectModel();
    const before = (await cached())['hunch-model-files'] ?? [];
    const oldModel = before.find((key) => key.startsWith(`/models/demo/${ONNX}?`));
    expect(oldModel).toBeDefined();

    // A new version: the ONNX file changes (the same weights with a doc_string appended: ModelProto
    // field 6, a valid protobuf field), and hunch.json with it.
    const note = Buffer.from('next version');
    const model = Buffer.concat([readFileSync(modelFile(ONNX)), Buffer.from([0x32, note.length]), note]);
    writeFileSync(modelFile(ONNX), model);
    const manifest = JSON.parse(readFileSync(modelFile('hunch.json'), 'utf8'));
    manifest.version = 'next-version';
    manifest.files[ONNX] = { sha256: createHash('sha256').update(model).digest('hex'), bytes: model.length };
    writeFileSync(modelFile('hunch.json'), JSON.stringify(manifest));

    await page.reload();
    await expectModel();
    expect(await status()).toMatchObject({ modelVersion: 'next-version' });
    const after = (await cached())['hunch-model-files'] ?? [];
    expect(after).not.toContain(oldModel);
    expect(after).toContain(`/models/demo/${ONNX}?hunch-sha256=${manifest.files[ONNX].sha256}`);
    expect(after).toEqual(expect.arrayContaining(before.filter((key) => key !== oldModel))); // unchanged files stay
  });
});
