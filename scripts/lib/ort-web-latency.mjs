// Load time and forward / recommend / step latency of exported ONNX files in real Chromium, on onnxruntime-web's
// WASM and WebGPU backends: the runtime build transformers.js uses (onnxruntime-web/webgpu,
// self-hosted), files served over HTTP from a local server, one session at a time in a page.
// Used by scripts/bench-export.mjs; the Node side of the same measurement lives there.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** onnxruntime-web's dist folder, resolved from transformers.js as the SDK build does (rollup.parts.mjs). */
function ortWebDist() {
  const fromBrowser = createRequire(join(root, 'packages', 'browser', 'package.json'));
  const fromTransformers = createRequire(fromBrowser.resolve('@huggingface/transformers'));
  return dirname(fromTransformers.resolve('onnxruntime-web'));
}

const TYPES = { '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream', '.html': 'text/html' };

/** A static server: /model/ → modelDir, /ort/ → onnxruntime-web's dist, / → a blank page. */
async function serve(modelDir) {
  const mounts = [['/model/', modelDir], ['/ort/', ortWebDist()]];
  const server = createServer(async (request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://localhost');
    const mount = mounts.find(([prefix]) => pathname.startsWith(prefix));
    const relative = mount && normalize(decodeURIComponent(pathname.slice(mount[0].length)));
    const file = relative && !relative.startsWith('..') ? join(mount[1], relative) : undefined;
    const info = file && (await stat(file).catch(() => undefined));
    if (pathname === '/') {
      response.writeHead(200, { 'content-type': TYPES['.html'] }).end('<!doctype html><meta charset="utf-8"><title>bench</title>');
    } else if (info?.isFile()) {
      // Cacheable, as a shop would serve model files: later pages read them from the HTTP cache.
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': info.size, 'cache-control': 'max-age=3600' });
      createReadStream(file).pipe(response);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/**
 * Runs in the page: creates a session for `file` on `backend`, then times `runs` forwards over
 * `tokens` (empty cache) with logits for every position, `runs` recommend forwards (the same
 * with num_logits_to_keep = 1: the last position's logits only; all of them for a graph without
 * that input) and `runs` one-token steps on top of a cache of all but the last token.
 */
async function measureInPage({ file, backend, tokens, cache, runs }) {
  const ort = await import('/ort/ort.webgpu.min.mjs');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1;
  const options = { executionProviders: [backend], graphOptimizationLevel: 'all' };
  // The first session of a page also starts the runtime (instantiates its wasm, opens the GPU device).
  let started = performance.now();
  await (await ort.InferenceSession.create(`/model/${file}`, options)).release();
  const coldMs = performance.now() - started;
  started = performance.now();
  const session = await ort.InferenceSession.create(`/model/${file}`, options);
  const loadMs = performance.now() - started;

  const emptyPast = () => new ort.Tensor('float32', new Float32Array(0), [1, cache.heads, 0, cache.headDim]);
  const feeds = (ids, pastLength, past, keep = 0) => {
    const feed = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pastLength + ids.length).fill(1n), [1, pastLength + ids.length]),
    };
    for (let i = 0; i < cache.layers; i++) {
      for (const kind of ['key', 'value']) feed[`past_key_values.${i}.${kind}`] = past ? past[`present.${i}.${kind}`] : emptyPast();
    }
    if (session.inputNames.includes('num_logits_to_keep')) feed.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), []);
    return feed;
  };
  const time = async (fn) => {
    for (let i = 0; i < 3; i++) await fn();
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await fn();
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b);
  };
  const forward = await time(() => session.run(feeds(tokens, 0)));
  const recommend = await time(() => session.run(feeds(tokens, 0, undefined, 1)));
  const past = await session.run(feeds(tokens.slice(0, -1), 0));
  const step = await time(() => session.run(feeds(tokens.slice(-1), tokens.length - 1, past)));
  const numLogitsToKeep = session.inputNames.includes('num_logits_to_keep');
  await session.release();
  return { coldMs, loadMs, forward, recommend, step, numLogitsToKeep };
}

const percentile = (sorted, q) => +sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))].toFixed(2);

/**
 * Measures every file on every backend. Each (backend, file) gets a fresh page, after one
 * discarded warm-up page per backend (the first file again), so every page reads the runtime and
 * the model from the HTTP cache, as a returning shopper's would. cold_load_ms: the page's first
 * session (runtime start + model); load_ms: a second session of the same file (model only).
 * @param {{ modelDir: string, files: string[], tokens: number[], cache: { layers: number, heads: number, headDim: number }, backends?: Array<'wasm' | 'webgpu'>, runs?: number }} options
 */
export async function measureInChromium({ modelDir, files, tokens, cache, backends = ['wasm', 'webgpu'], runs = 30 }) {
  const server = await serve(modelDir);
  const results = {};
  const environment = { runtime: '' };
  try {
    for (const backend of backends) {
      const browser = await launchChromium({ webgpu: backend === 'webgpu' });
      environment.chromium = browser.version();
      const context = await browser.newContext();
      results[backend] = {};
      try {
        for (const file of [files[0], ...files]) {
          const page = await context.newPage();
          try {
            await page.goto(server.url);
            if (backend === 'webgpu') {
              environment.webgpu_adapter = await page.evaluate(async () => {
                const adapter = await navigator.gpu?.requestAdapter();
                return adapter ? `${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}`.trim() : 'none';
              });
            }
            environment.runtime = await page.evaluate(async () => (await import('/ort/ort.webgpu.min.mjs')).env.versions.web);
            const measured = await page.evaluate(measureInPage, { file, backend, tokens, cache, runs });
            results[backend][file] = {
              cold_load_ms: Math.round(measured.coldMs),
              load_ms: Math.round(measured.loadMs),
              forward_ms_p50: percentile(measured.forward, 0.5),
              forward_ms_p95: percentile(measured.forward, 0.95),
              recommend_ms_p50: percentile(measured.recommend, 0.5),
              recommend_ms_p95: percentile(measured.recommend, 0.95),
              num_logits_to_keep: measured.numLogitsToKeep,
              step_ms_p50: percentile(measured.step, 0.5),
              step_ms_p95: percentile(measured.step, 0.95),
            };
          } catch (error) {
            results[backend][file] = { error: String(error?.message ?? error).split('\n')[0] };
          } finally {
            await page.close();
          }
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    await server.close();
  }
  return { environment, results };
}
