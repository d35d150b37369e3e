/**
 * The model worker: owns the GPT-2 (through transformers.js on onnxruntime-web) so that
 * loading and inference never touch the shop's main thread. One model at a time; requests
 * run one after another, each extending the running context (incremental.ts). Started as a
 * SharedWorker (HunchOptions.sharedWorker), it serves every page of the shop that connects:
 * a page after a navigation finds the model loaded. What it holds between requests, and how
 * that changes: state.ts.
 */
import { CATALOG_FILE, CATALOG_INDEX_FILE, isBehaviourEvent, type CatalogIndex, type CatalogItem } from '@hunch/core';
import { expose } from 'comlink';
import { loadOnBestBackend } from './backend.js';
import { IncrementalContext } from './incremental.js';
import { withNewItems } from './new-items/load.js';
import { manifestUnchanged, policyNamedBy, readModelDirectory, readPurchaseModel, type ModelDirectoryRead } from './manifest.js';
import { dropPrefetched, ModelFileMismatch, prefetchModelFiles, resumeCaching } from './model-files.js';
import { backendBundled } from './ort/build.js';
import type { CatalogAnswer, CatalogRequest, LoadRequest, LoadResult, ModelWorkerApi, PolicyAnswer, Prediction, PredictRequest, ScoredItem } from './protocol.js';
import { topListedItems } from './ranking.js';
import { categoryIndex, categoryScores, nextActionProbabilities } from './signals.js';
import { itemScoresOf } from './softmax/item-softmax.js';
import * as state from './state.js';
import type { ReadyModel, RunningModel } from './state.js';
import { likelyWasmFile } from './variant.js';

/** How many categories a prediction names. */
const TOP_CATEGORIES = 5;

/** The catalog entries of `ids` that exist, each once. */
function entriesOf(ids: Iterable<string>, catalog: CatalogIndex): CatalogItem[] {
  const found = new Map<string, CatalogItem>();
  for (const id of ids) {
    const item = catalog.entry(id);
    if (item) found.set(id, item);
  }
  return [...found.values()];
}

/** The running model's answer for another page (a shared worker's): nothing was loaded for it. */
function reused({ result }: ReadyModel, started: number): LoadResult {
  return {
    ...result,
    raced: false,
    reason: `${result.reason}; kept loaded by the shared worker`,
    timings: { manifest: 0, runtime: 0, session: 0, index: 0, catalog: 0, total: performance.now() - started },
  };
}

/**
 * Loads the model `request` asks for, unless it already runs and hunch.json is unchanged
 * (another page of a shared worker loaded it, maybe while this request waited): then that
 * one answers, after one revalidation of hunch.json instead of seconds of loading. A request
 * arriving while the same model loads for another page waits for that load first.
 */
async function loadModelFor(request: LoadRequest): Promise<LoadResult> {
  const started = performance.now();
  // Another page's load of the same model is under way (tabs restored together): wait for it
  // rather than reading and parsing hunch.json a second time alongside it.
  const underWay = state.loadUnderWay(request);
  if (underWay) await underWay.catch(() => undefined);
  // Still ready after the revalidation (no other load replaced it meanwhile): it answers.
  const ready = state.readyFor(request);
  if (ready && (await manifestUnchanged(request.modelUrl, ready.validator)) && state.ready() === ready) return reused(ready, started);
  // Read now, not after the queue: catalog requests wait only for these.
  const directory = readModelDirectory(request.modelUrl);
  const result = loadAnew(request, directory, started).catch((error: unknown) => loadAgainIfPublished(request, directory, error, started));
  state.startLoading(request, directory, result);
  return result;
}

/**
 * A model published while this load read it (`hunch retrain` replaces its files, hunch.json
 * last): a file read after the swap fails its check against the hunch.json read before. When
 * hunch.json has changed since, the load starts over, once, from the new one; otherwise (a
 * damaged or tampered file) it fails as it did.
 */
async function loadAgainIfPublished(request: LoadRequest, directory: ModelDirectoryRead, error: unknown, started: number): Promise<LoadResult> {
  const first = await directory.manifest.catch(() => undefined);
  if (!(error instanceof ModelFileMismatch) || !first || (await manifestUnchanged(request.modelUrl, first.validator))) throw error;
  const again = readModelDirectory(request.modelUrl);
  const result = loadAnew(request, again, started);
  state.startLoading(request, again, result);
  return result;
}

/**
 * Loads `request`'s model from `directory` when its turn in the queue comes: unloads the ready
 * model and loads on the best backend, unless another page's load made the same model meanwhile.
 */
async function loadAnew(request: LoadRequest, directory: ModelDirectoryRead, started: number): Promise<LoadResult> {
  // The cached copies are read meanwhile (model-files.ts): the catalog's always, the model file's when sure to run on WASM.
  const wasmCertain = request.backend === 'wasm' || (request.backend === 'auto' && !backendBundled('webgpu'));
  resumeCaching(); // a forget() heard earlier stopped it
  prefetchModelFiles(request.modelUrl, wasmCertain ? [CATALOG_FILE, CATALOG_INDEX_FILE, likelyWasmFile(request.dtype)] : [CATALOG_FILE, CATALOG_INDEX_FILE]);
  return state.serially(async (): Promise<LoadResult> => {
    const { manifest, validator, ms: manifestMs } = await directory.manifest;
    // Loaded meanwhile for another page (same request, same hunch.json): keep it.
    const ready = state.readyFor(request);
    if (ready && ready.result.modelVersion === manifest.version) return reused(ready, started);
    state.unload();
    // Small; read alongside the model. Never rejects (none on failure).
    const purchase = readPurchaseModel(request.modelUrl, manifest);
    const { loaded: ownItems, reason, raced } = await loadOnBestBackend(request, manifest);
    // Without its catalog a model has nothing to show: the load fails as for any broken model file.
    const { catalog, ms: catalogMs } = await directory.catalog.catch(async (error: unknown) => {
      await ownItems.runner.dispose();
      throw error;
    });
    // The catalog's products the model never saw, scored by their attributes when the model ships them.
    const loaded = await withNewItems(request.modelUrl, ownItems, catalog);
    const model: RunningModel = {
      loaded,
      catalog,
      context: new IncrementalContext(loaded),
      categories: categoryIndex(loaded.items, catalog),
      scoreItems: itemScoresOf(loaded.items.tokens),
      purchase: await purchase,
    };
    const { variant } = loaded;
    const result: LoadResult = {
      backend: loaded.backend,
      reason: `${reason}; ${variant.reason}`,
      dtype: variant.dtype,
      modelFile: variant.file,
      modelVersion: loaded.manifest.version,
      itemScoring: loaded.runner.itemScoring,
      engine: loaded.runner.engine,
      raced,
      timings: { manifest: manifestMs, ...loaded.timings, catalog: catalogMs, total: performance.now() - started },
    };
    state.loaded({ model, request, result, validator });
    return result;
  }).finally(dropPrefetched);
}

const api: ModelWorkerApi = {
  load: loadModelFor,

  predict: ({ events, maxEvents, k, exclude, candidates = [], lookup = [] }: PredictRequest) =>
    state.serially(async (): Promise<Prediction> => {
      const model = state.ready()?.model;
      if (!model) throw new Error('no model loaded');
      const started = performance.now();
      const { loaded, context, categories } = model;
      // Behaviour only (the page sends no exposures either): they encode to no token, and must not
      // count against maxEvents.
      const { logits, version, stats } = await context.next(events.filter((event) => isBehaviourEvent(event.name)), maxEvents);
      const excluded = new Set(exclude);
      // One pass over the items per logits (WASM: log-sum-exp and the best k + exclusions together).
      const scoring = performance.now();
      if (model.lastScores?.version !== version) model.lastScores = { version, scores: model.scoreItems(logits, k + excluded.size), tops: new Map() };
      const scoreMs = performance.now() - scoring;
      const last = model.lastScores;
      const { scores } = last;
      await loaded.items.ensureIds(candidates);
      const scored = candidates.flatMap((itemId): ScoredItem[] => {
        const index = loaded.items.indexOf(itemId);
        return index === undefined ? [] : [{ itemId, score: scores.probability(index) }];
      });
      // The same question on the same logits (a page asking again, nothing new): the same answer.
      const question = `${k}\n${[...excluded].sort().join('\n')}`;
      const ranking = performance.now();
      const items = last.tops.get(question) ?? (await topListedItems(scores, loaded.items, k, excluded));
      const rankMs = performance.now() - ranking;
      if (items.length === k) last.tops.set(question, items);
      // Every item's probability only where the catalog has categories to sum them by (a sharded one has none).
      last.categories ??= categories.names.length === 0 ? [] : categoryScores(scores.probabilities(), categories, TOP_CATEGORIES);
      const shown = [...items.map(({ itemId }) => itemId), ...lookup];
      const reading = performance.now();
      await model.catalog.ensure(shown); // a sharded catalog's shards for these
      const entriesMs = performance.now() - reading;
      return {
        items,
        candidates: scored.sort((a, b) => b.score - a.score),
        nextAction: nextActionProbabilities(logits, loaded.actions, scores.logSumExp),
        categories: last.categories,
        purchaseModel: model.purchase,
        entries: entriesOf(shown, model.catalog),
        modelVersion: loaded.manifest.version,
        stats: { ...stats, ms: performance.now() - started, scoreMs, rankMs, entriesMs },
      };
    }),

  async catalog({ ids, popular }: CatalogRequest): Promise<CatalogAnswer> {
    const directory = state.directory();
    if (!directory) throw new Error('no model directory given yet: load() first');
    const [{ manifest }, { catalog }] = await Promise.all([directory.manifest, directory.catalog]);
    const end = popular ? popular.offset + popular.count : 0;
    const popularIds = popular ? catalog.popular.slice(popular.offset, end) : [];
    await catalog.ensure([...ids, ...popularIds]);
    return {
      items: entriesOf(ids, catalog),
      popular: entriesOf(popularIds, catalog),
      morePopular: end < catalog.popular.length,
      modelVersion: manifest.version,
    };
  },

  async policy(): Promise<PolicyAnswer> {
    const directory = state.directory();
    if (!directory) throw new Error('no model directory given yet: load() first');
    return policyNamedBy((await directory.manifest).manifest);
  },
};

/**
 * Answers on the worker's own channel (a dedicated Worker) or on each page's port (a
 * SharedWorker: one `connect` per page). The entry files call it once configured.
 */
export function serveModelWorker(): void {
  const scope = self as unknown as { onconnect?: unknown; addEventListener(type: 'connect', listener: (event: MessageEvent) => void): void };
  if ('onconnect' in scope) scope.addEventListener('connect', (event) => expose(api, event.ports[0]!));
  else expose(api);
}
