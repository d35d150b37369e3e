/**
 * A blank page of the storefront (served at `/NAME.html`) with the SDK's script tag loaded, every
 * request's path and console line recorded: where the shard tests call createHunch() themselves.
 */
import type { BrowserContext, Page } from 'playwright-core';

export async function blankShopPage(context: BrowserContext, storefrontUrl: string, name: string): Promise<{ page: Page; requests: string[]; logged: string[] }> {
  const page = await context.newPage();
  const requests: string[] = [];
  const logged: string[] = [];
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));
  page.on('console', (message) => logged.push(message.text()));
  await page.route(`${storefrontUrl}${name}.html`, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta charset="utf-8"><title>${name}</title>` }));
  await page.goto(`${storefrontUrl}${name}.html`);
  await page.addScriptTag({ url: `${storefrontUrl}hunch/hunch.js` });
  return { page, requests, logged };
}
