/**
 * The SDK under a strict Content-Security-Policy, in real Chromium: `script-src 'self'
 * 'wasm-unsafe-eval'; worker-src 'self'` (no 'unsafe-eval', no blob:) on every response, the
 * worker script's included (a dedicated worker takes the policy of its own response). The
 * script tag, the lazily imported SDK and the model worker all load, the model runs on WASM,
 * and the browser reports no violation: not to the page, not to the console, not to report-uri.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { launchChromium } from './chromium.js';
import { startShopProxy, STRICT_POLICY, VIOLATION_PROBE, type ShopProxy } from './shop-proxy.js';

const POLICY = STRICT_POLICY;

declare global {
  interface Window {
    /** Violations the page saw, recorded by /csp/probe.js. */
    violations?: string[];
  }
}

/** The shop's page: no inline script (the policy forbids it), the page's own code in /csp/page.js. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>csp</title>
<script src="/csp/probe.js"></script>
<script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm" data-auto-capture="false" data-shared-worker="false"></script>
<script src="/csp/page.js"></script>`;
const PROBE = VIOLATION_PROBE;
const EVAL_SCRIPT = `try { (0, eval)('1 + 1'); document.body.dataset.eval = 'ran'; } catch (e) { document.body.dataset.eval = e.name; }`;
const PAGE_SCRIPT = `for (const id of ['mugs-01', 'mugs-04', 'mugs-07']) hunch.track('view_item', { item_id: id });
document.title = 'page script ran';`;

let storefront: Awaited<ReturnType<typeof startStorefront>>;
let proxy: ShopProxy;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let consoleErrors: string[];

/** The storefront behind a proxy that adds the policy (and a report-uri) to every response. */
beforeAll(async () => {
  storefront = await startStorefront({ port: 0 });
  const pages: Record<string, [string, string]> = { '/csp.html': ['text/html', PAGE], '/csp/probe.js': ['text/javascript', PROBE], '/csp/page.js': ['text/javascript', PAGE_SCRIPT], '/csp/eval.js': ['text/javascript', EVAL_SCRIPT] };
  proxy = await startShopProxy(storefront.url, { pages, policy: POLICY });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await storefront?.close();
});

beforeEach(async () => {
  proxy.reset();
  consoleErrors = [];
  context = await browser.newContext();
  page = await context.newPage();
  page.on('console', (message) => {
    // The browser's own request for /favicon.ico 404s: not the SDK's business.
    if (message.location().url.endsWith('/favicon.ico')) return;
    if (message.type() === 'error' || /Content.Security.Policy/i.test(message.text())) consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
});

afterEach(async () => {
  await context?.close();
});

describe(`the SDK under Content-Security-Policy: ${POLICY}`, () => {
  it('sends the policy on the page and on the worker script', async () => {
    for (const path of ['/csp.html', '/hunch/hunch.js', '/hunch/hunch.worker.js']) {
      const response = await fetch(`${proxy.origin}${path}`);
      expect(response.headers.get('content-security-policy')).toContain(POLICY);
      await response.body?.cancel();
    }
  });

  it('loads the script tag, the SDK and the model worker, and recommends from the model on WASM with no violation', async () => {
    await page.goto(`${proxy.origin}/csp.html`);
    await expect.poll(() => page.title()).toBe('page script ran');
    expect(await page.evaluate(() => window.hunch!.status())).toMatchObject({ backend: 'wasm', modelFile: 'onnx/model_quantized.onnx' });
    const recs = await page.evaluate(() => window.hunch!.recommend({ k: 6 }));
    expect(recs).toHaveLength(6);
    expect(recs.every((rec) => rec.source === 'model')).toBe(true);
    expect(page.workers()).toHaveLength(1);

    // Controls, after the SDK ran: the policy is enforced and every kind of violation is seen.
    // An eval by a page script (Playwright's own evaluate() is exempt)...
    expect(await page.evaluate(() => new Promise((resolve) => {
      const script = Object.assign(document.createElement('script'), { src: '/csp/eval.js' });
      script.addEventListener('load', () => resolve(document.body.dataset.eval));
      document.head.append(script);
    }))).toBe('EvalError');
    // ...and a blob: import in the model worker (what transformers.js does by default with onnxruntime's .mjs).
    // (A string: vitest would rewrite an import() in a function's source.)
    const blobImport = await page.workers()[0]!.evaluate(
      "import(URL.createObjectURL(new Blob(['export default 1'], { type: 'text/javascript' }))).then(() => 'imported', (error) => error.name)",
    );
    expect(blobImport).toBe('TypeError');
    await expect.poll(() => proxy.reports.length).toBeGreaterThanOrEqual(2);
    await page.waitForTimeout(500); // a late report would be one too many

    // Nothing of the SDK's was refused: the only violations are the two controls.
    expect(await page.evaluate(() => window.violations)).toEqual([expect.stringMatching(/^script-src eval/)]);
    expect(proxy.reports).toHaveLength(2);
    expect(proxy.reports.some((body) => body.includes('"blocked-uri":"eval"'))).toBe(true);
    expect(proxy.reports.some((body) => body.includes('"blocked-uri":"blob"'))).toBe(true);
    expect(consoleErrors.filter((text) => !/eval|blob:/i.test(text))).toEqual([]);
  });
});
