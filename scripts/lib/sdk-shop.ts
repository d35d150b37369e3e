/**
 * The Hunch SDK's own recommendation path, run in Node for the closed-loop simulation
 * (closed-loop.ts): what a shopper's browser would show at a placement, given their events.
 *
 * Real SDK code (imported from packages/browser/src, no bundle of the browser needed):
 * - loading: the worker's readManifest / readCatalog (hash-checked against hunch.json) and
 *   loadModel on the 'wasm' backend, which picks the int8 file (model_quantized.onnx) and runs it
 *   on the worker's own GPT-2 engine (worker/gpt2) with its int8 item head, as a browser
 *   without WebGPU does;
 * - predicting: IncrementalContext (events → tokens by @hunch/core's Vocabulary, the context
 *   window of planContext), the JS softmax (softmax/item-scores.ts, the WASM pass's reference) and topListedItems (ranking.ts);
 * - acting: createRecommender (exclusions: the shop's `exclude`, what is in the cart or was
 *   bought, what the page's other placements show; the popular fallback) over createPredictor
 *   (the history limit, the global holdout's gate: a held-out shopper gets the popular list)
 *   and createCatalog (the popular list read page by page).
 *
 * Replicated, because it is not exported or needs a browser:
 * - the worker's `predict` handler (worker.ts keeps its `api` object private; ~10 lines here:
 *   context → referenceItemScores → topListedItems → catalog entries; its intent signals, nextAction and
 *   categories, are left empty: recommend() does not read them), and its `catalog` handler;
 * - the network: fetch of file: URLs is answered from disk while the model loads (Node's fetch
 *   has no file: scheme), and there is no Cache API (none in Node: the SDK then skips caching);
 * - the device's store is an array of the shopper's events (the SDK's ConsentedStore.recent),
 *   and consent is granted.
 *
 * Each device (one shopper under one arm) has its own IncrementalContext, as a browser has its
 * worker: a request runs only the events new since the last one. Answers are cached per distinct
 * model input (the window's tokens: `predictions`), so that shoppers who did the same things
 * cost one run; a cached answer is the one the worker computes whenever the history fits the
 * model's context (64 tokens, 50 events), where the window is the whole history: `truncated`
 * counts the requests whose history did not.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isBehaviourEvent, type CatalogIndex, type CatalogItem, type HunchEvent } from '@hunch/core';
import { createCatalog } from '../../packages/browser/src/catalog.js';
import type { Consent } from '../../packages/browser/src/consent.js';
import type { ConsentedStore } from '../../packages/browser/src/consented-store.js';
import type { ModelClient } from '../../packages/browser/src/model-client.js';
import { createPredictor } from '../../packages/browser/src/predictor.js';
import { createRecommender } from '../../packages/browser/src/recommend/recommender.js';
import { planContext } from '../../packages/browser/src/worker/context.js';
import { IncrementalContext } from '../../packages/browser/src/worker/incremental.js';
import { loadModel, type LoadedModel } from '../../packages/browser/src/worker/loaded-model.js';
import { readCatalog, readManifest } from '../../packages/browser/src/worker/manifest.js';
import type { CatalogAnswer, CatalogRequest, Prediction, PredictRequest } from '../../packages/browser/src/worker/protocol.js';
import { topListedItems } from '../../packages/browser/src/worker/ranking.js';
import { referenceItemScores, type ItemScores } from '../../packages/browser/src/worker/softmax/item-scores.js';

/** The SDK's default history limit (createHunch's historyLimit). */
export const HISTORY_LIMIT = 50;

/** What a placement asks: recommend({ k, exclude, placement }). */
export interface PlacementRequest {
  k: number;
  exclude?: string[];
  placement: string;
}

/** One shopper's device under one arm: the SDK's recommender over the shopper's events. */
export interface ShopDevice {
  /** The ids shown, in order. */
  recommend(request: PlacementRequest): Promise<string[]>;
  /** A new page: its placements start afresh (what a page_view does in the SDK). */
  newPage(): void;
}

export interface SdkShop {
  /** The model's catalog (catalog.json), most popular first. */
  products: CatalogItem[];
  /** The popular list, most popular first. */
  popular: string[];
  modelVersion: string;
  /** What ran the model: engine and file. */
  engine: { backend: string; engine: string; file: string; itemScoring: string };
  /**
   * A device for a shopper whose stored events are `events` (read live: events appended later
   * are seen by later requests). `heldOut`: the SDK's global holdout (popular items only).
   */
  device(events: readonly HunchEvent[], options: { heldOut: boolean }): ShopDevice;
  stats: { requests: number; modelRuns: number; truncated: number };
}

/** fetch that answers file: URLs from disk (Node's has no file: scheme), for the load only. */
async function withFileFetch<T>(task: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (url.protocol !== 'file:') return original(input, init);
    try {
      return new Response(readFileSync(fileURLToPath(url)));
    } catch {
      return new Response(null, { status: 404 });
    }
  }) as typeof fetch;
  try {
    return await task();
  } finally {
    globalThis.fetch = original;
  }
}

/** The shipped demo model's directory (models/demo), as a file: URL ending in '/'. */
export const demoModelUrl = (): string => new URL('../../models/demo/', import.meta.url).href;

/**
 * Loads the model directory at `modelUrl` (a file: URL or a path) as the SDK's worker does on
 * WASM. `cacheLimit`: most distinct histories whose item probabilities are kept (0: none, every
 * request runs the model on the device's context, as the worker does).
 */
export async function loadSdkShop(modelUrl: string = demoModelUrl(), { cacheLimit = 200_000 } = {}): Promise<SdkShop> {
  const url = /^[a-z]+:/i.test(modelUrl) ? (modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`) : pathToFileURL(modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`).href;
  const { loaded, catalog } = await withFileFetch(async () => {
    const { manifest } = await readManifest(url);
    const catalog: CatalogIndex = await readCatalog(url, manifest);
    const loaded: LoadedModel = await loadModel(url, manifest, 'wasm');
    return { loaded, catalog };
  });
  const stats = { requests: 0, modelRuns: 0, truncated: 0 };
  const limits = { maxTokens: loaded.manifest.encoding.maxLength, maxEvents: HISTORY_LIMIT };
  /** Item probabilities (aligned with loaded.items) per distinct model input. */
  const predictions = new Map<string, ItemScores>();
  const entriesOf = (ids: Iterable<string>): CatalogItem[] => {
    const found = new Map<string, CatalogItem>();
    for (const id of ids) {
      const item = catalog.entry(id);
      if (item) found.set(id, item);
    }
    return [...found.values()];
  };

  /** The worker's predict handler (worker.ts) on the device's own running context, answers cached per distinct model input. */
  async function predict(context: IncrementalContext, { events: sent, maxEvents, k, exclude, lookup = [] }: PredictRequest): Promise<Prediction> {
    stats.requests++;
    // Behaviour only, as the worker reads them (an experiment's exposures encode to no token).
    const events = sent.filter((event) => isBehaviourEvent(event.name));
    const encoded = events.map((event) => ({ id: event.id, tokens: loaded.vocabulary.eventTokens(event).map((token) => loaded.vocabulary.id(token)) }));
    const plan = planContext(encoded, loaded.vocabulary.bos, { ...limits, maxEvents }, undefined);
    if (plan.window.eventIds.length < events.length) stats.truncated++;
    const key = plan.window.tokenIds.join(',');
    let scores = predictions.get(key);
    if (!scores) {
      stats.modelRuns++;
      const { logits } = await context.next(events, maxEvents);
      // The JS softmax (its own arrays: the logits buffer is reused, and these are kept).
      scores = referenceItemScores(logits, loaded.items.tokens);
      if (cacheLimit > 0) {
        if (predictions.size >= cacheLimit) predictions.delete(predictions.keys().next().value!);
        predictions.set(key, scores);
      }
    }
    const items = await topListedItems(scores, loaded.items, k, new Set(exclude));
    return {
      items,
      candidates: [],
      nextAction: {},
      categories: [],
      entries: entriesOf([...items.map(({ itemId }) => itemId), ...lookup]),
      modelVersion: loaded.manifest.version,
      stats: { mode: 'full', tokens: plan.window.tokenIds.length, contextTokens: plan.window.tokenIds.length, updateMs: 0, ms: 0 },
    };
  }

  /** The worker's catalog handler (worker.ts). */
  async function catalogAnswer({ ids, popular }: CatalogRequest): Promise<CatalogAnswer> {
    const end = popular ? popular.offset + popular.count : 0;
    return {
      items: entriesOf(ids),
      popular: popular ? entriesOf(catalog.popular.slice(popular.offset, end)) : [],
      morePopular: end < catalog.popular.length,
      modelVersion: loaded.manifest.version,
    };
  }

  const consent = { allows: () => true } as unknown as Consent;
  // The popular list names every product of a Hunch catalog (catalog.json: most popular first).
  const products = catalog.popular.flatMap((id) => catalog.entry(id) ?? []);

  return {
    products,
    popular: [...catalog.popular],
    modelVersion: loaded.manifest.version,
    engine: { backend: loaded.backend, engine: loaded.runner.engine, file: loaded.variant.file, itemScoring: loaded.runner.itemScoring },
    stats,
    device(events, { heldOut }) {
      const store = { recent: async (count: number) => events.slice(-count) } as unknown as ConsentedStore;
      // One worker per device, as in a browser: its context extends from request to request.
      let context: IncrementalContext | undefined;
      const client = { predict: (request: PredictRequest) => predict((context ??= new IncrementalContext(loaded)), request), catalog: catalogAnswer } as unknown as ModelClient;
      const sdkCatalog = createCatalog(url, () => client);
      const predictor = createPredictor(consent, store, sdkCatalog, () => client, HISTORY_LIMIT, () => heldOut);
      const recommender = createRecommender(consent, sdkCatalog, predictor);
      return {
        async recommend({ k, exclude = [], placement }) {
          return (await recommender.recommend({ k, exclude, placement })).map((rec) => rec.item.id);
        },
        newPage: () => recommender.newPage(),
      };
    },
  };
}
