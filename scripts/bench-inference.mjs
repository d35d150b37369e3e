// `npm run bench:inference [-- --checkpoint DIR | --model DIR] [--iterations N]`: what the model
// costs the shop's page, through the SDK's public API (the built hunch.esm.js, hunch.worker.js and
// ort/) in Debian's Chromium, on WASM and on WebGPU (SwiftShader, a software adapter, here), with
// the Diginetica-size model (43k items, int8 = dtype 'q8') and a 50-event history (issue 6):
// - warm recommend({ k: 20 }), end to end from the page, p50 / p95: the same question again (the
//   worker may reuse its answer), and a new question each call (another exclusion, same history:
//   the ranking runs, the model does not);
// - incremental: track() one more view_item, then recommend(), p50 / p95 (calls 50 ms apart);
// - the worker's own figures for each call (status().lastInference: mode, tokens, ms) and
//   intent(), when the SDK has them (null otherwise);
// - cold start: a new page of the same browser context (files in the HTTP cache from the first
//   visit) with a new worker: createHunch() → status() resolved, and → the first recommendation;
// - the next page with the shared worker (sharedWorker: true): the same, on navigations in a tab
//   after a page that loaded the model;
// - long tasks (≥ 50 ms) on the page's main thread during a scripted session (the SDK loading,
//   a <hunch-recommendations> element, 50 track() calls with recommend() every 5 events).
// Pages are cross-origin isolated (COOP + COEP) so performance.now() has 5 µs resolution.
// The model: a `hunch benchmark --out` checkpoint of Diginetica (--checkpoint, default
// /tmp/dg-ckpt) exported into a temporary directory with a generated catalog covering every item
// ("Item 1234", http URLs), or an already exported model directory (--model).
// Or --generate N: a checkpoint of random weights with N items (scripts/lib/generated-model.mjs:
// n_embd 64, 2 layers), exported with --dtype's variant (pq: the product-quantized item table, and
// a catalog of N products, sharded past 2 MiB). Also measured: the worker's memory after the steady
// state (the renderer's resident memory, /proc; performance.measureUserAgentSpecificMemory()'s
// worker share; the SDK's worker alone through CDP, scripts/lib/worker-memory.mjs) and what a first
// visit downloads, by kind of file.
// Flags: --checkpoint DIR | --model DIR | --generate N; --iterations N (timed calls per figure, default 100),
// --warmup N (10), --cold N (cold-start pages, 5), --backends wasm,webgpu, --dtype q8 | q4 | fp32
// (default q8 on both backends, for the same file everywhere), or pq; --section NAME: the BENCHMARKS.md
// section to write (default inference).
// Prints one JSON object as its last line and writes BENCHMARKS.md's `inference` section.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { replaceSection } from './lib/benchmarks-md.mjs';
import { CHROMIUM_PATH } from './lib/chromium.mjs';
import { launchChromiumProfile } from './lib/chromium-profile.mjs';
import { BENCH_PAGE, coldStart, scriptedSession, steadyState } from './lib/inference-page.mjs';
import { startStaticServer } from './lib/static-server.mjs';
import { workerMemory } from './lib/worker-memory.mjs';
import { uniforms, writeGeneratedModel } from './lib/generated-model.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'packages', 'trainer', 'dist', 'cli.js');
const dist = join(root, 'packages', 'browser', 'dist');

const DEFAULTS = { iterations: '100', warmup: '10', cold: '5', backends: 'wasm,webgpu', dtype: 'q8', section: 'inference' };
const { values: flags } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    model: { type: 'string' },
    generate: { type: 'string' },
    ...Object.fromEntries(Object.entries(DEFAULTS).map(([name, value]) => [name, { type: 'string', default: value }])),
  },
});
const positive = (name) => {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${flags[name]}`);
  return value;
};
const ITERATIONS = positive('iterations');
const WARMUP = positive('warmup');
const COLD_PAGES = positive('cold');
const BACKENDS = flags.backends.split(',').map((b) => b.trim()).filter(Boolean);
if (BACKENDS.length === 0 || BACKENDS.some((b) => b !== 'wasm' && b !== 'webgpu')) throw new Error(`--backends: wasm and/or webgpu, got ${flags.backends}`);
const DTYPE = flags.dtype;
const QUANT = { fp32: 'fp32', q8: 'int8', q4: 'q4', pq: 'pq' }[DTYPE];
if (!QUANT) throw new Error(`--dtype: fp32, q8, q4 or pq, got ${DTYPE}`);
const HISTORY = 50;
const RECOMMEND_EVERY = 5;

/** Issue 6's budgets, milliseconds (long tasks: a count). */
const BUDGETS = { warm_p50_ms: 5, warm_p95_ms: 15, new_question_p50_ms: 10, incremental_p50_ms: 2, cold_ms: 500, long_tasks: 0, worker_memory_mb: 150 };

const work = mkdtempSync(join(tmpdir(), 'hunch-bench-inference-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const hunchCli = (...args) => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

/** The model directory: --model as is, or the checkpoint exported with a catalog of every item. */
async function prepareModel() {
  if (flags.model) {
    const dir = resolve(flags.model);
    if (!existsSync(join(dir, 'hunch.json'))) throw new Error(`--model ${dir}: no hunch.json there (an exported model directory is expected)`);
    return dir;
  }
  if (flags.generate) {
    const items = positive('generate');
    const checkpoint = join(work, 'generated-checkpoint');
    const catalog = join(work, 'generated-catalog.json');
    let started = performance.now();
    await writeGeneratedModel({ items, checkpointDir: checkpoint, catalogPath: catalog });
    console.error(`generated a checkpoint of ${items.toLocaleString('en')} items in ${Math.round(performance.now() - started)} ms`);
    const dir = join(work, 'model');
    started = performance.now();
    hunchCli('export', '--model', checkpoint, '--catalog', catalog, '--out', dir, '--quant', QUANT);
    console.error(`exported it (${QUANT}) in ${Math.round(performance.now() - started)} ms`);
    rmSync(checkpoint, { recursive: true, force: true });
    rmSync(join(dir, 'model.safetensors')); // the fp32 weights: served to no browser, hundreds of MB
    return dir;
  }
  const checkpoint = resolve(flags.checkpoint ?? '/tmp/dg-ckpt');
  const state = join(checkpoint, 'hunch-train.json');
  if (!existsSync(state) || !existsSync(join(checkpoint, 'model.safetensors'))) {
    throw new Error(
      `no checkpoint at ${checkpoint} (hunch-train.json and model.safetensors expected): make one with ` +
        '`hunch benchmark --format sessions --train ... --test ... --out DIR` and pass --checkpoint DIR, or pass an exported model with --model DIR',
    );
  }
  // Research items have no products: one per item token, so that recommendations have cards.
  const { vocabulary } = JSON.parse(readFileSync(state, 'utf8'));
  const products = vocabulary.filter((token) => token.startsWith('item:')).map((token) => token.slice('item:'.length))
    .map((id) => ({ id, title: `Item ${id}`, url: `http://shop.example/items/${encodeURIComponent(id)}` }));
  const catalog = join(work, 'catalog.json');
  writeFileSync(catalog, JSON.stringify({ products }));
  const dir = join(work, 'model');
  const started = performance.now();
  hunchCli('export', '--model', checkpoint, '--catalog', catalog, '--out', dir, '--quant', QUANT);
  console.error(`exported ${checkpoint} (${products.length.toLocaleString('en')} items, ${QUANT}) in ${Math.round(performance.now() - started)} ms`);
  return dir;
}

/**
 * The catalog's product count, popular list and bytes: catalog.json, or a sharded catalog's
 * index (its popular list's head) and shards.
 */
function readCatalogSummary() {
  const single = join(modelDir, 'catalog.json');
  if (existsSync(single)) {
    const parsed = JSON.parse(readFileSync(single, 'utf8'));
    return { items: parsed.products.length, popular: parsed.popular.length ? parsed.popular : parsed.products.map((item) => item.id), bytes: statSync(single).size, files: 1 };
  }
  const index = JSON.parse(readFileSync(join(modelDir, 'catalog', 'index.json'), 'utf8'));
  const sizes = existsSync(join(modelDir, 'catalog', 'shards.sha256'))
    ? listedSizes(readFileSync(join(modelDir, 'catalog', 'shards.sha256')))
    : Object.entries(manifest.files).filter(([path]) => path.startsWith('catalog/shard-')).map(([, entry]) => entry.bytes);
  return { items: itemCount(manifest), popular: index.popular, bytes: sizes.reduce((sum, bytes) => sum + bytes, 0), files: sizes.length };
}

/** The shard sizes a shard listing holds (core's shard-listing.ts: 36 bytes a shard, its size the uint32 LE after the hash). */
const listedSizes = (bytes) => Array.from({ length: bytes.length / 36 }, (_, shard) => bytes.readUInt32LE(shard * 36 + 32));

/** The model's item tokens: in hunch.json's vocabulary, and its sharded ones (core's item-vocabulary.ts). */
const itemCount = (manifest) => manifest.vocabulary.filter((token) => token.startsWith('item:')).length + (manifest.itemVocabulary?.count ?? 0);

const kindOf = (path) =>
  path.startsWith('/hunch/ort/') ? 'onnxruntime' : path.startsWith('/hunch/') ? 'sdk' : path.endsWith('.onnx') ? 'model' : path.endsWith('/hunch.json') ? 'hunch.json' : path.endsWith('.sha256') ? 'shard listings' : path.includes('/catalog') ? 'catalog' : path.includes('/vocabulary/') ? 'vocabulary shards' : 'other';

/** Bytes a visit downloaded, by kind of file (static-server stats().served). */
function servedByKind(served) {
  const kinds = {};
  for (const [path, bytes] of Object.entries(served)) kinds[kindOf(path)] = (kinds[kindOf(path)] ?? 0) + bytes;
  return kinds;
}

/** Files a visit downloaded, by kind. */
function filesByKind(served) {
  const kinds = {};
  for (const path of Object.keys(served)) kinds[kindOf(path)] = (kinds[kindOf(path)] ?? 0) + 1;
  return kinds;
}

/** Resident memory (kB → bytes) of Chromium's renderer processes (the page and its worker run in one), from /proc; null elsewhere. */
function rendererRss() {
  if (!existsSync('/proc/self/status')) return null;
  let total = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes('--type=renderer') || cmdline.includes('--top-chrome-webui') || cmdline.includes('--extension-process')) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (rss) total += Number(rss[1]) * 1024;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/** A deterministic shopper: distinct items drawn from the 2,000 most popular (mulberry32). */
function shopper(popular, count, seed) {
  const random = uniforms(seed);
  const pool = popular.slice(0, 2000);
  const picked = [];
  while (picked.length < count) picked.push(pool[Math.floor(random() * pool.length)]);
  return picked;
}

/** Rejects when `promise` has not settled in `ms`: a hung page fails the benchmark instead of stalling it. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(timer));
}
const MINUTES = 60_000;

const percentile = (values, q) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return +sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))].toFixed(2);
};
const summary = (values) => (values.length === 0 ? null : { n: values.length, p50: percentile(values, 0.5), p95: percentile(values, 0.95), max: percentile(values, 1) });

/**
 * CPU time (ms) used so far by each of Chromium's window-UI renderers (--top-chrome-webui), by
 * pid, from /proc; undefined where there is no /proc. One starts with each new browser window,
 * on the cores the page's worker needs.
 */
function browserUiCpu() {
  if (!existsSync('/proc/self/stat')) return undefined;
  const byPid = new Map();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--top-chrome-webui')) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      byPid.set(pid, (Number(fields[11]) + Number(fields[12])) * 10); // utime + stime, clock ticks of 10 ms
    } catch {
      // the process ended meanwhile
    }
  }
  return byPid;
}

/** The UI renderers' CPU ms between two browserUiCpu() readings (a window closed meanwhile counts nothing more). */
const browserUiCpuMs = (before, after) =>
  before && after ? [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0) : NaN;

/** End-to-end times, the worker's own times, and both split by the worker's mode. */
function summariseRuns(runs) {
  const workerRuns = runs.filter((r) => r.worker);
  const modes = {};
  for (const r of workerRuns) modes[r.worker.mode] = (modes[r.worker.mode] ?? 0) + 1;
  const byMode = Object.fromEntries(
    Object.keys(modes).map((mode) => {
      const these = workerRuns.filter((r) => r.worker.mode === mode);
      const part = (name) => summary(these.map((r) => r.worker[name]).filter((v) => typeof v === 'number'));
      return [mode, { count: these.length, e2e: summary(these.map((r) => r.ms)), worker: summary(these.map((r) => r.worker.ms)), update: part('updateMs'), score: part('scoreMs'), rank: part('rankMs'), entries: part('entriesMs'), tokens: summary(these.map((r) => r.worker.tokens)) }];
    }),
  );
  return {
    e2e: summary(runs.map((r) => r.ms)),
    worker: workerRuns.length ? summary(workerRuns.map((r) => r.worker.ms)) : null,
    modes: workerRuns.length ? modes : null,
    by_mode: workerRuns.length ? byMode : null,
  };
}

/** Long tasks of a page, each put in the phase it started in (marks: name → time, in order). */
function longTasks(long, marks = {}) {
  const phases = Object.entries(marks).sort(([, a], [, b]) => a - b);
  const phaseOf = (start) => {
    let phase = 'before start';
    for (const [name, at] of phases) if (start >= at) phase = `after ${name}`;
    return phase;
  };
  const tasks = long.tasks.map((t) => ({ start_ms: Math.round(t.start), duration_ms: Math.round(t.duration), phase: phaseOf(t.start) }));
  // Long animation frames name the scripts that ran in them: where the main-thread time went.
  const scripts = long.frames.flatMap((f) => f.scripts.filter((s) => s.duration >= 5).map((s) => ({ frame_start_ms: Math.round(f.start), duration_ms: Math.round(s.duration), invoker: s.invoker, url: s.url, fn: s.fn })));
  return {
    supported: long.supported.includes('longtask'),
    count: tasks.length,
    max_ms: tasks.length ? Math.max(...tasks.map((t) => t.duration_ms)) : 0,
    total_ms: tasks.reduce((sum, t) => sum + t.duration_ms, 0),
    tasks,
    scripts,
  };
}

const modelDir = await prepareModel();
const manifest = JSON.parse(readFileSync(join(modelDir, 'hunch.json'), 'utf8'));
const catalog = readCatalogSummary();
if (!catalog.items) throw new Error(`${modelDir}: the catalog has no products: recommendations would have no cards (export it with a catalog)`);
const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8'));
const modelFile = manifest.onnx?.variants?.[QUANT];
if (!modelFile) throw new Error(`${modelDir} has no ${QUANT} variant (hunch.json onnx.variants); export it with --quant ${QUANT}`);
const popular = catalog.popular;
const history = shopper(popular, HISTORY, 6);
const extra = shopper(popular, Math.max(ITERATIONS, 1), 7);
const sessionItems = shopper(popular, HISTORY, 8);

const server = await startStaticServer({ mounts: [['/hunch/', dist], ['/model/', modelDir]], pages: { '/bench.html': BENCH_PAGE } });
const pageUrl = `${server.url}bench.html`;
const options = (backend) => ({ model: '/model/', backend, dtype: DTYPE });
const results = {};
// The UA string is reduced (156.0.0.0): ask the binary.
const environment = { load_average_start: loadavg().map((x) => +x.toFixed(2)), chromium: /[\d.]{5,}/.exec(execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[0] ?? null };

try {
  for (const backend of BACKENDS) {
    // A persistent profile: the disk HTTP cache a returning shopper has (an off-the-record
    // context's memory cache would not keep onnxruntime-web's 27 MB wasm).
    const context = await launchChromiumProfile({ webgpu: backend === 'webgpu' });
    const out = (results[backend] = {});
    const open = async () => {
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') console.error(`[${backend} page] ${message.text()}`);
      });
      await page.goto(pageUrl);
      return page;
    };
    try {
      // 1. First visit (empty HTTP cache, empty storage): the scripted session, long tasks counted.
      server.resetStats();
      let page = await open();
      out.cross_origin_isolated = await page.evaluate(() => crossOriginIsolated);
      for (const other of context.pages()) if (other !== page) await other.close(); // the profile's initial blank tab
      if (backend === 'webgpu') {
        environment.webgpu_adapter = await page.evaluate(async () => {
          const adapter = await navigator.gpu?.requestAdapter();
          return adapter ? `${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}`.trim() : 'none';
        });
      }
      const session = await within(page.evaluate(scriptedSession, { ...options(backend), items: sessionItems, every: RECOMMEND_EVERY }), 5 * MINUTES, `${backend} scripted session`);
      await page.close();
      const { marks } = session;
      out.status = { backend: session.status.backend, dtype: session.status.dtype, modelFile: session.status.modelFile, reason: session.status.reason };
      if (session.status.backend !== backend) throw new Error(`${backend}: the SDK runs on ${session.status.backend} (${session.status.reason})`);
      out.first_visit = {
        status_ms: Math.round(marks.status - marks.imported),
        first_recommendation_ms: Math.round(marks.firstRecommendation - marks.imported),
        downloaded_bytes: server.stats().bytes,
        downloaded_by_kind: servedByKind(server.stats().served),
        files_by_kind: filesByKind(server.stats().served),
      };
      out.session = {
        track_calls: sessionItems.length,
        recommend_calls: session.recommendCalls,
        recommend_from_model: session.recommended,
        element_model_cards: session.modelCards,
        element_rendered_ms: Math.round(marks.rendered - marks.imported),
        long_tasks: longTasks(session.long, { 'page start': 0, 'import()': marks.start, 'createHunch()': marks.imported, 'status() resolved': marks.status, '50 track() calls': marks.tracked }),
      };
      console.error(`${backend}: session ${JSON.stringify({ ...out.first_visit, long_tasks: out.session.long_tasks.tasks })}`);

      // 2. Steady state on a second page (files cached): warm, incremental, intent().
      page = await open();
      const rssBefore = rendererRss();
      const steady = await within(page.evaluate(steadyState, { ...options(backend), history, extra, warmup: WARMUP, iterations: ITERATIONS }), (5 + ITERATIONS / 10) * MINUTES, `${backend} steady state`);
      out.memory = {
        renderer_rss_before_bytes: rssBefore,
        renderer_rss_after_bytes: rendererRss(),
        // The JS (and wasm) memory the browser attributes to the page's workers; null where the API is missing or slow.
        measured: await page.evaluate(async () => {
          if (typeof performance.measureUserAgentSpecificMemory !== 'function') return null;
          const timeout = new Promise((resolve) => setTimeout(() => resolve(null), 60_000));
          const result = await Promise.race([performance.measureUserAgentSpecificMemory(), timeout]);
          if (!result) return null;
          const scopeBytes = {};
          for (const entry of result.breakdown) {
            const scopes = entry.attribution.map((a) => a.scope).join('+') || 'shared';
            scopeBytes[scopes] = (scopeBytes[scopes] ?? 0) + entry.bytes;
          }
          return { total_bytes: result.bytes, by_scope: scopeBytes };
        }),
      };
      // The SDK's worker alone (its script hunch.worker*.js), through CDP (scripts/lib/worker-memory.mjs).
      out.memory.worker = await workerMemory(context, page, '/hunch/hunch.worker').catch((error) => ({ error: error.message }));
      console.error(`${backend}: memory ${JSON.stringify(out.memory)}`);
      // Opened before this page closes, so that the browser's window stays open for the cold pages.
      const otherTab = await context.newPage();
      await page.close();
      out.warm = summariseRuns(steady.warm);
      out.warm_new_question = steady.newQuestion ? summariseRuns(steady.newQuestion) : null;
      out.incremental = summariseRuns(steady.incremental);
      out.intent = steady.intent ? { ...summariseRuns(steady.intent.runs), sample: steady.intent.sample } : null;
      out.not_from_model = steady.notModel;
      out.sample = steady.sample;
      out.steady_long_tasks = longTasks(steady.long);
      console.error(`${backend}: warm ${JSON.stringify(out.warm.e2e)} new question ${JSON.stringify(out.warm_new_question?.e2e)} incremental ${JSON.stringify(out.incremental.e2e)} modes ${JSON.stringify(out.incremental.modes)}`);

      // 3. Cold starts: new pages of the same context, the runtime and model from the HTTP cache.
      // First in a browser window that stays open (a blank tab beside each page: a shopper's
      // browser already running), then with each page the only tab: Chromium then opens a new
      // window for it, and that window's own UI (a --top-chrome-webui renderer) starts alongside.
      const coldSeries = async (label) => {
        const colds = [];
        const uiCpu = [];
        server.resetStats();
        for (let i = 0; i < COLD_PAGES; i++) {
          const before = browserUiCpu();
          page = await open();
          colds.push(await within(page.evaluate(coldStart, options(backend)), 3 * MINUTES, `${backend} ${label}`));
          uiCpu.push(browserUiCpuMs(before, browserUiCpu()));
          await page.close();
        }
        const served = server.stats();
        console.error(`${backend}: ${label} ${JSON.stringify(colds.map((c) => [Math.round(c.status_ms), Math.round(c.first_recommendation_ms)]))}`);
        return {
          pages: colds.length,
          status_ms: summary(colds.map((c) => c.status_ms)),
          first_recommendation_ms: summary(colds.map((c) => c.first_recommendation_ms)),
          import_ms: summary(colds.map((c) => c.import_ms)),
          worker_ms: summary(colds.filter((c) => c.worker).map((c) => c.worker.ms)),
          // The worker's own account of each load (status().load), p50 per phase.
          load_phases_ms: Object.fromEntries(
            ['manifest', 'runtime', 'session', 'index', 'catalog', 'total'].map((phase) => [phase, summary(colds.filter((c) => c.status?.load).map((c) => c.status.load[phase]))?.p50 ?? null]),
          ),
          // CPU time of Chromium's window UI renderers while each page ran (Linux /proc; null elsewhere).
          browser_ui_cpu_ms: summary(uiCpu.filter(Number.isFinite)),
          recommendations_from_model: colds.filter((c) => c.recommendations === 20 && c.source === 'model').length,
          // Each page's own figures, in order (the first cold page is the slowest): its load's phases too.
          runs: colds.map((c) => ({ status_ms: Math.round(c.status_ms), first_recommendation_ms: Math.round(c.first_recommendation_ms), load: c.status?.load ?? null, worker: c.worker, long_tasks: longTasks(c.long).tasks.map((t) => t.duration_ms) })),
          // What the server sent for these pages: the SDK's revalidation of hunch.json (304) and the page itself.
          requests: served.requests,
          not_modified: served.notModified,
          bytes_served: served.bytes,
        };
      };
      out.cold = await coldSeries('cold start');
      await otherTab.close();
      out.cold_new_window = await coldSeries('cold start, new browser window');

      // 4. The next page with the shared worker (sharedWorker: true): one page loads the model, then
      // COLD_PAGES navigations in the same tab each find it loaded (kept across the navigation).
      page = await open();
      await within(page.evaluate(coldStart, { ...options(backend), sharedWorker: true }), 3 * MINUTES, `${backend} shared worker`);
      const nexts = [];
      for (let i = 0; i < COLD_PAGES; i++) {
        await page.goto(pageUrl);
        nexts.push(await within(page.evaluate(coldStart, { ...options(backend), sharedWorker: true }), 3 * MINUTES, `${backend} next page`));
      }
      await page.close();
      out.next_page = {
        pages: nexts.length,
        status_ms: summary(nexts.map((c) => c.status_ms)),
        first_recommendation_ms: summary(nexts.map((c) => c.first_recommendation_ms)),
        kept_loaded: nexts.filter((c) => c.status?.reason?.includes('kept loaded by the shared worker')).length,
        recommendations_from_model: nexts.filter((c) => c.recommendations === 20 && c.source === 'model').length,
        long_tasks: nexts.map((c) => longTasks(c.long).tasks.map((t) => t.duration_ms)),
      };
      console.error(`${backend}: next page ${JSON.stringify(out.next_page)}`);
    } catch (error) {
      out.error = String(error?.message ?? error).split('\n')[0];
      console.error(`${backend}: failed: ${error?.stack ?? error}`);
    } finally {
      await context.close();
    }
  }
} finally {
  await server.close();
}
environment.load_average_end = loadavg().map((x) => +x.toFixed(2));

/** onnxruntime-node and raw onnxruntime-web latency of the same file, from BENCHMARKS.md's `export` section. */
function anchor() {
  try {
    const text = readFileSync(join(root, 'BENCHMARKS.md'), 'utf8');
    const section = text.slice(text.indexOf('<!-- bench:export -->'), text.indexOf('<!-- /bench:export -->'));
    const row = (runtime) => {
      const line = section.split('\n').find((l) => l.startsWith(`| \`${modelFile}\` | ${runtime} |`));
      if (!line) return null;
      const [, , , load, forward, recommend, step] = line.split('|').map((cell) => cell.trim());
      return { load_ms: load, forward_ms: forward, recommend_ms: recommend, step_ms: step };
    };
    const date = /— (\d{4}-\d{2}-\d{2})/.exec(section)?.[1] ?? null;
    return { file: modelFile, date, node: row('onnxruntime-node'), 'chromium-wasm': row('Chromium WASM'), 'chromium-webgpu': row('Chromium WebGPU') };
  } catch {
    return null;
  }
}

const result = {
  model: {
    dir: flags.model ? resolve(flags.model) : null,
    checkpoint: flags.model || flags.generate ? null : resolve(flags.checkpoint ?? '/tmp/dg-ckpt'),
    version: manifest.version,
    items: catalog.items,
    generated: flags.generate ? true : undefined,
    n_embd: config.n_embd,
    n_layer: config.n_layer,
    n_positions: config.n_positions,
    dtype: DTYPE,
    file: modelFile,
    bytes: statSync(join(modelDir, modelFile)).size,
    hunch_json_bytes: statSync(join(modelDir, 'hunch.json')).size,
    catalog_bytes: catalog.bytes,
    catalog_files: catalog.files,
  },
  history_events: HISTORY,
  iterations: ITERATIONS,
  warmup: WARMUP,
  environment,
  budgets: BUDGETS,
  anchor: anchor(),
  results,
};

// BENCHMARKS.md
const ms = (x) => (x === null || x === undefined ? '—' : x >= 100 ? Math.round(x).toLocaleString('en') : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const pair = (s) => (s ? `${ms(s.p50)} / ${ms(s.p95)}` : '—');
const over = (value, budget) => (value === null || value === undefined ? '' : value <= budget ? ' ✓' : ' ✗');
const cell = (backend, fn) => {
  const r = results[backend];
  if (!r) return 'not run';
  try {
    return fn(r) ?? '—';
  } catch {
    return r.error ? `failed: ${r.error.replace(/\|/g, '/')}` : '—';
  }
};
const modes = (s) => (s?.modes ? Object.entries(s.modes).map(([mode, n]) => `${n} ${mode}`).join(', ') : 'not reported (SDK without `lastInference`)');
/** The worker's later parts (SDKs that report them): the items' softmax pass, the top items with their vocabulary shards, the catalog entries with their shards. */
const parts = (m) => (m.score?.n ? `, the softmax ${pair(m.score)}, the top items ${pair(m.rank)}, the catalog entries ${pair(m.entries)}` : '');
const byMode = (s) =>
  s?.by_mode ? Object.entries(s.by_mode).map(([mode, m]) => `${mode}: ${pair(m.e2e)} (worker ${pair(m.worker)}, of which the update ${pair(m.update)}${parts(m)}; ${m.tokens?.p50 ?? '?'} tokens)`).join('; ') : '—';
const backendName = (b) => (b === 'wasm' ? 'WASM' : `WebGPU (${environment.webgpu_adapter ?? 'adapter ?'})`);
const rows = [
  ['warm `recommend({ k: 20 })`, the same question again (the worker may reuse its answer), page → page, ms p50 / p95', (r) => `${pair(r.warm.e2e)}${over(r.warm.e2e.p50, BUDGETS.warm_p50_ms)}${over(r.warm.e2e.p95, BUDGETS.warm_p95_ms)}`, `p50 ≤ ${BUDGETS.warm_p50_ms}, p95 ≤ ${BUDGETS.warm_p95_ms}`],
  ['— of which in the worker (`lastInference.ms`), p50 / p95; modes', (r) => (r.warm.worker ? `${pair(r.warm.worker)}; ${modes(r.warm)}` : modes(r.warm)), ''],
  [
    'warm `recommend({ k: 20 })`, a new question each call (another product excluded, same history: no answer to reuse, the ranking runs), page → page, ms p50 / p95',
    (r) => `${pair(r.warm_new_question.e2e)}${over(r.warm_new_question.e2e.p50, BUDGETS.new_question_p50_ms)}`,
    `p50 ≤ ${BUDGETS.new_question_p50_ms} (issue 23, at 1M items)`,
  ],
  ['— of which in the worker (`lastInference.ms`), p50 / p95; modes', (r) => (r.warm_new_question.worker ? `${pair(r.warm_new_question.worker)}; ${modes(r.warm_new_question)}` : modes(r.warm_new_question)), ''],
  ['— by mode: page ms p50 / p95 (worker ms, its parts)', (r) => byMode(r.warm_new_question), ''],
  [
    'incremental update after one event, in the worker (`lastInference.updateMs`: encode, one KV-cache step, every token scored), ms p50 / p95',
    (r) => (r.incremental.by_mode?.incremental?.update ? `${pair(r.incremental.by_mode.incremental.update)}${over(r.incremental.by_mode.incremental.update.p50, BUDGETS.incremental_p50_ms)}` : 'not in this SDK build'),
    `p50 ≤ ${BUDGETS.incremental_p50_ms}`,
  ],
  ['incremental end to end: `track()` one view_item + `recommend()`, page → page, ms p50 / p95', (r) => `${pair(r.incremental.e2e)}${over(r.incremental.e2e.p50, BUDGETS.incremental_p50_ms)}`, `p50 ≤ ${BUDGETS.incremental_p50_ms} (if read end to end)`],
  ['— worker modes', (r) => modes(r.incremental), ''],
  ['— by mode: page ms p50 / p95 (worker ms, its parts, tokens run)', (r) => byMode(r.incremental), ''],
  ['`intent()`, ms p50 / p95', (r) => (r.intent ? `${pair(r.intent.e2e)}${r.intent.worker ? ` (worker ${pair(r.intent.worker)}; ${modes(r.intent)})` : ''}` : 'not in this SDK build'), ''],
  [`cold start, new page and worker in the open browser (${COLD_PAGES}×): \`createHunch()\` → \`status()\`, ms p50 / max`, (r) => `${ms(r.cold.status_ms.p50)} / ${ms(r.cold.status_ms.max)}${over(r.cold.status_ms.p50, BUDGETS.cold_ms)}`, `≤ ${BUDGETS.cold_ms}`],
  ['cold start: `createHunch()` → first recommendation, ms p50 / max', (r) => `${ms(r.cold.first_recommendation_ms.p50)} / ${ms(r.cold.first_recommendation_ms.max)}${over(r.cold.first_recommendation_ms.p50, BUDGETS.cold_ms)}`, `≤ ${BUDGETS.cold_ms}`],
  ['— the worker’s load, p50 ms (`status().load`)', (r) => phaseCell(r.cold), ''],
  [
    `cold start as the only tab: Chromium opens a new window, whose UI starts alongside (${COLD_PAGES}×): → \`status()\` / → first recommendation, ms p50 / max; the worker's load; the window UI's CPU ms p50`,
    (r) =>
      r.cold_new_window
        ? `${ms(r.cold_new_window.status_ms.p50)} / ${ms(r.cold_new_window.status_ms.max)}; ${ms(r.cold_new_window.first_recommendation_ms.p50)} / ${ms(r.cold_new_window.first_recommendation_ms.max)}; ${phaseCell(r.cold_new_window)}; window UI ${ms(r.cold_new_window.browser_ui_cpu_ms?.p50)} (open browser: ${ms(r.cold.browser_ui_cpu_ms?.p50)})`
        : '—',
    '',
  ],
  [
    `next page, shared worker (\`sharedWorker: true\`, ${COLD_PAGES}× a navigation): → \`status()\` / → first recommendation, ms p50 / max`,
    (r) => `${ms(r.next_page.status_ms.p50)} / ${ms(r.next_page.status_ms.max)}; ${ms(r.next_page.first_recommendation_ms.p50)} / ${ms(r.next_page.first_recommendation_ms.max)}${over(r.next_page.first_recommendation_ms.p50, BUDGETS.cold_ms)} (model kept on ${r.next_page.kept_loaded} of ${r.next_page.pages} pages)`,
    `≤ ${BUDGETS.cold_ms}`,
  ],
  ['first visit (empty cache): → `status()` / → first recommendation, ms', (r) => `${ms(r.first_visit.status_ms)} / ${ms(r.first_visit.first_recommendation_ms)} (${(r.first_visit.downloaded_bytes / 1e6).toFixed(1)} MB served)`, ''],
  ['— first visit downloads by kind, MB (files)', (r) => Object.entries(r.first_visit.downloaded_by_kind ?? {}).map(([kind, bytes]) => `${kind} ${(bytes / 1e6).toFixed(2)} (${r.first_visit.files_by_kind?.[kind] ?? '?'})`).join(', '), ''],
  [
    'memory after the steady state: renderer (page + worker) resident MB before `createHunch()` → after; JS/wasm by scope (`measureUserAgentSpecificMemory`), MB',
    (r) =>
      r.memory
        ? `${(r.memory.renderer_rss_before_bytes / 1e6).toFixed(1)} → ${(r.memory.renderer_rss_after_bytes / 1e6).toFixed(1)}; ${r.memory.measured ? Object.entries(r.memory.measured.by_scope).map(([scope, bytes]) => `${scope} ${(bytes / 1e6).toFixed(1)}`).join(', ') : 'not measured'}`
        : '—',
    '',
  ],
  [
    "— the SDK's worker alone (CDP on the worker target: V8 heap used + Blink + ArrayBuffers + WebAssembly memories), MB",
    (r) => {
      const w = r.memory?.worker;
      if (!w || w.error || !w.workers) return w?.error ? `not measured (${w.error.replace(/\|/g, '/')})` : 'not measured (no worker)';
      const mb = (bytes) => (bytes / 1e6).toFixed(1);
      return `${mb(w.total_bytes)}${over(w.total_bytes / 1e6, BUDGETS.worker_memory_mb)} (heap ${mb(w.js_heap_used_bytes)}, Blink ${mb(w.blink_bytes)}, ArrayBuffers ${mb(w.array_buffer_bytes)}, wasm ${mb(w.wasm_memory_bytes)})`;
    },
    `< ${BUDGETS.worker_memory_mb} MB`,
  ],
  [
    `long tasks (≥ 50 ms) on the page, scripted session: count, max ms`,
    (r) => `${r.session.long_tasks.count}, ${r.session.long_tasks.max_ms}${over(r.session.long_tasks.count, BUDGETS.long_tasks)}`,
    `${BUDGETS.long_tasks}`,
  ],
  ['— their phases (ms)', (r) => (r.session.long_tasks.count ? phaseList(r.session.long_tasks.tasks) : 'none'), ''],
  ['— scripts in the long animation frames (invoker: ms)', (r) => loafList(r.session.long_tasks.scripts), ''],
  ['long tasks on the cold-start pages (per page, ms)', (r) => r.cold.runs.map((c) => (c.long_tasks.length ? c.long_tasks.join(' + ') : '0')).join('; '), ''],
];
function phaseCell(series) {
  return Object.values(series.load_phases_ms ?? {}).some((v) => v != null) ? Object.entries(series.load_phases_ms).map(([phase, v]) => `${phase} ${ms(v)}`).join(', ') : 'not in this SDK build';
}
function loafList(scripts) {
  const by = {};
  for (const s of scripts) by[s.invoker || '?'] = (by[s.invoker || '?'] ?? 0) + s.duration_ms;
  const list = Object.entries(by).sort(([, a], [, b]) => b - a);
  return list.length ? list.map(([invoker, d]) => `\`${invoker.replace(/\|/g, '/')}\` ${d}`).join(', ') : 'none';
}
function phaseList(tasks) {
  const by = {};
  for (const t of tasks) (by[t.phase] ??= []).push(t.duration_ms);
  return Object.entries(by).map(([phase, d]) => `${phase}: ${d.join(', ')}`).join('; ');
}
const a = result.anchor;
const anchorLine = a?.node
  ? `Anchor (BENCHMARKS.md \`export\` section${a.date ? `, ${a.date}` : ''}, the same \`${a.file}\`, 50 tokens, ms p50 / p95): onnxruntime-node recommend ${a.node.recommend_ms}, one-event step ${a.node.step_ms}; ` +
    `raw onnxruntime-web in Chromium (no SDK): WASM recommend ${a['chromium-wasm']?.recommend_ms ?? '—'}, step ${a['chromium-wasm']?.step_ms ?? '—'}; WebGPU recommend ${a['chromium-webgpu']?.recommend_ms ?? '—'}, step ${a['chromium-webgpu']?.step_ms ?? '—'}.`
  : 'Anchor: no `export` section in BENCHMARKS.md for this file (run `npm run bench:export`).';
const commandFlags = [
  flags.model ? '--model MODEL' : flags.generate ? `--generate ${flags.generate}` : flags.checkpoint ? '--checkpoint CHECKPOINT' : '',
  ...['iterations', 'warmup', 'cold', 'backends', 'dtype', 'section'].filter((name) => flags[name] !== DEFAULTS[name]).map((name) => `--${name} ${flags[name]}`),
].filter(Boolean);
const command = `npm run bench:inference${commandFlags.length ? ` -- ${commandFlags.join(' ')}` : ''}`;
replaceSection(
  join(root, 'BENCHMARKS.md'),
  flags.section,
  [
    `## Inference: the model on the shop's page — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `\`${command}\` — Chromium ${environment.chromium ?? '?'}, the built SDK (\`hunch.esm.js\`; on WASM \`hunch.worker.wasm.js\`, on WebGPU \`hunch.worker.js\`, each with its onnxruntime module \`hunch.worker*.ort.js\` when a model needs it; \`ort/\`) through its public API, served over HTTP ` +
      `(cacheable, revalidated with ETags) to a cross-origin-isolated page. ${flags.generate ? 'A generated model (random weights, scripts/lib/generated-model.mjs)' : flags.model ? 'The exported model MODEL' : 'The Diginetica model'} (${result.model.items.toLocaleString('en')} items, n_embd ${result.model.n_embd}, ${result.model.n_layer} layers), ` +
      `\`${modelFile}\` (dtype \`${DTYPE}\`, ${(result.model.bytes / 1e6).toFixed(1)} MB; hunch.json ${(result.model.hunch_json_bytes / 1e6).toFixed(2)} MB, catalog ${(result.model.catalog_bytes / 1e6).toFixed(1)} MB in ${result.model.catalog_files} file${result.model.catalog_files === 1 ? '' : 's'}) on ${BACKENDS.length > 1 ? 'both backends' : BACKENDS[0]}${BACKENDS.includes('webgpu') && DTYPE !== 'q4' ? " (the SDK's own default on WebGPU is q4)" : ''}; a ${HISTORY}-event view_item history. ` +
      `p50 / p95 of ${ITERATIONS} calls after ${WARMUP} warm-ups; "page" times are end to end from the page (\`performance.now()\`, 5 µs), "worker" times are \`status().lastInference.ms\`; incremental calls are 50 ms apart (a shopper's think time, outside the timed span: each event's IndexedDB write lands in it). ✓ / ✗: within / over budget (issue 6).`,
    '',
    `| measurement | ${BACKENDS.map(backendName).join(' | ')} | budget (ms) |`,
    `| --- | ${BACKENDS.map(() => '---').join(' | ')} | --- |`,
    ...rows.map(([label, fn, budget]) => `| ${label} | ${BACKENDS.map((b) => cell(b, fn)).join(' | ')} | ${budget} |`),
    '',
    anchorLine,
    '',
    `Machine load (1-minute load average, 2 cores): ${environment.load_average_start[0]} at the start, ${environment.load_average_end[0]} at the end.`,
    '',
    'Cold start: a new page in the browser context of the first visit, so the SDK, onnxruntime-web\'s wasm and the model come from the HTTP cache ' +
      '(hunch.json is revalidated: 304); the 50-event history is already in IndexedDB. A blank tab stays open beside each cold page (the browser ' +
      'is already running, its window open), except in the "only tab" row: there Chromium opens a new window for the page, and that window\'s UI ' +
      '(a `--top-chrome-webui` renderer, its CPU time in that row) starts on the same two cores while the SDK loads. Scripted session: the first visit (empty cache and storage): ' +
      `\`import()\` of the SDK, \`createHunch()\`, a \`<hunch-recommendations>\` element, ${HISTORY} \`track('view_item')\` calls in separate tasks with \`recommend({ k: 20 })\` every ${RECOMMEND_EVERY}.`,
  ].join('\n'),
);
console.log(JSON.stringify(result));
