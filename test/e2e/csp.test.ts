/**
 * The SDK under a strict Content-Security-Policy, in real Chromium: `script-src 'self'
 * 'wasm-unsafe-eval'; worker-src 'self'` (no 'unsafe-eval', no blob:) on every response, the
 * worker script's included (a dedicated worker takes the policy of its own response). The
 * script tag, the lazily imported SDK and the model worker all load, the model runs on WASM,
 * and the browser reports no violation: not to the page, not to the console, not to report-uri.
 * Then two stricter shops, each behind a proxy of its own: `style-src 'self'` (no inline styles),
 * where <hunch-recommendations> must still be styled (the SDK's constructable stylesheet), and
 * Trusted Types enforced (`require-trusted-types-for 'script'; trusted-types hunch`), where the
 * model must still run on the shared worker (and on a dedicated one, with onnxruntime-web).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { launchChromium } from './chromium.js';
import { NO_INLINE_STYLES, startShopProxy, STRICT_POLICY, stricterPolicy, TRUSTED_TYPES, VIOLATION_PROBE, type ShopProxy } from './shop-proxy.js';

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

/** The stricter shops' pages: the script tag (shared worker unless `shared` is false) and a recommendations element. */
const stricterPage = ({ shared = true, dtype }: { shared?: boolean; dtype?: string } = {}) => `<!doctype html><meta charset="utf-8"><title>csp</title>
<link rel="stylesheet" href="/csp/shop.css">
<script src="/csp/probe.js"></script>
<script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm" data-auto-capture="false"${shared ? '' : ' data-shared-worker="false"'}${dtype ? ` data-dtype="${dtype}"` : ''}></script>
<script src="/csp/page.js"></script>
<hunch-recommendations placement="csp" limit="4"></hunch-recommendations>`;
/** The shop's own theme, from a stylesheet of its own ('self'): a custom property the SDK's stylesheet reads. */
const SHOP_CSS = 'hunch-recommendations { --hunch-gap: 7px; }';
const STYLE_POLICY = stricterPolicy(NO_INLINE_STYLES);
const TRUSTED_TYPES_POLICY = stricterPolicy(TRUSTED_TYPES);

let storefront: Awaited<ReturnType<typeof startStorefront>>;
let proxy: ShopProxy;
/** The same shop under STYLE_POLICY, and under TRUSTED_TYPES_POLICY (origins of their own: a shared worker is per origin). */
let styleProxy: ShopProxy;
let trustedTypesProxy: ShopProxy;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let consoleErrors: string[];

/** The storefront behind a proxy that adds the policy (and a report-uri) to every response. */
beforeAll(async () => {
  storefront = await startStorefront({ port: 0 });
  const pages: Record<string, [string, string]> = { '/csp.html': ['text/html', PAGE], '/csp/probe.js': ['text/javascript', PROBE], '/csp/page.js': ['text/javascript', PAGE_SCRIPT], '/csp/eval.js': ['text/javascript', EVAL_SCRIPT] };
  proxy = await startShopProxy(storefront.url, { pages, policy: POLICY });
  const stricter = {
    ...pages,
    '/shop.html': ['text/html', stricterPage()],
    '/next.html': ['text/html', stricterPage()],
    '/dedicated.html': ['text/html', stricterPage({ shared: false, dtype: 'fp32' })],
    '/csp/shop.css': ['text/css', SHOP_CSS],
  } satisfies Record<string, [string, string]>;
  styleProxy = await startShopProxy(storefront.url, { pages: stricter, policy: STYLE_POLICY });
  trustedTypesProxy = await startShopProxy(storefront.url, { pages: stricter, policy: TRUSTED_TYPES_POLICY });
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await styleProxy?.close();
  await trustedTypesProxy?.close();
  await storefront?.close();
});

beforeEach(async () => {
  proxy.reset();
  styleProxy.reset();
  trustedTypesProxy.reset();
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

/** The cards of the page's <hunch-recommendations>, read through its open shadow root. */
const cardSources = (page: Page) =>
  page.evaluate(() => [...(document.querySelector('hunch-recommendations')?.shadowRoot?.querySelectorAll('[part~="card"]') ?? [])].map((card) => (card as HTMLElement).dataset.source));

describe(`a shop without inline styles: ${STYLE_POLICY}`, () => {
  it('styles the recommendation cards with the SDK\'s stylesheet (and the shop\'s theme) with no violation', async () => {
    await page.goto(`${styleProxy.origin}/shop.html`);
    await expect.poll(() => page.title()).toBe('page script ran');
    await expect.poll(() => cardSources(page), { timeout: 60_000 }).toEqual(['model', 'model', 'model', 'model']);
    const style = await page.evaluate(() => {
      const root = document.querySelector('hunch-recommendations')!.shadowRoot!;
      const list = getComputedStyle(root.querySelector('[part~="list"]')!);
      const link = getComputedStyle(root.querySelector('[part~="link"]')!);
      const title = getComputedStyle(root.querySelector('[part~="title"]')!);
      return { display: list.display, gap: list.rowGap, listStyle: list.listStyleType, link: link.display, linkDecoration: link.textDecorationLine, title: title.fontWeight, inlineStyles: root.querySelectorAll('style, [style]').length };
    });
    // The SDK's rules (grid, flex, weight 600, no bullets or underline) with the shop's --hunch-gap, and no <style> or style="" in the shadow root.
    expect(style).toEqual({ display: 'grid', gap: '7px', listStyle: 'none', link: 'flex', linkDecoration: 'none', title: '600', inlineStyles: 0 });

    // Control: the policy is enforced, an inline <style> is refused (and reported).
    const color = await page.evaluate(() => {
      document.head.append(Object.assign(document.createElement('style'), { textContent: 'body { color: rgb(255, 0, 0) }' }));
      return getComputedStyle(document.body).color;
    });
    expect(color).not.toBe('rgb(255, 0, 0)');
    await expect.poll(() => styleProxy.reports.length).toBeGreaterThanOrEqual(1);
    await page.waitForTimeout(500); // a late report would be one too many
    expect(await page.evaluate(() => window.violations)).toEqual([expect.stringMatching(/^style-src-elem inline/)]);
    expect(styleProxy.reports).toHaveLength(1);
    expect(consoleErrors.filter((text) => !/style-src|inline style/i.test(text))).toEqual([]);
  });
});

describe(`a shop enforcing Trusted Types: ${TRUSTED_TYPES_POLICY}`, () => {
  it('runs the model on the shared worker, kept across a navigation, with no violation', async () => {
    await page.goto(`${trustedTypesProxy.origin}/shop.html`);
    await expect.poll(() => page.title()).toBe('page script ran');
    const status = await page.evaluate(() => window.hunch!.status());
    expect(status).toMatchObject({ backend: 'wasm', modelFile: 'onnx/model_quantized.onnx' });
    const recs = await page.evaluate(() => window.hunch!.recommend({ k: 6 }));
    expect(recs).toHaveLength(6);
    expect(recs.every((rec) => rec.source === 'model')).toBe(true);
    await expect.poll(() => cardSources(page), { timeout: 60_000 }).toEqual(['model', 'model', 'model', 'model']);
    expect(page.workers()).toHaveLength(0); // the shared worker, not one of the page's

    // The next page finds the model in the same shared worker.
    await page.goto(`${trustedTypesProxy.origin}/next.html`);
    await expect.poll(() => page.title()).toBe('page script ran');
    const next = await page.evaluate(() => window.hunch!.status());
    expect(next).toMatchObject({ backend: 'wasm', modelFile: 'onnx/model_quantized.onnx' });
    expect(next.reason).toContain('kept loaded by the shared worker');
    expect((await page.evaluate(() => window.hunch!.recommend({ k: 6 }))).every((rec) => rec.source === 'model')).toBe(true);

    // Control: the policy is enforced, a worker from a plain string is refused (and reported).
    const plain = await page.evaluate(() => {
      try {
        new Worker('/hunch/hunch.worker.js', { type: 'module' });
        return 'created';
      } catch (error) {
        return (error as Error).name;
      }
    });
    expect(plain).toBe('TypeError');
    await expect.poll(() => trustedTypesProxy.reports.length).toBeGreaterThanOrEqual(1);
    await page.waitForTimeout(500); // a late report would be one too many
    expect(await page.evaluate(() => window.violations)).toEqual([expect.stringMatching(/^require-trusted-types-for/)]);
    expect(trustedTypesProxy.reports).toHaveLength(1);
    expect(consoleErrors.filter((text) => !/TrustedScriptURL/i.test(text))).toEqual([]);
  });

  it('lets through no worker URL the SDK would not build: another origin\'s, a blob: one', async () => {
    await page.goto(`${trustedTypesProxy.origin}/shop.html`);
    await expect.poll(() => page.title()).toBe('page script ran');
    const reasons = await page.evaluate(async () => {
      const blob = URL.createObjectURL(new Blob(['postMessage(1)'], { type: 'text/javascript' }));
      const statuses = ['https://cdn.example/hunch.worker.js', blob].map((workerUrl) => window.Hunch!.createHunch({ model: '/models/demo/', backend: 'wasm', workerUrl, sharedWorker: false }).status());
      return (await Promise.all(statuses)).map((status) => `${status.backend}: ${status.reason}`);
    });
    expect(reasons).toEqual([
      expect.stringMatching(/^none: .*"hunch" refuses the script URL https:\/\/cdn\.example\/hunch\.worker\.js/),
      expect.stringMatching(/^none: .*"hunch" refuses the script URL blob:/),
    ]);
    // The SDK's own worker still runs.
    expect(await page.evaluate(() => window.hunch!.status())).toMatchObject({ backend: 'wasm' });
    expect(page.workers()).toHaveLength(0);
  });

  it('runs onnxruntime-web (fp32) on a dedicated worker with no violation', async () => {
    await page.goto(`${trustedTypesProxy.origin}/dedicated.html`);
    await expect.poll(() => page.title()).toBe('page script ran');
    expect(await page.evaluate(() => window.hunch!.status())).toMatchObject({ backend: 'wasm', modelFile: 'onnx/model.onnx', engine: 'onnxruntime-web' });
    const recs = await page.evaluate(() => window.hunch!.recommend({ k: 6 }));
    expect(recs.every((rec) => rec.source === 'model')).toBe(true);
    expect(page.workers()).toHaveLength(1);
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => window.violations)).toEqual([]);
    expect(trustedTypesProxy.reports).toEqual([]);
    expect(consoleErrors).toEqual([]);

    // Control: the worker (which imported onnxruntime-web and ran it) enforces the policy too: it refuses a worker from a plain string.
    const plain = await page.workers()[0]!.evaluate("(() => { try { new Worker('/hunch/hunch.worker.js', { type: 'module' }); return 'created'; } catch (error) { return error.name; } })()");
    expect(plain).toBe('TypeError');
    await expect.poll(() => trustedTypesProxy.reports.length).toBeGreaterThanOrEqual(1);
    await page.waitForTimeout(500); // a late report would be one too many
    expect(trustedTypesProxy.reports).toEqual([expect.stringContaining('"violated-directive":"require-trusted-types-for"')]);
  });
});
