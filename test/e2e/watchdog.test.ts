/**
 * The page's watchdog over the model worker (model-client.ts), in real Chromium with a real
 * worker that hangs: the shipped WASM worker behind a script that answers its load and first
 * prediction, then swallows every later predict message, so that call never answers. A
 * recommend() waiting on it must fall back to popular items after the timeout (10 s by default),
 * the next request must start a new worker, and after three restarts no more start. Workers are
 * counted by the requests for their script (served no-store: every start fetches it).
 *
 * A worker that hangs earlier is bounded too: a load that never answers ends in popular items
 * (loadTimeoutMs, 60 s by default) with no restart, and a first predict that never answers
 * (firstCallTimeoutMs, 3 × timeoutMs by default: it may compile kernels) drops the worker like
 * a later one.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ModelClient } from '../../packages/browser/src/model-client.js';
import type { Hunch } from '../../packages/browser/src/index.js';
import type { PredictRequest } from '../../packages/browser/src/worker/protocol.js';
import { launchChromium } from './chromium.js';
import { startModuleServer, type ModuleServer } from './module-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HANGING_WORKER = '/hunch/hang-worker.js';

/** Ahead of the model worker's own (comlink's) listener: every predict after the worker's first is swallowed. */
const HANG_FIRST = `let predicts = 0;
self.addEventListener('message', (event) => {
  const data = event.data;
  if (data && data.type === 'APPLY' && Array.isArray(data.path) && data.path[0] === 'predict' && ++predicts > 1) event.stopImmediatePropagation();
});`;

/** Module imports run in order: the listener above is in place before the worker's. */
const HANGING = `import './hang-first.js';\nimport './hunch.worker.wasm.js';`;

/** Workers that never answer their load, or their first predict. */
const HANG_LOAD_WORKER = '/hunch/hang-load-worker.js';
const HANG_FIRST_PREDICT_WORKER = '/hunch/hang-first-predict-worker.js';
const swallow = (method: string) => `self.addEventListener('message', (event) => {
  const data = event.data;
  if (data && data.type === 'APPLY' && Array.isArray(data.path) && data.path[0] === '${method}') event.stopImmediatePropagation();
});`;

/** A page with the SDK (its ESM build) on the hanging worker. */
const SDK_PAGE = `<!doctype html><meta charset="utf-8"><title>watchdog</title>
<script type="module">
  import { createHunch } from '/hunch/hunch.esm.js';
  window.hunch = createHunch({ model: '/models/demo/', workerUrl: '${HANGING_WORKER}', backend: 'wasm', sharedWorker: false });
</script>`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream' };

/** Requests for the hanging worker's script, one per worker started. */
let workerStarts = 0;
/** The same for the early-hanging workers, by script path. */
const earlyStarts = new Map<string, number>();

/** The SDK's build under /hunch/, the demo model under /models/, the hanging worker and the SDK page. */
async function serve(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  const { pathname } = new URL(request.url ?? '/', 'http://localhost');
  const own: Record<string, [string, string]> = {
    [HANGING_WORKER]: ['text/javascript', HANGING],
    '/hunch/hang-first.js': ['text/javascript', HANG_FIRST],
    '/sdk.html': ['text/html', SDK_PAGE],
    [HANG_LOAD_WORKER]: ['text/javascript', `import './swallow-load.js';\nimport './hunch.worker.wasm.js';`],
    [HANG_FIRST_PREDICT_WORKER]: ['text/javascript', `import './swallow-predict.js';\nimport './hunch.worker.wasm.js';`],
    '/hunch/swallow-load.js': ['text/javascript', swallow('load')],
    '/hunch/swallow-predict.js': ['text/javascript', swallow('predict')],
  };
  if (pathname === HANGING_WORKER) workerStarts++;
  if (pathname === HANG_LOAD_WORKER || pathname === HANG_FIRST_PREDICT_WORKER) earlyStarts.set(pathname, (earlyStarts.get(pathname) ?? 0) + 1);
  if (own[pathname]) {
    response.writeHead(200, { 'content-type': `${own[pathname][0]}; charset=utf-8`, 'cache-control': 'no-store' }).end(own[pathname][1]);
    return true;
  }
  const mount = pathname.startsWith('/hunch/') ? 'packages/browser/dist/' : pathname.startsWith('/models/demo/') ? 'models/demo/' : undefined;
  if (!mount) return false;
  const relative = normalize(decodeURIComponent(pathname.replace(/^\/(hunch|models\/demo)\//, '')));
  if (relative.startsWith('..')) return void response.writeHead(403).end(), true;
  const body = await readFile(join(ROOT, mount, relative)).catch(() => undefined);
  if (!body) return void response.writeHead(404).end(), true;
  response.writeHead(200, { 'content-type': TYPES[extname(relative)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(body);
  return true;
}

/** What the test pages hold (cast, not declared globally: other tests declare their own). */
interface WatchdogPage {
  HunchModelClient: typeof import('../../packages/browser/src/model-client.js');
  client?: ModelClient;
  hunch?: Hunch;
}

let server: ModuleServer;
let browser: Browser;

beforeAll(async () => {
  server = await startModuleServer({ entries: { HunchModelClient: 'packages/browser/src/model-client.ts' }, module: true, handle: serve });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

beforeEach(() => {
  workerStarts = 0;
  earlyStarts.clear();
});

describe('the model worker watchdog, with a worker that stops answering', () => {
  it('falls back to popular items after the default 10 s, and the next request gets a new worker', { timeout: 90_000 }, async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}sdk.html`);
    await page.waitForFunction(() => (window as unknown as WatchdogPage).hunch !== undefined);
    const recommend = (id: string) =>
      page.evaluate(async (id) => {
        const hunch = (window as unknown as WatchdogPage).hunch!;
        hunch.track('view_item', { item_id: id });
        await hunch.flush();
        const started = performance.now();
        // A stalled recommend() fails here in 20 s, not at the test's timeout.
        const recs = await Promise.race([hunch.recommend({ k: 6 }), new Promise<'no answer in 20 s'>((resolve) => setTimeout(() => resolve('no answer in 20 s'), 20_000))]);
        return { sources: typeof recs === 'string' ? recs : recs.map((rec) => rec.source), ms: performance.now() - started };
      }, id);

    const first = await recommend('mugs-01');
    expect(first.sources).toEqual(Array(6).fill('model'));
    expect(workerStarts).toBe(1);

    // The worker's second predict never answers: popular items once the default 10 s are up, not before, not much after.
    const hung = await recommend('mugs-04');
    expect(hung.sources).toEqual(Array(6).fill('popular'));
    expect(hung.ms).toBeGreaterThanOrEqual(9_900);
    expect(hung.ms).toBeLessThan(14_000);

    // A new worker answers (its first predict): the model is back.
    const after = await recommend('mugs-07');
    expect(after.sources).toEqual(Array(6).fill('model'));
    expect(workerStarts).toBe(2);
    await page.context().close();
  });

  it('restarts a hung worker on the next request, three times, then starts no more', { timeout: 90_000 }, async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as WatchdogPage).HunchModelClient !== undefined);
    // The client's documented timeoutMs option, short here (the test above covers the 10 s default).
    await page.evaluate(() => {
      const w = window as unknown as WatchdogPage;
      w.client = new w.HunchModelClient.ModelClient({ workerUrl: '/hunch/hang-worker.js', modelUrl: new URL('/models/demo/', location.href).href, preference: 'wasm', shared: false, timeoutMs: 500 });
    });
    const predict = () =>
      page.evaluate(async () => {
        const client = (window as unknown as WatchdogPage).client!;
        const request: PredictRequest = { events: [{ id: 'e1', name: 'view_item', params: { item_id: 'mugs-01' } }], maxEvents: 50, k: 3, exclude: [] };
        const started = performance.now();
        // A stalled predict() fails here in 5 s, not at the test's timeout.
        const prediction = await Promise.race([client.predict(request), new Promise<'no answer in 5 s'>((resolve) => setTimeout(() => resolve('no answer in 5 s'), 5_000))]);
        const status = await client.status;
        return { answered: prediction === 'no answer in 5 s' ? prediction : prediction !== undefined, ms: performance.now() - started, backend: status.backend, reason: status.reason };
      });

    const steps: Array<Awaited<ReturnType<typeof predict>> & { workers: number }> = [];
    for (let i = 0; i < 10; i++) steps.push({ ...(await predict()), workers: workerStarts });

    // Each worker answers once, then hangs: the call times out (500 ms) and the worker is dropped,
    // and only the next request starts another (the first and three restarts), then none.
    expect(steps.map((step) => step.answered)).toEqual([true, false, true, false, true, false, true, false, false, false]);
    expect(steps.map((step) => step.workers)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 4, 4]);
    for (const step of steps.filter((_, i) => i % 2 === 1 && i < 8)) {
      expect(step.ms).toBeGreaterThanOrEqual(490);
      expect(step.ms).toBeLessThan(3_000);
    }
    // Once given up, popular items at once (no worker to wait for), and the status says why.
    for (const step of steps.slice(8)) {
      expect(step.ms).toBeLessThan(200);
      expect(step).toMatchObject({ backend: 'none', reason: 'the model worker failed 3 times: popular items from now on' });
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(workerStarts).toBe(4);
    // Every hung worker was ended, not just abandoned.
    await expect.poll(() => page.workers().length).toBe(0);
    await page.context().close();
  });

  it('gives up on a load that never answers: popular items, the worker ended, no restart', { timeout: 90_000 }, async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as WatchdogPage).HunchModelClient !== undefined);
    const outcome = await page.evaluate(async (workerUrl) => {
      const w = window as unknown as WatchdogPage;
      const started = performance.now();
      const client = new w.HunchModelClient.ModelClient({ workerUrl, modelUrl: new URL('/models/demo/', location.href).href, preference: 'wasm', shared: false, loadTimeoutMs: 1_000 });
      // A stalled status fails here in 10 s, not at the test's timeout.
      const status = await Promise.race([client.status, new Promise<'no status in 10 s'>((resolve) => setTimeout(() => resolve('no status in 10 s'), 10_000))]);
      const statusMs = performance.now() - started;
      const request: PredictRequest = { events: [{ id: 'e1', name: 'view_item', params: { item_id: 'mugs-01' } }], maxEvents: 50, k: 3, exclude: [] };
      const before = performance.now();
      const prediction = await Promise.race([client.predict(request), new Promise<'no answer in 10 s'>((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000))]);
      return { status, statusMs, predicted: prediction === 'no answer in 10 s' ? prediction : prediction !== undefined, predictMs: performance.now() - before };
    }, HANG_LOAD_WORKER);
    expect(outcome.status).toMatchObject({ backend: 'none', reason: "model failed to load: no answer from the model worker's load in 1000 ms" });
    expect(outcome.statusMs).toBeGreaterThanOrEqual(990);
    expect(outcome.statusMs).toBeLessThan(5_000);
    // No model: the caller falls back at once, and no new worker is started for it.
    expect(outcome.predicted).toBe(false);
    expect(outcome.predictMs).toBeLessThan(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(earlyStarts.get(HANG_LOAD_WORKER)).toBe(1);
    await expect.poll(() => page.workers().length).toBe(0);
    await page.context().close();
  });

  it('times a first predict too, with its longer allowance, then drops the worker', { timeout: 90_000 }, async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as WatchdogPage).HunchModelClient !== undefined);
    const outcome = await page.evaluate(async (workerUrl) => {
      const w = window as unknown as WatchdogPage;
      const client = new w.HunchModelClient.ModelClient({ workerUrl, modelUrl: new URL('/models/demo/', location.href).href, preference: 'wasm', shared: false, timeoutMs: 300, firstCallTimeoutMs: 1_500 });
      const status = await client.status;
      const request: PredictRequest = { events: [{ id: 'e1', name: 'view_item', params: { item_id: 'mugs-01' } }], maxEvents: 50, k: 3, exclude: [] };
      const started = performance.now();
      // A stalled predict() fails here in 10 s, not at the test's timeout.
      const prediction = await Promise.race([client.predict(request), new Promise<'no answer in 10 s'>((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000))]);
      return { backend: status.backend, answered: prediction === 'no answer in 10 s' ? prediction : prediction !== undefined, ms: performance.now() - started };
    }, HANG_FIRST_PREDICT_WORKER);
    expect(outcome.backend).toBe('wasm');
    expect(outcome.answered).toBe(false);
    // The first call's allowance (1.5 s), not the warm calls' 300 ms.
    expect(outcome.ms).toBeGreaterThanOrEqual(1_490);
    expect(outcome.ms).toBeLessThan(5_000);
    await expect.poll(() => page.workers().length).toBe(0);
    expect(earlyStarts.get(HANG_FIRST_PREDICT_WORKER)).toBe(1);
    await page.context().close();
  });
});
