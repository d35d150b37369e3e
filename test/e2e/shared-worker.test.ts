/**
 * One model worker for all of a shop's pages (HunchOptions.sharedWorker), in real Chromium
 * against the storefront's real files, under the strict Content-Security-Policy: after a
 * navigation the next page finds the model loaded (no runtime or model file fetched, no
 * session, its KV cache extended by one event); two tabs share it; a new hunch.json version
 * on the server is loaded, not the old model kept; and with sharedWorker: false every page
 * loads its own. Requests are counted by the proxy: Playwright does not see a SharedWorker's.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { launchChromium } from './chromium.js';
import { startShopProxy, STRICT_POLICY, VIOLATION_PROBE, type ShopProxy } from './shop-proxy.js';

const LAMPS = ['lamps-01', 'lamps-02', 'lamps-03'];

declare global {
  interface Window {
    /** Violations the page saw, recorded by /shared/probe.js. */
    violations?: string[];
  }
}

/** A page of the shop (no inline script: the policy forbids it); the query says whether the SDK shares its worker. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>shared worker</title><link rel="icon" href="data:,">
<script src="/shared/probe.js"></script>
<script type="module" src="/shared/page.js"></script>`;
const PAGE_SCRIPT = `import { createHunch } from '/hunch/hunch.esm.js';
const query = new URLSearchParams(location.search);
const idle = query.get('idle');
window.hunch = createHunch({ model: '/models/demo/', backend: 'wasm', sharedWorker: query.get('shared') !== 'false', autoCapture: false, ...(idle ? { modelIdleMs: Number(idle) } : {}) });
document.title = 'page script ran';`;

let work: string;
let storefront: Awaited<ReturnType<typeof startStorefront>>;
let proxy: ShopProxy;

beforeAll(async () => {
  // A copy of the models: one test publishes a new hunch.json version.
  work = mkdtempSync(join(tmpdir(), 'hunch-shared-worker-'));
  cpSync(join(import.meta.dirname, '..', '..', 'models'), join(work, 'models'), { recursive: true });
  storefront = await startStorefront({ port: 0, modelsDir: join(work, 'models') });
  proxy = await startShopProxy(storefront.url, {
    pages: { '/page.html': ['text/html', PAGE], '/next.html': ['text/html', PAGE], '/shared/probe.js': ['text/javascript', VIOLATION_PROBE], '/shared/page.js': ['text/javascript', PAGE_SCRIPT] },
    policy: STRICT_POLICY,
  });
});

afterAll(async () => {
  await proxy?.close();
  await storefront?.close();
  rmSync(work, { recursive: true, force: true });
});

async function open(page: Page, path: string, shared = true): Promise<void> {
  await page.goto(`${proxy.origin}${path}?shared=${shared}`);
  await expect.poll(() => page.title()).toBe('page script ran');
}

/** Tracks `views` (and a page_view), then the model's status and top 6 on this page. */
function visit(page: Page, views: string[]) {
  return page.evaluate(async (views) => {
    const hunch = window.hunch!;
    const status = await hunch.status();
    hunch.track('page_view', {});
    for (const id of views) hunch.track('view_item', { item_id: id });
    const recs = await hunch.recommend({ k: 6 });
    await hunch.flush();
    return { status, after: await hunch.status(), ids: recs.map((rec) => rec.item.id), sources: [...new Set(recs.map((rec) => rec.source))] };
  }, views);
}

describe('the model worker shared by the shop’s pages', () => {
  let browser: Browser;
  let context: BrowserContext;
  let errors: string[];

  beforeAll(async () => {
    browser = await launchChromium({ webgpu: false });
  });

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    proxy.reset();
    context = await browser.newContext();
    errors = [];
    context.on('weberror', (error) => errors.push(error.error().message));
  });

  afterEach(async () => {
    await context?.close();
    // Nothing the policy refused, in the pages or the workers.
    expect(proxy.reports).toEqual([]);
  });

  it('keeps the model loaded across a navigation: the next page neither starts the runtime nor reruns the history', async () => {
    const page = await context.newPage();
    await open(page, '/page.html');
    const first = await visit(page, LAMPS);
    expect(first.status).toMatchObject({ backend: 'wasm', modelFile: 'onnx/model_quantized.onnx' });
    expect(first.status.reason).not.toContain('kept loaded');
    expect(first.status.load!.session).toBeGreaterThan(0);
    expect(first.sources).toEqual(['model']);

    proxy.requested.length = 0;
    await open(page, '/next.html');
    const next = await visit(page, []);
    // Only hunch.json revalidated: neither onnxruntime's wasm nor a model file read again.
    expect(proxy.requested.filter((path) => path.startsWith('/models/') || path.startsWith('/hunch/ort/'))).toEqual(['/models/demo/hunch.json']);
    expect(await page.evaluate(() => window.violations)).toEqual([]);
    expect(next.status.reason).toContain('kept loaded by the shared worker');
    expect(next.status.modelVersion).toBe(first.status.modelVersion);
    expect(next.status.load).toMatchObject({ manifest: 0, runtime: 0, session: 0, index: 0 });
    expect(next.sources).toEqual(['model']);
    // The worker's KV cache came along: the new page_view is one more step, not a rerun.
    expect(next.after.lastInference).toMatchObject({ mode: 'incremental', tokens: 1 });
    expect(errors).toEqual([]);
  });

  it('serves two tabs at once, with the same answer for the same stored history', async () => {
    const one = await context.newPage();
    await open(one, '/page.html');
    const first = await visit(one, LAMPS);
    const two = await context.newPage();
    await open(two, '/next.html');
    const second = await two.evaluate(async () => {
      const hunch = window.hunch!;
      const recs = await hunch.recommend({ k: 6 });
      return { status: await hunch.status(), ids: recs.map((rec) => rec.item.id) };
    });
    expect(second.status.reason).toContain('kept loaded by the shared worker');
    expect(second.ids).toEqual(first.ids);
    // The first tab still answers from the model.
    const again = await one.evaluate(async () => (await window.hunch!.recommend({ k: 6 })).map((rec) => rec.source));
    expect(new Set(again)).toEqual(new Set(['model']));
    expect(errors).toEqual([]);
  });

  it('loads a new hunch.json version published between two pages instead of keeping the old model', async () => {
    const page = await context.newPage();
    await open(page, '/page.html');
    const first = await visit(page, LAMPS);

    const file = join(work, 'models', 'demo', 'hunch.json');
    const original = readFileSync(file, 'utf8');
    const manifest = JSON.parse(original) as { version: string };
    try {
      writeFileSync(file, JSON.stringify({ ...manifest, version: `${manifest.version}-next` }, null, 2));
      await open(page, '/next.html');
      const next = await visit(page, []);
      expect(next.status.modelVersion).toBe(`${first.status.modelVersion}-next`);
      expect(next.status.reason).not.toContain('kept loaded');
      expect(next.status.load!.session).toBeGreaterThan(0);
      expect(next.sources).toEqual(['model']);
    } finally {
      writeFileSync(file, original);
    }
    expect(errors).toEqual([]);
  });

  it('an idle page lets go of the shared worker and still answers from the model afterwards', async () => {
    const page = await context.newPage();
    const warnings: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'warning' && message.text().startsWith('[hunch]')) warnings.push(message.text());
    });
    // An idle time of 1 s: the page closes its connection to the worker a second after an answer.
    await page.goto(`${proxy.origin}/page.html?shared=true&idle=1000`);
    await expect.poll(() => page.title()).toBe('page script ran');
    const sources = await page.evaluate(async (views) => {
      const hunch = window.hunch!;
      for (const id of views) hunch.track('view_item', { item_id: id });
      const before = (await hunch.recommend({ k: 6 })).map((rec) => rec.source);
      const loadedFirst = await hunch.status();
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const after = (await hunch.recommend({ k: 6 })).map((rec) => rec.source);
      return { before: [...new Set(before)], after: [...new Set(after)], loadedFirst, status: await hunch.status() };
    }, LAMPS);
    expect(sources.before).toEqual(['model']);
    expect(sources.after).toEqual(['model']);
    expect(sources.status.backend).toBe('wasm');
    // The page connected again and asked for the model anew (kept by the worker, or loaded again).
    expect(sources.status.load!.total).not.toBe(sources.loadedFirst.load!.total);
    expect(warnings).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('with sharedWorker: false, every page loads the model in its own worker', async () => {
    const page = await context.newPage();
    await open(page, '/page.html', false);
    await visit(page, LAMPS);
    expect(page.workers()).toHaveLength(1);
    await open(page, '/next.html', false);
    const next = await visit(page, []);
    expect(next.status.reason).not.toContain('kept loaded');
    expect(next.status.load!.session).toBeGreaterThan(0);
    expect(next.after.lastInference?.mode).toBe('full');
    expect(page.workers()).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});
