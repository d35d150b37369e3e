/**
 * Consent in real Chromium: opt-in defaults, the choice persisted in localStorage across a
 * reload, Global Privacy Control overriding the shop, a choice in one tab reaching the others
 * over BroadcastChannel (forget() too, winning over the choice it erased), broken storage
 * tolerated, and the uploader waiting for consent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consent, ConsentState } from '../../packages/browser/src/consent.js';
import { launchChromium } from './chromium.js';
import { startModuleServer, type ModuleServer } from './module-server.js';

/** What the test pages hold (cast, not declared globally: other tests declare their own). */
interface ConsentPage {
  HunchConsent: typeof import('../../packages/browser/src/consent.js');
  HunchUpload: typeof import('../../packages/browser/src/upload/index.js');
  HunchStorage: typeof import('../../packages/browser/src/storage/index.js');
  consent?: Consent;
  changes?: ConsentState[];
}

const DENIED: ConsentState = { personalization_storage: 'denied', analytics_storage: 'denied' };
const GRANTED: ConsentState = { personalization_storage: 'granted', analytics_storage: 'granted' };

let uploads = 0;
function collect(request: IncomingMessage, response: ServerResponse): boolean {
  if (!request.url?.startsWith('/collect')) return false;
  uploads++;
  const parts: Buffer[] = [];
  request.on('data', (part: Buffer) => parts.push(part));
  request.on('end', () => {
    const ids = (JSON.parse(Buffer.concat(parts).toString('utf8')) as { events: Array<{ id: string }> }).events.map((e) => e.id);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: ids, rejected: [] }));
  });
  return true;
}

/** Creates the page's consent and records every change it reports. */
async function startConsent(page: Page, requireConsent: boolean) {
  return page.evaluate((requireConsent) => {
    const w = window as unknown as ConsentPage;
    const changes: ConsentState[] = (w.changes = []);
    const consent = (w.consent = w.HunchConsent.createConsent({ requireConsent }));
    consent.subscribe((state) => changes.push(state));
    return { state: consent.state(), storage: consent.allows('storage'), upload: consent.allows('upload'), gpc: consent.gpc };
  }, requireConsent);
}

describe('consent in Chromium', () => {
  let server: ModuleServer;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    server = await startModuleServer({
      entries: {
        HunchConsent: 'packages/browser/src/consent.ts',
        HunchUpload: 'packages/browser/src/upload/index.ts',
        HunchStorage: 'packages/browser/src/storage/index.ts',
      },
      handle: collect,
    });
    browser = await launchChromium({ webgpu: false });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('is granted by default, denied under requireConsent until update(), and the choice survives a reload', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}shop`);
    expect(await startConsent(page, false)).toEqual({ state: GRANTED, storage: true, upload: true, gpc: false });
    expect(await startConsent(page, true)).toEqual({ state: DENIED, storage: false, upload: false, gpc: false });

    await page.evaluate(() => (window as unknown as ConsentPage).consent!.update({ personalization_storage: 'granted' }));
    expect(await page.evaluate(() => (window as unknown as ConsentPage).changes)).toEqual([{ personalization_storage: 'granted', analytics_storage: 'denied' }]);
    await page.evaluate(() => (window as unknown as ConsentPage).consent!.update({ analytics_storage: 'granted' }));
    expect(await page.evaluate(() => (window as unknown as ConsentPage).consent!.state())).toEqual(GRANTED);
    const record = JSON.parse((await page.evaluate(() => localStorage.getItem('hunch.consent')))!);
    expect(record).toMatchObject({ v: 1, ...GRANTED });

    await page.reload();
    expect(await startConsent(page, true)).toEqual({ state: GRANTED, storage: true, upload: true, gpc: false });
    // Revoking persists as well.
    await page.evaluate(() => (window as unknown as ConsentPage).consent!.update({ analytics_storage: 'denied' }));
    await page.reload();
    expect((await startConsent(page, false)).state).toEqual({ personalization_storage: 'granted', analytics_storage: 'denied' });
    await context.close();
  });

  it('denies upload under Global Privacy Control whatever the shop says', async () => {
    context = await browser.newContext();
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true }));
    const page = await context.newPage();
    await page.goto(`${server.url}shop`);
    expect(await startConsent(page, false)).toEqual({
      state: { personalization_storage: 'granted', analytics_storage: 'denied' },
      storage: true,
      upload: false,
      gpc: true,
    });
    await page.evaluate(() => (window as unknown as ConsentPage).consent!.update({ analytics_storage: 'granted', personalization_storage: 'granted' }));
    expect(await page.evaluate(() => [(window as unknown as ConsentPage).consent!.allows('upload'), (window as unknown as ConsentPage).consent!.allows('storage')])).toEqual([false, true]);
    await context.close();
  });

  it('applies a choice made in one tab to the others', async () => {
    context = await browser.newContext();
    const [a, b] = [await context.newPage(), await context.newPage()];
    await Promise.all([a.goto(`${server.url}shop`), b.goto(`${server.url}shop`)]);
    await startConsent(a, true);
    expect((await startConsent(b, true)).state).toEqual(DENIED);
    await a.evaluate(() => (window as unknown as ConsentPage).consent!.update({ personalization_storage: 'granted', analytics_storage: 'granted' }));
    await b.waitForFunction(() => (window as unknown as ConsentPage).consent!.allows('upload'), undefined, { timeout: 5000 });
    expect(await b.evaluate(() => (window as unknown as ConsentPage).changes)).toEqual([GRANTED]);
    await b.evaluate(() => (window as unknown as ConsentPage).consent!.update({ analytics_storage: 'denied' }));
    await a.waitForFunction(() => !(window as unknown as ConsentPage).consent!.allows('upload'), undefined, { timeout: 5000 });
    expect(await a.evaluate(() => (window as unknown as ConsentPage).consent!.state())).toEqual({ personalization_storage: 'granted', analytics_storage: 'denied' });
    await context.close();
  });

  it('forget() reaches the other tabs and wins over the choice it erased, still on its way from another tab', async () => {
    context = await browser.newContext();
    const [a, b] = [await context.newPage(), await context.newPage()];
    await Promise.all([a.goto(`${server.url}shop`), b.goto(`${server.url}shop`)]);
    await startConsent(a, true);
    await startConsent(b, true);
    const countForgets = (page: Page) =>
      page.evaluate(() => {
        const w = window as unknown as ConsentPage & { forgets?: number };
        w.forgets = 0;
        w.consent!.onForget(() => void (w.forgets! += 1));
      });
    await countForgets(a);
    await countForgets(b);
    await a.evaluate(() => (window as unknown as ConsentPage).consent!.update({ personalization_storage: 'granted', analytics_storage: 'granted' }));
    await b.waitForFunction(() => (window as unknown as ConsentPage).consent!.allows('upload'), undefined, { timeout: 5000 });
    const granted = (await a.evaluate(() => localStorage.getItem('hunch.consent')))!;

    await b.evaluate(() => (window as unknown as ConsentPage).consent!.forget());
    await a.waitForFunction(() => !(window as unknown as ConsentPage).consent!.allows('storage'), undefined, { timeout: 5000 });
    expect(await a.evaluate(() => (window as unknown as ConsentPage).consent!.state())).toEqual(DENIED);
    expect(await a.evaluate(() => localStorage.getItem('hunch.consent'))).toBeNull();
    expect(await a.evaluate(() => (window as unknown as { forgets: number }).forgets)).toBe(1);
    expect(await b.evaluate(() => (window as unknown as { forgets: number }).forgets)).toBe(1);

    // The grant the forget erased, arriving late (as from a third tab): both tabs ignore it.
    await a.evaluate((record) => {
      const channel = new BroadcastChannel('hunch.consent');
      channel.postMessage(JSON.parse(record));
      channel.close();
    }, granted);
    await a.waitForTimeout(300);
    expect(await a.evaluate(() => (window as unknown as ConsentPage).consent!.state())).toEqual(DENIED);
    expect(await b.evaluate(() => (window as unknown as ConsentPage).consent!.state())).toEqual(DENIED);
    // A choice made after the forget applies everywhere, as before.
    await a.evaluate(() => (window as unknown as ConsentPage).consent!.update({ personalization_storage: 'granted' }));
    await b.waitForFunction(() => (window as unknown as ConsentPage).consent!.allows('storage'), undefined, { timeout: 5000 });
    await context.close();
  });

  it('tolerates a broken record and storage that throws', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}shop`);
    await page.evaluate(() => localStorage.setItem('hunch.consent', '{not json'));
    expect((await startConsent(page, true)).state).toEqual(DENIED);

    await context.addInitScript(() =>
      Object.defineProperty(window, 'localStorage', {
        get() {
          throw new DOMException('blocked', 'SecurityError');
        },
      }),
    );
    await page.reload();
    expect(await startConsent(page, true)).toMatchObject({ state: DENIED });
    // Without storage the choice still applies to this page.
    expect(await page.evaluate(() => ((window as unknown as ConsentPage).consent!.update({ analytics_storage: 'granted' }), (window as unknown as ConsentPage).consent!.allows('upload')))).toBe(true);
    await context.close();
  });

  it('keeps the uploader silent until upload is granted', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}shop`);
    uploads = 0;
    const result = await page.evaluate(async () => {
      const w = window as unknown as ConsentPage;
      const consent = w.HunchConsent.createConsent({ requireConsent: true });
      const store = await w.HunchStorage.openEventStore();
      const event = { id: '00000000-0000-4000-8000-00000000c0de', name: 'page_view' as const, ts: Date.now(), sessionId: 's', params: { page_path: '/' } };
      // Left over from before: queued, but consent is now denied, so it must never leave.
      store.add(event, { upload: true });
      await store.flush();
      const uploader = w.HunchUpload.createUploader({ url: '/collect', store, consent, debounceMs: 60_000 });
      const before = await uploader.flush();
      while ((await store.outbox(10)).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      consent.update({ analytics_storage: 'granted' });
      store.add({ ...event, id: '00000000-0000-4000-8000-00000000c0df' }, { upload: true });
      await store.flush();
      const after = await uploader.flush();
      return { before, after, outbox: (await store.outbox(10)).length };
    });
    expect(result).toEqual({ before: { status: 'denied', acknowledged: 0 }, after: { status: 'done', acknowledged: 1 }, outbox: 0 });
    expect(uploads).toBe(1);
    await context.close();
  });
});
