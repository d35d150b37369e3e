/**
 * The browser SDK's event storage in real Chromium: real IndexedDB on a real http origin,
 * several tabs, a real quota (set through CDP), real version changes. No mocks.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HunchEvent } from '../../packages/core/src/events.js';
import type { EventStore } from '../../packages/browser/src/storage/types.js';
import { launchChromium } from './chromium.js';
import { startModuleServer, type ModuleServer } from './module-server.js';

type StorageModule = typeof import('../../packages/browser/src/storage/index.js');

declare global {
  interface Window {
    HunchStorage: StorageModule;
    /** The store under test in this page. */
    testStore: EventStore;
    /** A view_item event with a fresh UUID (defined by an init script). */
    makeEvent(ts: number, tag?: string): HunchEvent;
    /** All events in the `events` (or `outbox`) object store, read with the raw API. */
    readRaw(storeName?: 'events' | 'outbox'): Promise<HunchEvent[]>;
  }
}

// Strings, not functions: they run in the page before any of its scripts.
const HELPERS = `
window.makeEvent = (ts, tag) => ({ id: crypto.randomUUID(), name: 'view_item', ts, sessionId: 'session-1', params: { item_id: tag ?? 'p' + ts } });
window.readRaw = (storeName = 'events') => new Promise((resolve, reject) => {
  const open = indexedDB.open('hunch');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains(storeName)) { db.close(); resolve([]); return; }
    const request = db.transaction(storeName).objectStore(storeName).index('ts').getAll();
    request.onsuccess = () => { db.close(); resolve(request.result); };
    request.onerror = () => reject(request.error);
  };
});`;

interface Tab {
  page: Page;
  errors: string[];
  warnings: string[];
}

describe('event storage (IndexedDB through idb) in Chromium', () => {
  let browser: Browser;
  let server: ModuleServer;
  let origin: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startModuleServer({ entries: { HunchStorage: 'packages/browser/src/storage/index.ts' } });
    origin = server.url.replace(/\/$/, '');
    browser = await launchChromium({ webgpu: false });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A fresh browser context: its own, empty storage. */
  async function freshContext(): Promise<BrowserContext> {
    const context = await browser.newContext();
    contexts.push(context);
    await context.addInitScript(HELPERS);
    return context;
  }

  async function openTab(context: BrowserContext, setup?: string): Promise<Tab> {
    const page = await context.newPage();
    const tab: Tab = { page, errors: [], warnings: [] };
    page.on('pageerror', (error) => tab.errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'warning' || message.type() === 'error') tab.warnings.push(message.text());
    });
    if (setup) await page.addInitScript(setup);
    await page.goto(server.url);
    return tab;
  }

  it('keeps events across a page reload; recent() returns the newest, oldest first', async () => {
    const { page, errors } = await openTab(await freshContext());
    const base = 1_700_000_000_000 + Date.now() - 1_700_000_000_000;
    // Added out of time order: order must come from `ts`, not from insertion.
    const offsets = Array.from({ length: 30 }, (_, i) => (i * 7) % 30);
    const added = await page.evaluate(
      async ({ base, offsets }) => {
        window.testStore = await window.HunchStorage.openEventStore();
        const events = offsets.map((offset) => window.makeEvent(base - 30_000 + offset * 1_000));
        for (const event of events) window.testStore.add(event, { upload: false });
        await window.testStore.flush();
        return { kind: window.testStore.kind, events };
      },
      { base, offsets },
    );
    expect(added.kind).toBe('indexeddb');
    const byTime = [...added.events].sort((a, b) => a.ts - b.ts);

    await page.reload();
    const after = await page.evaluate(async () => {
      window.testStore = await window.HunchStorage.openEventStore();
      return { all: await window.testStore.all(), recent: await window.testStore.recent(5), none: await window.testStore.recent(0), raw: await window.readRaw() };
    });
    expect(after.raw).toHaveLength(30);
    expect(after.all.map((event) => event.id)).toEqual(byTime.map((event) => event.id));
    expect(after.recent.map((event) => event.id)).toEqual(byTime.slice(-5).map((event) => event.id));
    expect(after.none).toEqual([]);
    expect(after.all[0]).toEqual(byTime[0]);
    expect(errors).toEqual([]);
  });

  it('evicts the oldest events at the count cap', async () => {
    const { page, errors } = await openTab(await freshContext());
    const result = await page.evaluate(async () => {
      const now = Date.now();
      const store = await window.HunchStorage.openEventStore({ maxEvents: 100 });
      // 250 events in a shuffled time order, in one burst.
      const events = Array.from({ length: 250 }, (_, i) => window.makeEvent(now - 1_000_000 + ((i * 101) % 250) * 1_000));
      for (const event of events) store.add(event, { upload: false });
      await store.flush();
      const afterBurst = await window.readRaw();
      // A second burst, newer than everything: the cap holds and these are kept.
      const newer = Array.from({ length: 10 }, (_, i) => window.makeEvent(now + i));
      for (const event of newer) store.add(event, { upload: false });
      await store.flush();
      return { events, newer, afterBurst, afterNewer: await window.readRaw(), all: await store.all() };
    });
    const ids = (list: HunchEvent[]) => list.map((event) => event.id);
    const byTime = [...result.events].sort((a, b) => a.ts - b.ts);
    expect(ids(result.afterBurst)).toEqual(ids(byTime.slice(-100)));
    expect(ids(result.afterNewer)).toEqual(ids([...byTime, ...result.newer].slice(-100)));
    expect(ids(result.all)).toEqual(ids(result.afterNewer));
    expect(errors).toEqual([]);
  });

  it('evicts events older than the age cap, from history and outbox', async () => {
    const { page, errors } = await openTab(await freshContext());
    const result = await page.evaluate(async () => {
      const now = Date.now();
      // 10 events two days old and 10 fresh, stored without an age cap...
      const unlimited = await window.HunchStorage.openEventStore();
      const old = Array.from({ length: 10 }, (_, i) => window.makeEvent(now - 2 * 86_400_000 + i));
      const fresh = Array.from({ length: 10 }, (_, i) => window.makeEvent(now - 1_000 + i));
      for (const event of [...fresh, ...old]) unlimited.add(event, { upload: true });
      await unlimited.flush();
      const rawBefore = (await window.readRaw()).length;
      unlimited.close();
      // ...then opened with a one-day cap: the old ones go, on open.
      const dayCapped = await window.HunchStorage.openEventStore({ maxAgeMs: 86_400_000 });
      return {
        fresh,
        rawBefore,
        all: await dayCapped.all(),
        recent: await dayCapped.recent(100),
        outbox: await dayCapped.outbox(100),
        raw: await window.readRaw(),
        rawOutbox: await window.readRaw('outbox'),
      };
    });
    const ids = (list: HunchEvent[]) => list.map((event) => event.id);
    expect(result.rawBefore).toBe(20);
    for (const list of [result.all, result.recent, result.outbox, result.raw, result.rawOutbox]) expect(ids(list)).toEqual(ids(result.fresh));
    expect(errors).toEqual([]);
  });

  it('queues events for upload in the outbox: add, acknowledge, clearOutbox, cap', async () => {
    const { page, errors } = await openTab(await freshContext());
    const result = await page.evaluate(async () => {
      const now = Date.now();
      const store = await window.HunchStorage.openEventStore({ maxOutbox: 8 });
      const events = Array.from({ length: 15 }, (_, i) => window.makeEvent(now - 15_000 + i * 1_000));
      // Every third event without upload consent: history only.
      events.forEach((event, i) => store.add(event, { upload: i % 3 !== 0 }));
      await store.flush();
      const queued = await store.outbox(100);
      const firstThree = await store.outbox(3);
      await store.acknowledge(firstThree.map((event) => event.id));
      const afterAck = await store.outbox(100);
      const rawOutboxAfterAck = await window.readRaw('outbox');
      const historyAfterAck = await store.all();
      await store.clearOutbox();
      return {
        events,
        queued,
        firstThree,
        afterAck,
        rawOutboxAfterAck,
        historyAfterAck,
        afterClear: await store.outbox(100),
        rawOutboxAfterClear: await window.readRaw('outbox'),
        historyAfterClear: (await window.readRaw()).length,
      };
    });
    const ids = (list: HunchEvent[]) => list.map((event) => event.id);
    const uploaded = result.events.filter((_, i) => i % 3 !== 0); // 10, oldest first
    // The cap of 8 drops the two oldest waiting uploads.
    expect(ids(result.queued)).toEqual(ids(uploaded.slice(-8)));
    expect(ids(result.firstThree)).toEqual(ids(uploaded.slice(2, 5)));
    expect(ids(result.afterAck)).toEqual(ids(uploaded.slice(5)));
    expect(ids(result.rawOutboxAfterAck)).toEqual(ids(uploaded.slice(5)));
    expect(result.historyAfterAck).toHaveLength(15);
    expect(result.afterClear).toEqual([]);
    expect(result.rawOutboxAfterClear).toEqual([]);
    expect(result.historyAfterClear).toBe(15);
    expect(errors).toEqual([]);
  });

  const brokenStorage = {
    'no indexedDB at all': `Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });`,
    'indexedDB.open throws': `IDBFactory.prototype.open = function () { throw new DOMException('denied', 'SecurityError'); };`,
    // What Firefox's private mode did: a request that fails asynchronously.
    'an open request that fails': `IDBFactory.prototype.open = function () {
      const request = Object.setPrototypeOf(new EventTarget(), IDBOpenDBRequest.prototype);
      Object.defineProperty(request, 'error', { value: new DOMException('private mode', 'InvalidStateError') });
      setTimeout(() => request.dispatchEvent(new Event('error')));
      return request;
    };`,
  };

  for (const [name, setup] of Object.entries(brokenStorage)) {
    it(`falls back to memory with the same API and caps: ${name}`, async () => {
      const { page, errors, warnings } = await openTab(await freshContext(), setup);
      const result = await page.evaluate(async () => {
        const now = Date.now();
        const store = await window.HunchStorage.openEventStore({ maxEvents: 10, maxOutbox: 4 });
        const events = Array.from({ length: 25 }, (_, i) => window.makeEvent(now - 25_000 + ((i * 7) % 25) * 1_000));
        for (const event of events) store.add(event, { upload: true });
        await store.flush();
        const all = await store.all();
        const recent = await store.recent(3);
        const outbox = await store.outbox(10);
        await store.acknowledge([outbox[0]!.id]);
        const afterAck = await store.outbox(10);
        await store.clear();
        return { kind: store.kind, events, all, recent, outbox, afterAck, afterClear: await store.all() };
      });
      const ids = (list: HunchEvent[]) => list.map((event) => event.id);
      const byTime = [...result.events].sort((a, b) => a.ts - b.ts);
      expect(result.kind).toBe('memory');
      expect(ids(result.all)).toEqual(ids(byTime.slice(-10)));
      expect(ids(result.recent)).toEqual(ids(byTime.slice(-3)));
      expect(ids(result.outbox)).toEqual(ids(byTime.slice(-4)));
      expect(ids(result.afterAck)).toEqual(ids(byTime.slice(-3)));
      expect(result.afterClear).toEqual([]);
      expect(errors).toEqual([]);
      expect(warnings.filter((text) => text.includes('[hunch] IndexedDB unavailable'))).toHaveLength(1);
    });
  }

  it('makes room when a real quota is exceeded, and loses nothing new', async () => {
    const context = await freshContext();
    const { page, errors, warnings } = await openTab(context);
    const cdp = await context.newCDPSession(page);
    // 1 MB for this origin: about 150 of these incompressible ~3 KB events fit.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1_000_000 });
    await page.evaluate(async () => {
      window.testStore = await window.HunchStorage.openEventStore({ maxEvents: 100_000 });
    });
    const added: HunchEvent[] = [];
    let before: HunchEvent[] = [];
    let batch: HunchEvent[] = [];
    for (let round = 0; round < 40 && !warnings.some((text) => text.startsWith('[hunch] storage')); round++) {
      before = await page.evaluate(() => window.readRaw());
      batch = await page.evaluate(async (round) => {
        const noise = () => Array.from(crypto.getRandomValues(new Uint8Array(2_000)), (byte) => byte.toString(36)).join('');
        const events = Array.from({ length: 25 }, (_, i) => {
          const event = window.makeEvent(Date.now() + round * 100 + i);
          event.params.search_term = noise();
          return event;
        });
        for (const event of events) window.testStore.add(event, { upload: false });
        await window.testStore.flush();
        return events;
      }, round);
      added.push(...batch);
    }
    // A real QuotaExceededError happened, was recognised, and made us evict.
    expect(warnings.find((text) => text.startsWith('[hunch] storage'))).toContain('storage quota reached, evicted the oldest events');
    const after = await page.evaluate(async () => ({ raw: await window.readRaw(), all: await window.testStore.all(), kind: window.testStore.kind }));
    const rawIds = new Set(after.raw.map((event) => event.id));
    const evicted = Math.ceil(before.length * 0.2);
    // The oldest 20% made room...
    expect(before.slice(0, evicted).some((event) => rawIds.has(event.id))).toBe(false);
    expect(before.slice(evicted).every((event) => rawIds.has(event.id))).toBe(true);
    // ...and the batch that hit the quota is on disk, all of it.
    expect(batch.every((event) => rawIds.has(event.id))).toBe(true);
    expect(after.raw).toHaveLength(before.length - evicted + batch.length);
    expect(after.all.map((event) => event.id)).toEqual(after.raw.map((event) => event.id));
    expect(after.kind).toBe('indexeddb');
    expect(errors).toEqual([]);
  });

  it('keeps a batch the disk cannot take in memory, and still answers with disk and memory merged', async () => {
    const context = await freshContext();
    const { page, errors, warnings } = await openTab(context);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1_000_000 });
    const result = await page.evaluate(async () => {
      const store = await window.HunchStorage.openEventStore();
      const now = Date.now();
      const small = Array.from({ length: 10 }, (_, i) => window.makeEvent(now - 100 + i));
      for (const event of small) store.add(event, { upload: false });
      await store.flush();
      // One event bigger than the whole quota: no eviction can make room for its batch.
      const bytes = new Uint8Array(700_000);
      for (let offset = 0; offset < bytes.length; offset += 65_536) crypto.getRandomValues(bytes.subarray(offset, offset + 65_536));
      const huge = window.makeEvent(now, 'huge');
      huge.params.search_term = Array.from(bytes, (byte) => byte.toString(36)).join('');
      const sameBatch = [window.makeEvent(now + 1, 'same-batch-1'), window.makeEvent(now + 2, 'same-batch-2')];
      for (const event of [huge, ...sameBatch]) store.add(event, { upload: true });
      await store.flush();
      const rawAfterFailure = await window.readRaw();
      const all = await store.all();
      const recent = await store.recent(3);
      const outbox = await store.outbox(10);
      // The disk still takes ordinary batches.
      const later = window.makeEvent(now + 3, 'later');
      store.add(later, { upload: false });
      await store.flush();
      const ids = (list: Array<{ id: string }>) => list.map((event) => event.id);
      return {
        kind: store.kind,
        expectedAll: ids([...small.slice(2), huge, ...sameBatch]),
        all: ids(all),
        recent: ids(recent),
        outbox: ids(outbox),
        expectedRecent: ids([huge, ...sameBatch]),
        rawAfterFailure: ids(rawAfterFailure),
        evictedSmall: ids(small.slice(0, 2)),
        keptSmall: ids(small.slice(2)),
        rawLater: ids(await window.readRaw()),
        later: later.id,
        allLater: (await store.all()).length,
      };
    });
    expect(warnings).toContain('[hunch] storage full, events kept in memory: QuotaExceededError');
    expect(result.kind).toBe('indexeddb');
    // Eviction ran (the oldest 20% of the small events) but could not fit the batch.
    expect(result.rawAfterFailure).toEqual(result.keptSmall);
    expect(result.all).toEqual(result.expectedAll);
    expect(result.recent).toEqual(result.expectedRecent);
    expect(result.outbox).toEqual(result.expectedRecent);
    expect(result.rawLater).toEqual([...result.keptSmall, result.later]);
    expect(result.allLater).toBe(12);
    expect(errors).toEqual([]);
  });

  it('stores a burst of 10,000 add() calls, cheaply, in a few transactions', async () => {
    const { page, errors } = await openTab(await freshContext());
    const result = await page.evaluate(async () => {
      // Counts the real read-write transactions the store opens (the browser's own IndexedDB underneath).
      let writes = 0;
      const transaction = IDBDatabase.prototype.transaction;
      IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
        if (args[1] === 'readwrite') writes++;
        return transaction.apply(this, args);
      } as IDBDatabase['transaction'];
      const store = await window.HunchStorage.openEventStore({ maxEvents: 20_000 });
      const now = Date.now();
      const events = Array.from({ length: 10_000 }, (_, i) => window.makeEvent(now - 10_000 + i));
      const before = writes;
      const start = performance.now();
      for (const event of events) store.add(event, { upload: false });
      const addMs = performance.now() - start;
      const writesDuringAdds = writes - before;
      await store.flush();
      const flushMs = performance.now() - start - addMs;
      const raw = await window.readRaw();
      return { addMs, flushMs, writesDuringAdds, writes: writes - before, stored: raw.length, unique: new Set(raw.map((event) => event.id)).size, recent: await store.recent(3) };
    });
    // Timings are the benchmark's business (npm run bench:capture): printed here, not asserted.
    console.info(`10,000 add(): ${result.addMs.toFixed(1)} ms; flush: ${result.flushMs.toFixed(0)} ms; ${result.writes} read-write transactions`);
    expect(result.stored).toBe(10_000);
    expect(result.unique).toBe(10_000);
    expect(result.recent).toHaveLength(3);
    // add() only queues (no transaction while the page's task runs); the burst is written in a few batches.
    expect(result.writesDuringAdds).toBe(0);
    expect(result.writes).toBeGreaterThan(0);
    expect(result.writes).toBeLessThanOrEqual(10);
    expect(errors).toEqual([]);
  });

  it('writes a burst after the work the page waits for (writeAfter), and at most a second later when it never ends', async () => {
    const { page, errors } = await openTab(await freshContext());
    const result = await page.evaluate(async () => {
      let release: () => void = () => undefined;
      let pending: Promise<void> | undefined = new Promise<void>((resolve) => (release = resolve));
      const store = await window.HunchStorage.openEventStore(undefined, { writeAfter: () => pending });
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      store.add(window.makeEvent(Date.now()), { upload: false });
      await sleep(150);
      const whilePending = (await window.readRaw()).length;
      const readable = (await store.recent(5)).length; // reads do not wait for the write
      release();
      await sleep(150);
      const afterRelease = (await window.readRaw()).length;
      // Work that never ends holds a write back for at most a second.
      pending = new Promise<void>(() => undefined);
      const added = performance.now();
      store.add(window.makeEvent(Date.now() + 1), { upload: false });
      let stuckWrittenAfter = -1;
      while (performance.now() - added < 3_000) {
        if ((await window.readRaw()).length === 2) {
          stuckWrittenAfter = performance.now() - added;
          break;
        }
        await sleep(50);
      }
      return { whilePending, readable, afterRelease, stuckWrittenAfter };
    });
    expect(result.whilePending).toBe(0);
    expect(result.readable).toBe(1);
    expect(result.afterRelease).toBe(1);
    expect(result.stuckWrittenAfter).toBeGreaterThanOrEqual(900);
    expect(result.stuckWrittenAfter).toBeLessThan(3_000);
    expect(errors).toEqual([]);
  });

  it('four tabs adding 500 events each at once: 2,000 stored, none lost, none duplicated', async () => {
    const context = await freshContext();
    const tabs = await Promise.all([0, 1, 2, 3].map(() => openTab(context)));
    await Promise.all(tabs.map(({ page }) => page.evaluate(async () => void (window.testStore = await window.HunchStorage.openEventStore()))));
    const perTab = await Promise.all(
      tabs.map(({ page }, tab) =>
        page.evaluate(async (tab) => {
          const events: HunchEvent[] = [];
          // Ten bursts of 50, yielding between them, so the four tabs' transactions interleave.
          for (let burst = 0; burst < 10; burst++) {
            for (let i = 0; i < 50; i++) {
              const event = window.makeEvent(Date.now(), `tab${tab}`);
              events.push(event);
              window.testStore.add(event, { upload: true });
            }
            await new Promise((resolve) => setTimeout(resolve, 0));
          }
          // A retry of already-added events (same ids) must not duplicate them.
          for (const event of events.slice(0, 50)) window.testStore.add(event, { upload: true });
          await window.testStore.flush();
          return events.map((event) => event.id);
        }, tab),
      ),
    );
    const expected = perTab.flat();
    expect(new Set(expected).size).toBe(2_000);
    const stored = await tabs[0]!.page.evaluate(async () => ({ raw: await window.readRaw(), outbox: await window.readRaw('outbox'), all: await window.testStore.all() }));
    expect(stored.raw).toHaveLength(2_000);
    expect(new Set(stored.raw.map((event) => event.id))).toEqual(new Set(expected));
    expect(new Set(stored.outbox.map((event) => event.id))).toEqual(new Set(expected));
    expect(stored.all).toHaveLength(2_000);
    expect(tabs.flatMap((tab) => tab.errors)).toEqual([]);
  });

  it('answers recent() from memory once read, with events added since and after another tab’s write or a clear', async () => {
    const context = await freshContext();
    const [a, b] = await Promise.all([openTab(context), openTab(context)]);
    for (const { page } of [a, b]) await page.evaluate(async () => void (window.testStore = await window.HunchStorage.openEventStore()));
    const tags = (events: HunchEvent[]) => events.map((event) => event.params.item_id);
    const first = await a.page.evaluate(async () => {
      for (let i = 0; i < 5; i++) window.testStore.add(window.makeEvent(Date.now() + i, `a${i}`), { upload: false });
      return window.testStore.recent(3);
    });
    expect(tags(first)).toEqual(['a2', 'a3', 'a4']);
    // A new event is in the answer at once, written or not.
    const fresh = await a.page.evaluate(async () => {
      window.testStore.add(window.makeEvent(Date.now() + 10, 'a5'), { upload: false });
      return window.testStore.recent(3);
    });
    expect(tags(fresh)).toEqual(['a3', 'a4', 'a5']);
    // Another tab writes: A hears of it and reads the disk again.
    await b.page.evaluate(async () => {
      window.testStore.add(window.makeEvent(Date.now() + 20, 'b0'), { upload: false });
      await window.testStore.flush();
    });
    await a.page.waitForTimeout(100);
    expect(tags(await a.page.evaluate(() => window.testStore.recent(3)))).toEqual(['a4', 'a5', 'b0']);
    await b.page.evaluate(() => window.testStore.clear());
    await a.page.waitForTimeout(100);
    expect(await a.page.evaluate(() => window.testStore.recent(3))).toEqual([]);
  });

  it('clear() in one tab drops another tab’s queued events', async () => {
    const context = await freshContext();
    const [a, b] = await Promise.all([openTab(context), openTab(context)]);
    for (const { page } of [a, b]) await page.evaluate(async () => void (window.testStore = await window.HunchStorage.openEventStore()));
    await a.page.evaluate(async () => {
      for (let i = 0; i < 20; i++) window.testStore.add(window.makeEvent(Date.now(), 'a'), { upload: true });
      await window.testStore.flush();
    });
    // Tab B: a raw readwrite transaction kept alive stalls B's first batch inside IndexedDB, so
    // B's next 100 events are still queued (not yet taken for writing) when A clears.
    await b.page.evaluate(async () => {
      const w = window as unknown as { releaseStall: () => void };
      await new Promise<void>((resolve) => {
        const open = indexedDB.open('hunch');
        open.onsuccess = () => {
          const store = open.result.transaction('events', 'readwrite').objectStore('events');
          let stalled = true;
          w.releaseStall = () => void (stalled = false);
          const spin = () => {
            if (stalled) store.get('none').onsuccess = spin;
            else open.result.close();
          };
          spin();
          resolve();
        };
      });
      window.testStore.add(window.makeEvent(Date.now(), 'b-first'), { upload: true });
      await new Promise((resolve) => setTimeout(resolve, 50)); // B's first batch is now waiting on the stall
      for (let i = 0; i < 100; i++) window.testStore.add(window.makeEvent(Date.now(), 'b-late'), { upload: true });
    });
    const clearing = a.page.evaluate(() => window.testStore.clear());
    await b.page.waitForTimeout(300); // A's broadcast reaches B; A's clear waits for B's batch
    await b.page.evaluate(() => (window as unknown as { releaseStall: () => void }).releaseStall());
    await clearing;
    const result = await b.page.evaluate(async () => {
      await window.testStore.flush();
      return { raw: await window.readRaw(), outbox: await window.readRaw('outbox'), b: await window.testStore.all() };
    });
    const aAll = await a.page.evaluate(() => window.testStore.all());
    expect(result.raw).toEqual([]);
    expect(result.outbox).toEqual([]);
    expect(result.b).toEqual([]);
    expect(aAll).toEqual([]);
    // The stores keep working after a clear.
    const afterClear = await b.page.evaluate(async () => {
      window.testStore.add(window.makeEvent(Date.now(), 'b-after'), { upload: false });
      await window.testStore.flush();
      return (await window.readRaw()).map((event) => event.params.item_id);
    });
    expect(afterClear).toEqual(['b-after']);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('a clear() waiting for another tab’s batch while forget() deletes the database: no failure, nothing left', async () => {
    const { page, errors, warnings } = await openTab(await freshContext());
    const result = await page.evaluate(async () => {
      const store = await window.HunchStorage.openEventStore();
      for (let i = 0; i < 5; i++) store.add(window.makeEvent(Date.now(), 'before'), { upload: true });
      await store.flush();
      // Another tab's batch in flight: it holds the write lock that clear() waits for.
      let release = () => {};
      const held = new Promise<void>((granted) =>
        void navigator.locks.request('hunch-storage-write', { mode: 'shared' }, () => {
          granted();
          return new Promise<void>((resolve) => (release = resolve));
        }),
      );
      await held;
      const clearing = store.clear();
      // Meanwhile forget() deletes the database: its versionchange closes the store's connection.
      await window.HunchStorage.deleteDatabase();
      release();
      await clearing;
      return { kind: store.kind, raw: await window.readRaw(), all: await store.all() };
    });
    expect(result).toEqual({ kind: 'memory', raw: [], all: [] });
    expect(warnings).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('migrates a version 1 database to version 2, keeping its events', async () => {
    const { page, errors } = await openTab(await freshContext());
    const result = await page.evaluate(async () => {
      const now = Date.now();
      const old = Array.from({ length: 20 }, (_, i) => window.makeEvent(now - 20_000 + i * 1_000));
      // Today's shipped schema, written with the raw API.
      await new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('hunch', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('events', { keyPath: 'id' }).createIndex('ts', 'ts');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('events', 'readwrite');
          for (const event of old) tx.objectStore('events').put(event);
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
        };
      });
      const store = await window.HunchStorage.openEventStore();
      const all = await store.all();
      const added = window.makeEvent(now, 'after-migration');
      store.add(added, { upload: true });
      const outbox = await store.outbox(10);
      store.close();
      const schema = await new Promise<{ version: number; stores: string[]; indexes: string[] }>((resolve) => {
        const open = indexedDB.open('hunch');
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['events', 'outbox']);
          resolve({
            version: db.version,
            stores: [...db.objectStoreNames],
            indexes: [...tx.objectStore('events').indexNames, ...tx.objectStore('outbox').indexNames],
          });
          db.close();
        };
      });
      return { kind: store.kind, old, all, added, outbox, schema, raw: await window.readRaw() };
    });
    expect(result.schema).toEqual({ version: 2, stores: ['events', 'outbox'], indexes: ['ts', 'ts'] });
    expect(result.all).toEqual(result.old);
    expect(result.outbox).toEqual([result.added]);
    expect(result.raw).toEqual([...result.old, result.added]);
    expect(errors).toEqual([]);
  });

  it('steps aside for a newer version opened elsewhere: closes, degrades to memory, no page error', async () => {
    const { page, errors, warnings } = await openTab(await freshContext());
    const result = await page.evaluate(async () => {
      const now = Date.now();
      const store = await window.HunchStorage.openEventStore();
      const before = [window.makeEvent(now - 3), window.makeEvent(now - 2)];
      for (const event of before) store.add(event, { upload: false });
      await store.flush();
      // A newer SDK (schema v3) in another tab, here the raw API: it must not stay blocked.
      const upgraded = await new Promise<number | string>((resolve) => {
        const open = indexedDB.open('hunch', 3);
        open.onupgradeneeded = () => open.result.createObjectStore('v3-only');
        open.onblocked = () => resolve('blocked');
        open.onsuccess = () => {
          resolve(open.result.version);
          open.result.close();
        };
        open.onerror = () => resolve(String(open.error));
      });
      const after = window.makeEvent(now - 1, 'after-upgrade');
      store.add(after, { upload: true });
      await store.flush();
      return { upgraded, kind: store.kind, recent: await store.recent(10), outbox: await store.outbox(10), after };
    });
    expect(result.upgraded).toBe(3);
    expect(result.kind).toBe('memory');
    // This tab now answers from memory: the events added after stepping aside are kept.
    expect(result.recent).toEqual([result.after]);
    expect(result.outbox).toEqual([result.after]);
    expect(warnings.filter((text) => text.includes('upgraded by another tab'))).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('does not hang when an older version open in another tab blocks the upgrade', async () => {
    const { page, errors, warnings } = await openTab(await freshContext());
    const result = await page.evaluate(async () => {
      // An old SDK (v1) that ignores versionchange and keeps its connection open.
      await new Promise<void>((resolve) => {
        const open = indexedDB.open('hunch', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('events', { keyPath: 'id' }).createIndex('ts', 'ts');
        open.onsuccess = () => resolve();
      });
      const start = performance.now();
      const store = await window.HunchStorage.openEventStore();
      const openMs = performance.now() - start;
      const event = window.makeEvent(Date.now());
      store.add(event, { upload: false });
      return { openMs, kind: store.kind, all: await store.all(), event };
    });
    expect(result.kind).toBe('memory');
    expect(result.openMs).toBeLessThan(5_000);
    expect(result.all).toEqual([result.event]);
    expect(warnings.some((text) => text.includes('blocked by another tab'))).toBe(true);
    expect(errors).toEqual([]);
  });

  it('reopens once when the browser closes the connection (site data cleared)', async () => {
    const context = await freshContext();
    const { page, errors } = await openTab(context);
    await page.evaluate(async () => {
      window.testStore = await window.HunchStorage.openEventStore();
      window.testStore.add(window.makeEvent(Date.now() - 1, 'before'), { upload: false });
      await window.testStore.flush();
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'indexeddb' });
    await page.waitForTimeout(300);
    const result = await page.evaluate(async () => {
      window.testStore.add(window.makeEvent(Date.now(), 'after'), { upload: false });
      await window.testStore.flush();
      return { kind: window.testStore.kind, raw: (await window.readRaw()).map((event) => event.params.item_id) };
    });
    expect(result).toEqual({ kind: 'indexeddb', raw: ['after'] });
    expect(errors).toEqual([]);
  });
});
