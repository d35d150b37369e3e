/**
 * The WASM-only model worker, hunch.worker.wasm.js (onnxruntime-web's WASM build and the plain
 * ort-wasm-simd-threaded.wasm, in place of hunch.worker.js's WebGPU build and its asyncify .wasm),
 * in real Chromium against the storefront's real files: through onnxruntime-web (the fp32 file)
 * it runs the model on WASM with the same top 10 as hunch.worker.js, fetches only its own .wasm
 * (and no .mjs: the glue is bundled), keeps working with the server gone, all under the strict
 * policy of csp.test.ts with no violation reported; the default int8 file runs on the worker's
 * own GPT-2 and fetches no runtime at all, offline too; and asked for WebGPU it fails saying why.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { launchChromium } from './chromium.js';
import { startShopProxy, STRICT_POLICY, VIOLATION_PROBE, type ShopProxy } from './shop-proxy.js';

const POLICY = STRICT_POLICY;
const WASM_WORKER = '/hunch/hunch.worker.wasm.js';
const DEFAULT_WORKER = '/hunch/hunch.worker.js';
const PLAIN_WASM = '/hunch/ort/ort-wasm-simd-threaded.wasm';
/** Each worker's onnxruntime module (transformers.js and onnxruntime-web), imported only when a model needs it. */
const WASM_ORT_MODULE = '/hunch/hunch.worker.wasm.ort.js';
const DEFAULT_ORT_MODULE = '/hunch/hunch.worker.ort.js';
const ASYNCIFY_WASM = '/hunch/ort/ort-wasm-simd-threaded.asyncify.wasm';
const HISTORY = ['tea-02', 'mugs-01', 'mugs-04', 'mugs-07'];

declare global {
  interface Window {
    /** Violations the page saw, recorded by /wasm/probe.js. */
    violations?: string[];
  }
}

/** The shop's page: no inline script (the policy forbids it); the query names the worker and backend. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>wasm worker</title><link rel="icon" href="data:,">
<script src="/wasm/probe.js"></script>
<script type="module" src="/wasm/page.js"></script>`;
const PROBE = VIOLATION_PROBE;
const PAGE_SCRIPT = `import { createHunch } from '/hunch/hunch.esm.js';
const query = new URLSearchParams(location.search);
window.hunch = createHunch({ model: '/models/demo/', backend: query.get('backend'), dtype: query.get('dtype') || undefined, workerUrl: query.get('worker'), sharedWorker: false, autoCapture: false });
document.title = 'page script ran';`;

let storefront: Awaited<ReturnType<typeof startStorefront>>;
let proxy: ShopProxy;

beforeAll(async () => {
  storefront = await startStorefront({ port: 0 });
  const pages: Record<string, [string, string]> = { '/wasm.html': ['text/html', PAGE], '/wasm/probe.js': ['text/javascript', PROBE], '/wasm/page.js': ['text/javascript', PAGE_SCRIPT] };
  proxy = await startShopProxy(storefront.url, { pages, policy: POLICY });
});

afterAll(async () => {
  await proxy?.close();
  await storefront?.close();
});

beforeEach(() => {
  proxy.reset();
});

/** A page of the shop running the SDK with `worker` on `backend` (and `dtype`: none, the default); the history is the page's IndexedDB's. */
async function openPage(context: BrowserContext, worker: string, backend = 'wasm', dtype = ''): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${proxy.origin}/wasm.html?${new URLSearchParams({ worker, backend, dtype })}`);
  await expect.poll(() => page.title()).toBe('page script ran');
  return page;
}

/** The model's top 10 for the stored history (tracked first when `track`), and how it ran. */
async function topTen(page: Page, track: boolean) {
  return page.evaluate(
    async ({ history, track }) => {
      const hunch = window.hunch!;
      if (track) for (const id of history) hunch.track('view_item', { item_id: id });
      await hunch.flush();
      const recs = await hunch.recommend({ k: 10 });
      const status = await hunch.status();
      return { ids: recs.map((rec) => rec.item.id), scores: recs.map((rec) => rec.score), sources: [...new Set(recs.map((rec) => rec.source))], status };
    },
    { history: HISTORY, track },
  );
}

/** Cache API keys (URL paths) of onnxruntime's caches, read in the page. */
const runtimeCache = (page: Page) =>
  page.evaluate(async () => {
    const keys: string[] = [];
    for (const name of await caches.keys()) {
      if (name.startsWith('hunch-ort-')) for (const request of await (await caches.open(name)).keys()) keys.push(new URL(request.url).pathname);
    }
    return keys;
  });

describe('hunch.worker.wasm.js on WASM', () => {
  let browser: Browser;
  let context: BrowserContext;
  let consoleErrors: string[];

  beforeAll(async () => {
    browser = await launchChromium({ webgpu: false });
  });

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    // A fresh context: an empty Cache API, HTTP cache and IndexedDB.
    context = await browser.newContext();
    consoleErrors = [];
    context.on('console', (message) => {
      if (message.type() === 'error' || /Content.Security.Policy/i.test(message.text())) consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    context.on('weberror', (error) => consoleErrors.push(error.error().message));
  });

  afterEach(async () => {
    await context?.close();
  });

  it('recommends through onnxruntime-web with the same top 10 as hunch.worker.js, fetching only its own .wasm, under the strict CSP', async () => {
    // hunch.worker.js first (named, so the SDK cannot swap in its WASM-only sibling). The fp32
    // file: the int8 one runs on the worker's own GPT-2, without onnxruntime (the next test).
    const before = await openPage(context, DEFAULT_WORKER, 'wasm', 'fp32');
    const reference = await topTen(before, true);
    expect(reference.status).toMatchObject({ backend: 'wasm', modelFile: 'onnx/model.onnx', engine: 'onnxruntime-web' });
    expect(before.workers().map((worker) => new URL(worker.url()).pathname)).toEqual([DEFAULT_WORKER]);
    expect(proxy.requested).toContain(ASYNCIFY_WASM);
    expect(await runtimeCache(before)).toEqual([ASYNCIFY_WASM]);
    await before.close();

    proxy.requested.length = 0;
    const page = await openPage(context, WASM_WORKER, 'wasm', 'fp32');
    const answer = await topTen(page, false); // the same stored history
    expect(answer.status).toMatchObject({ backend: 'wasm', modelFile: 'onnx/model.onnx', engine: 'onnxruntime-web' });
    expect(answer.status.lastInference).toMatchObject({ mode: 'full', contextTokens: reference.status.lastInference!.contextTokens });
    expect(answer.sources).toEqual(['model']);
    expect(answer.ids).toHaveLength(10);
    expect(answer.ids).toEqual(reference.ids);
    answer.scores.forEach((score, i) => expect(score).toBeCloseTo(reference.scores[i]!, 5));
    expect(page.workers().map((worker) => new URL(worker.url()).pathname)).toEqual([WASM_WORKER]);

    // Its own runtime only: its module and the plain .wasm, never the asyncify one, and no JS glue (.mjs) at all.
    expect(proxy.requested).toContain(WASM_WORKER);
    expect(proxy.requested).toContain(WASM_ORT_MODULE);
    expect(proxy.requested).not.toContain(DEFAULT_ORT_MODULE);
    expect(proxy.requested).toContain(PLAIN_WASM);
    expect(proxy.requested).not.toContain(ASYNCIFY_WASM);
    expect(proxy.requested.filter((path) => path.includes('.mjs'))).toEqual([]);
    // The cache keeps the runtime this device now runs, not both.
    expect(await runtimeCache(page)).toEqual([PLAIN_WASM]);

    // The policy was sent and obeyed: nothing refused, in the page or in the worker.
    const response = await fetch(`${proxy.origin}${WASM_WORKER}`);
    expect(response.headers.get('content-security-policy')).toContain(POLICY);
    await response.body?.cancel();
    await page.waitForTimeout(500); // a late report would show
    expect(await page.evaluate(() => window.violations)).toEqual([]);
    expect(proxy.reports).toEqual([]);
    expect(consoleErrors).toEqual([]);
    // Control: the policy is enforced in this worker, and reported (a blob: import, what transformers.js does by default).
    // (A string: vitest would rewrite an import() in a function's source.)
    const blobImport = await page.workers()[0]!.evaluate(
      "import(URL.createObjectURL(new Blob(['export default 1'], { type: 'text/javascript' }))).then(() => 'imported', (error) => error.name)",
    );
    expect(blobImport).toBe('TypeError');
    await expect.poll(() => proxy.reports.length).toBe(1);
    expect(proxy.reports[0]).toContain('"blocked-uri":"blob"');
  });

  for (const { dtype, file, engine } of [
    { dtype: '', file: 'onnx/model_quantized.onnx', engine: 'hunch-gpt2' },
    { dtype: 'fp32', file: 'onnx/model.onnx', engine: 'onnxruntime-web' },
  ]) {
    it(`runs ${file} (${engine}) on a returning visit while the server fails for the model and the runtime`, async () => {
      const first = await openPage(context, WASM_WORKER, 'wasm', dtype);
      const online = await topTen(first, true);
      expect(online.status).toMatchObject({ backend: 'wasm', modelFile: file, engine });
      expect(online.sources).toEqual(['model']);
      // The worker's own GPT-2 needs no runtime: neither onnxruntime's module nor its .wasm is fetched.
      expect(proxy.requested.includes(WASM_ORT_MODULE)).toBe(engine === 'onnxruntime-web');
      expect(proxy.requested.includes(PLAIN_WASM)).toBe(engine === 'onnxruntime-web');
      await first.close();

      proxy.down = true;
      proxy.requested.length = 0;
      const page = await openPage(context, WASM_WORKER, 'wasm', dtype);
      const offline = await topTen(page, false);
      expect(offline.status).toMatchObject({ backend: 'wasm', modelFile: file, engine });
      expect(offline.sources).toEqual(['model']);
      expect(offline.ids).toEqual(online.ids);
      expect(proxy.refused.length).toBeGreaterThan(0); // the server really was asked, and failed
      expect(proxy.requested).not.toContain(PLAIN_WASM); // the .wasm came from the Cache API, or was not needed
      expect(proxy.reports).toEqual([]);
      // Chromium logs each refused request; nothing else went wrong.
      expect(consoleErrors.filter((text) => !/status of 503/.test(text))).toEqual([]);
    });
  }
});

describe('hunch.worker.wasm.js asked for WebGPU', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium({ webgpu: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('fails to load, naming the worker that runs WebGPU, and the page gets popular items', async () => {
    const context = await browser.newContext();
    const page = await openPage(context, WASM_WORKER, 'webgpu');
    const answer = await topTen(page, true);
    expect(answer.status.backend).toBe('none');
    expect(answer.status.reason).toContain("hunch.worker.wasm.js carries onnxruntime-web's WASM build only: WebGPU runs in hunch.worker.js");
    expect(answer.sources).toEqual(['popular']);
    expect(proxy.requested).not.toContain(ASYNCIFY_WASM);
    await context.close();
  });
});
