/**
 * A test file's demo storefront and Chromium (WASM), and for each test a fresh browser context
 * (its own IndexedDB and localStorage) with one page whose uncaught errors and [hunch] warnings
 * are collected: the setup the loader and model-lifecycle tests share.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { launchChromium } from './chromium.js';

export type Storefront = Awaited<ReturnType<typeof startStorefront>>;

export interface ShopPage {
  storefront: Storefront;
  /** In a browser context of its own, closed after the test. */
  page: Page;
  /** Messages of the page's uncaught errors. */
  pageErrors: string[];
  /** The SDK's console warnings ("[hunch] …"). */
  warnings: string[];
}

/** Registers the hooks; `each` gets the test's page (and the rest) before every test. */
export function useShopPage(each: (shop: ShopPage) => void): void {
  let storefront: Storefront | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    storefront = await startStorefront({ port: 0 });
    browser = await launchChromium({ webgpu: false });
  });

  afterAll(async () => {
    await browser?.close();
    await storefront?.close();
  });

  beforeEach(async () => {
    context = await browser!.newContext();
    const page = await context.newPage();
    const shop: ShopPage = { storefront: storefront!, page, pageErrors: [], warnings: [] };
    page.on('pageerror', (error) => shop.pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'warning' && message.text().startsWith('[hunch]')) shop.warnings.push(message.text());
    });
    each(shop);
  });

  afterEach(async () => {
    await context?.close();
  });
}
