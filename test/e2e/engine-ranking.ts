/**
 * One history's top K, computed two ways for the browser tests that compare engines: in Node by
 * onnxruntime-node from a model directory's ONNX file (with hunch.json's repeat-bonus rule), and
 * by the SDK in real Chromium (its worker, on WASM or WebGPU), served by the storefront server.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { BrowserContext } from 'playwright-core';
import { expect } from 'vitest';
import { Vocabulary, encodeHistory, type EventName, type EventParams, type HunchManifest } from '@hunch/core';
import type { startStorefront } from '../../examples/storefront/server.mjs';
import type { ModelStatus } from '../../packages/browser/src/index.js';

export type Dtype = 'fp32' | 'q8' | 'q4' | 'pq';
export type Storefront = Awaited<ReturnType<typeof startStorefront>>;
export interface HistoryEvent {
  name: EventName;
  params: EventParams;
}

export interface Ranking {
  /** Item ids, best first (ties by id, as the SDK breaks them). */
  ids: string[];
  /** Final logit (with the repeat bonus) and softmax probability over the items, by item id. */
  logit: Map<string, number>;
  probability: Map<string, number>;
}

/** What the SDK should return, computed in Node by onnxruntime-node from the same ONNX file. */
export async function nodeRanking(dir: string, manifest: HunchManifest, file: string, history: readonly HistoryEvent[], k: number, { repeat = true } = {}): Promise<Ranking> {
  const vocabulary = new Vocabulary(manifest.vocabulary, manifest.merges);
  const ids = encodeHistory([...history], vocabulary, manifest.encoding.maxLength);
  const { layers, heads, headDim } = manifest.onnx!.cache;
  const session = await ort.InferenceSession.create(join(dir, file));
  const empty = () => new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
  };
  for (let i = 0; i < layers; i++) Object.assign(feeds, { [`past_key_values.${i}.key`]: empty(), [`past_key_values.${i}.value`]: empty() });
  // Logits for every position (the SDK asks for the last only: it must get the same row).
  if (session.inputNames.includes('num_logits_to_keep')) feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(0n), []);
  const outputs = await session.run(feeds);
  await session.release();
  const V = vocabulary.size;
  const last = (outputs.logits!.data as Float32Array).slice((ids.length - 1) * V, ids.length * V);
  const rule = manifest.onnx!.repeat;
  if (rule && repeat) {
    // hunch.json onnx.repeat: the bonus at the last position, once, to every item among the inputs.
    const bonus = (outputs[rule.output]!.data as Float32Array)[ids.length - 1]!;
    const seen = new Set<number>();
    for (const id of ids) {
      if (seen.has(id) || !vocabulary.tokens[id]!.startsWith('item:')) continue;
      seen.add(id);
      last[id] = Math.fround(last[id]! + bonus);
    }
  }
  const items = vocabulary.items();
  const logit = new Map(items.map(({ tokenId, itemId }) => [itemId, last[tokenId]!]));
  const max = Math.max(...logit.values());
  const total = [...logit.values()].reduce((sum, x) => sum + Math.exp(x - max), 0);
  const probability = new Map([...logit].map(([id, x]) => [id, Math.exp(x - max) / total]));
  const ranked = items.map(({ itemId }) => itemId).sort((a, b) => logit.get(b)! - logit.get(a)! || (a < b ? -1 : 1));
  return { ids: ranked.slice(0, k), logit, probability };
}

export interface BrowserResult {
  status: ModelStatus;
  stored: Array<{ name: string; params: EventParams }>;
  recs: Array<{ id: string; score: number; source: string }>;
  onnxRequests: string[];
  loadMs: number;
  recommendMs: number;
}

/**
 * A blank page of the shop's origin with the SDK by script tag. The pages of one backend share
 * a context (so the HTTP and wasm code caches): each starts by forgetting the stored events.
 */
export async function recommendInBrowser(
  context: BrowserContext,
  storefront: Storefront,
  model: string,
  backend: 'webgpu' | 'wasm',
  dtype: Dtype | undefined,
  history: readonly HistoryEvent[],
  k: number,
  { viaTag = false } = {},
): Promise<BrowserResult> {
  const page = await context.newPage();
  const requests: string[] = [];
  const pageErrors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // viaTag: the instance the script tag makes from its data-* attributes; else createHunch().
  // A worker per page (not the shared one): Playwright sees its requests as the page's.
  const tag = viaTag ? `<script src="/hunch/hunch.js" data-model="/models/${model}/" data-backend="${backend}" data-dtype="${dtype ?? ''}" data-shared-worker="false"></script>` : '';
  const body = `<!doctype html><meta charset="utf-8"><title>variants</title>${tag}`;
  await page.route(`${storefront.url}variants.html`, (route) => route.fulfill({ contentType: 'text/html', body }));
  await page.goto(`${storefront.url}variants.html`);
  if (!viaTag) await page.addScriptTag({ url: `${storefront.url}hunch/hunch.js` });
  const result = await page.evaluate(
    async ({ model, backend, dtype, history, k }) => {
      const hunch = window.hunch ?? window.Hunch!.createHunch({ model, backend, sharedWorker: false, ...(dtype ? { dtype } : {}) });
      await hunch.forget();
      const started = performance.now();
      const status = await hunch.status();
      const loadMs = performance.now() - started;
      for (const event of history) {
        hunch.track(event.name, event.params);
        await new Promise((resolve) => setTimeout(resolve, 5)); // distinct timestamps keep the order
      }
      await hunch.flush();
      const stored = (await hunch.history()).map((event) => ({ name: event.name, params: event.params }));
      const asked = performance.now();
      const recs = (await hunch.recommend({ k })).map((rec) => ({ id: rec.item.id, score: rec.score, source: rec.source }));
      return { status, stored, recs, loadMs, recommendMs: performance.now() - asked };
    },
    { model: `/models/${model}/`, backend, dtype, history: [...history], k },
  );
  await page.close();
  expect(pageErrors).toEqual([]);
  return { ...result, onnxRequests: requests.filter((url) => url.endsWith('.onnx')).map((url) => url.slice(storefront.url.length)) };
}

/**
 * The browser's list is Node's top K, in Node's order, allowing only swaps of items whose
 * Node logits differ by at most `tolerance` (a tie broken the other way by rounding).
 */
export function expectSameTopK(browserIds: string[], node: Ranking, k: number, tolerance: number): void {
  expect(browserIds).toHaveLength(k);
  expect(new Set(browserIds).size).toBe(k);
  const off = browserIds.flatMap((id, i) => {
    const gap = Math.abs((node.logit.get(id) ?? -Infinity) - node.logit.get(node.ids[i]!)!);
    return gap > tolerance ? [`#${i + 1}: browser ${id}, node ${node.ids[i]} (logit gap ${gap.toExponential(2)})`] : [];
  });
  expect(off).toEqual([]);
}
