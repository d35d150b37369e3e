// `npm run bench:capture`: what capture costs the shop's page, in real Chromium with the built
// script-tag SDK (packages/browser/dist/hunch.js) and the demo model:
// - bytes: the script-tag file a page loads up front, gzipped (level 9), beside the peers';
// - track(): main-thread time of each of 10,000 calls (p50 / p99 / max), on a cross-origin-
//   isolated page so performance.now() has 5 µs resolution instead of 100 µs;
// - a burst of 10,000 track() calls in one task: how many reach IndexedDB;
// - four tabs tracking 2,500 events each at once: stored, lost and duplicated.
// Prints one JSON object as its last line and writes BENCHMARKS.md's `capture` section.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startStorefront } from '../examples/storefront/server.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { replaceSection } from './lib/benchmarks-md.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'packages', 'browser', 'dist');
const gzipped = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const LOADER_BUDGET = 10 * 1024;

/** Published sizes of the peers' page scripts (issue 5's figures). */
const PEERS = [
  ['Segment analytics.js', 28 * 1024, 'its own size limit'],
  ['PostHog posthog-js', 56 * 1024, 'array.js bundle'],
];

const sizes = { 'hunch.js': gzipped('hunch.js'), 'hunch.sdk.js': gzipped('hunch.sdk.js'), 'hunch.esm.js': gzipped('hunch.esm.js'), 'hunch.worker.js': gzipped('hunch.worker.js'), 'hunch.worker.ort.js': gzipped('hunch.worker.ort.js') };

const storefront = await startStorefront({ port: 0 });
const browser = await launchChromium({ webgpu: false });
const context = await browser.newContext();

/** A page of the shop's origin with the SDK by script tag, its model loaded, storage empty. */
async function openShopPage() {
  const page = await context.newPage();
  await page.goto(`${storefront.url}bench-capture.html`);
  const status = await page.evaluate(() => window.hunch.status());
  if (status.backend === 'none') throw new Error(`bench:capture: the model did not load (${status.reason})`);
  return page;
}
// Cross-origin isolation (COOP + COEP on the page, COEP on the worker script) gives
// performance.now() 5 µs resolution; a dedicated worker without COEP would be refused.
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
await context.route(`${storefront.url}hunch/hunch.worker*.js`, async (route) => {
  const response = await route.fetch();
  await route.fulfill({ response, headers: { ...response.headers(), ...ISOLATION } });
});
const body = `<!doctype html><meta charset="utf-8"><title>capture bench</title><script src="/hunch/hunch.js" data-model="/models/demo/" data-auto-capture="false"></script>`;
await context.route(`${storefront.url}bench-capture.html`, (route) =>
  route.fulfill({ contentType: 'text/html', body, headers: ISOLATION }),
);

/** Reads every stored event id with the raw IndexedDB API (not through the SDK). */
const storedIds = (page) =>
  page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('hunch');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction('events').objectStore('events').getAllKeys();
          request.onsuccess = () => (open.result.close(), resolve(request.result));
          request.onerror = () => reject(request.error);
        };
      }),
  );

try {
  const page = await openShopPage();
  const isolated = await page.evaluate(() => crossOriginIsolated);

  // track(): 10,000 calls timed one by one, 100 per task so the SDK's batched writes run between.
  const track = await page.evaluate(async () => {
    await window.hunch.forget();
    const times = [];
    for (let task = 0; task < 100; task++) {
      for (let i = 0; i < 100; i++) {
        const started = performance.now();
        window.hunch.track('view_item', { item_id: `mugs-0${1 + (i % 9)}`, item_category: 'mugs' });
        times.push(performance.now() - started);
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await window.hunch.flush();
    times.sort((a, b) => a - b);
    const at = (q) => times[Math.min(times.length - 1, Math.floor(times.length * q))];
    return { calls: times.length, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: times[times.length - 1], mean_ms: times.reduce((a, b) => a + b, 0) / times.length };
  });

  // A burst: 10,000 calls in one task, then everything must be in IndexedDB.
  const burst = await page.evaluate(async () => {
    await window.hunch.forget();
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) window.hunch.track('view_item', { item_id: `tea-0${1 + (i % 9)}` });
    const trackMs = performance.now() - started;
    await window.hunch.flush();
    return { tracked: 10_000, track_ms: trackMs, stored_after_ms: performance.now() - started };
  });
  burst.stored = (await storedIds(page)).length;

  // Four tabs at once, 2,500 events each.
  await page.evaluate(() => window.hunch.forget());
  const tabs = [page, ...(await Promise.all([1, 2, 3].map(() => openShopPage())))];
  const perTab = await Promise.all(
    tabs.map((tab) =>
      tab.evaluate(async () => {
        const ids = [];
        for (let i = 0; i < 2_500; i++) {
          ids.push(window.hunch.track('view_item', { item_id: `lamps-0${1 + (i % 9)}` }));
          if (i % 250 === 249) await new Promise((resolve) => setTimeout(resolve, 0));
        }
        await window.hunch.flush();
        return ids;
      }),
    ),
  );
  const tracked = perTab.flat();
  const stored = await storedIds(page);
  const storedSet = new Set(stored);
  const fourTabs = {
    tabs: tabs.length,
    tracked: tracked.length,
    stored: stored.length,
    lost: tracked.filter((id) => !storedSet.has(id)).length,
    duplicated: stored.length - storedSet.size,
  };
  await Promise.all(tabs.map((tab) => tab.close()));

  const result = { sizes_gzip: sizes, loader_budget: LOADER_BUDGET, cross_origin_isolated: isolated, track, burst, four_tabs: fourTabs, chromium: browser.version() };
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
  const us = (ms) => `${(ms * 1000).toFixed(0)} µs`;
  replaceSection(
    join(root, 'BENCHMARKS.md'),
    'capture',
    [
      `## Capture: what tracking costs the shop's page — ${new Date().toISOString().slice(0, 10)}`,
      '',
      `\`npm run bench:capture\` — Chromium ${result.chromium}, the built script-tag SDK with the demo model loaded, real IndexedDB.`,
      '',
      '| script (gzip -9) | size | note |',
      '| --- | --- | --- |',
      `| Hunch \`hunch.js\` (script tag: what a page loads up front) | ${kb(sizes['hunch.js'])} | budget ${kb(LOADER_BUDGET)} |`,
      `| Hunch \`hunch.sdk.js\` (imported by hunch.js without blocking) | ${kb(sizes['hunch.sdk.js'])} | storage, upload, model client, cards, experiments, strategies |`,
      `| Hunch \`hunch.esm.js\` (npm import, unminified) | ${kb(sizes['hunch.esm.js'])} | before the app's own bundling |`,
      ...PEERS.map(([name, bytes, note]) => `| ${name} | ${kb(bytes)} | published: ${note} |`),
      '',
      `The model runtime is not in these: the worker (\`hunch.worker.js\`, ${kb(sizes['hunch.worker.js'])} gzipped), its onnxruntime module (\`hunch.worker.ort.js\`, ${kb(sizes['hunch.worker.ort.js'])}: transformers.js and onnxruntime-web, imported only when a model needs them) and onnxruntime-web's wasm load lazily, off the main thread.`,
      '',
      '| measurement | figure | target |',
      '| --- | --- | --- |',
      `| \`track()\` main-thread time, ${track.calls.toLocaleString('en')} calls | p50 ${us(track.p50_ms)}, p99 ${us(track.p99_ms)}, max ${us(track.max_ms)} (timer resolution ${isolated ? '5 µs, cross-origin isolated' : '100 µs'}) | p99 ≤ 100 µs |`,
      `| burst of ${burst.tracked.toLocaleString('en')} \`track()\` calls in one task | ${burst.stored.toLocaleString('en')} stored; the calls took ${burst.track_ms.toFixed(1)} ms, all written after ${Math.round(burst.stored_after_ms)} ms | all stored |`,
      `| ${fourTabs.tabs} tabs tracking ${(fourTabs.tracked / fourTabs.tabs).toLocaleString('en')} events each at once | ${fourTabs.stored.toLocaleString('en')} stored, ${fourTabs.lost} lost, ${fourTabs.duplicated} duplicated | none lost or duplicated |`,
    ].join('\n'),
  );
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  await storefront.close();
}
