/**
 * The model worker: owns the GPT-2 (through transformers.js on onnxruntime-web) so that
 * loading and inference never touch the shop's main thread. One model at a time; requests
 * run one after another, each extending the running context (incremental.ts). Started as a
 * SharedWorker (HunchOptions.sharedWorker), it serves every page of the shop that connects:
 * a page after a navigation finds the model loaded.
 */
import { expose } from 'comlink';
import { loadOnBestBackend } from './backend.js';
import { IncrementalContext } from './incremental.js';
import type { LoadedModel } from './loaded-model.js';
import { itemDistribution, topItems, type ItemDistribution } from './ranking.js';
import { manifestUnchanged, readModelDirectory, type ModelDirectoryRead } from './manifest.js';
import { dropPrefetched, prefetchModelFiles } from './model-files.js';
import { likelyWasmFile } from './variant.js';
import { backendBundled } from './ort/build.js';
import { categoryIndex, categoryScores, nextActionProbabilities, type CategoryIndex } from './signals.js';
import { CATALOG_FILE, type CatalogIndex, type CatalogItem } from '@hunch/core';
import type { CatalogAnswer, CatalogRequest, LoadRequest, LoadResult, ModelWorkerApi, Prediction, PredictRequest, ScoredItem } from './protocol.js';

/** How many categories a prediction names. */
const TOP_CATEGORIES = 5;

interface Running {
  loaded: LoadedModel;
  /** The model's catalog.json: the entries predictions return, the items' categories. */
  catalog: CatalogIndex;
  context: IncrementalContext;
  /** Item id -> index in loaded.items, for scoring candidates: built by the first request with candidates (rerank), not at load. */
  itemIndex?: ReadonlyMap<string, number>;
  categories: CategoryIndex;
  /** The item probabilities' buffer, reused by every prediction. */
  probabilities: Float32Array;
  /** The item distribution of the last logits (by ContextAnswer.version): a repeated question (nothing new) skips the softmax over the catalog. */
  lastDistribution?: { version: number; distribution: ItemDistribution };
}

let running: Running | undefined;
/** The load that made `running`, its answer and hunch.json's validator: a page asking for the same, unchanged model gets it at once. */
let current: { request: LoadRequest; result: LoadResult; validator: string | undefined } | undefined;

/** Requests share one model and one cache: each waits for the one before. */
let queue: Promise<unknown> = Promise.resolve();
function serially<T>(task: () => Promise<T>): Promise<T> {
  const result = queue.then(task, task);
  queue = result.catch(() => undefined);
  return result;
}

/**
 * hunch.json and catalog.json of the model directory last asked for: catalog requests answer
 * from them while the model loads.
 */
let directoryRead: ModelDirectoryRead | undefined;

/** The catalog entries of `ids` that exist, each once. */
function entriesOf(ids: Iterable<string>, catalog: CatalogIndex): CatalogItem[] {
  const found = new Map<string, CatalogItem>();
  for (const id of ids) {
    const item = catalog.entry(id);
    if (item) found.set(id, item);
  }
  return [...found.values()];
}

function release(): void {
  running?.context.dispose();
  void running?.loaded.runner.dispose();
  running = undefined;
  current = undefined;
}

/** Whether `a` and `b` ask for the same model on the same terms (the remembered race aside). */
function sameLoad(a: LoadRequest, b: LoadRequest): boolean {
  return a.modelUrl === b.modelUrl && a.backend === b.backend && a.dtype === b.dtype;
}

/** The running model's answer for another page (a shared worker's): nothing was loaded for it. */
function reused({ result }: NonNullable<typeof current>, started: number): LoadResult {
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
  if (loading && sameLoad(loading.request, request)) await loading.result.catch(() => undefined);
  const loaded = current;
  if (running && loaded && sameLoad(loaded.request, request) && (await manifestUnchanged(request.modelUrl, loaded.validator)) && current === loaded) {
    return reused(loaded, started);
  }
  const result = loadAnew(request, started);
  const pending = { request, result };
  loading = pending;
  void result.catch(() => undefined).finally(() => {
    if (loading === pending) loading = undefined;
  });
  return result;
}

/** The load in progress (loadAnew), for a page asking for the same model meanwhile. */
let loading: { request: LoadRequest; result: Promise<LoadResult> } | undefined;

async function loadAnew(request: LoadRequest, started: number): Promise<LoadResult> {
  // Read now, not after the queue: catalog requests wait only for these.
  const read = readModelDirectory(request.modelUrl);
  directoryRead = read;
  // The cached copies are read meanwhile (model-files.ts): the catalog's always, the model file's when sure to run on WASM.
  const wasmCertain = request.backend === 'wasm' || (request.backend === 'auto' && !backendBundled('webgpu'));
  prefetchModelFiles(request.modelUrl, wasmCertain ? [CATALOG_FILE, likelyWasmFile(request.dtype)] : [CATALOG_FILE]);
  return serially(async (): Promise<LoadResult> => {
    const { manifest, validator, ms: manifestMs } = await read.manifest;
    // Loaded meanwhile for another page (same request, same hunch.json): keep it.
    if (running && current && sameLoad(current.request, request) && current.result.modelVersion === manifest.version) return reused(current, started);
    release();
    const { loaded, reason, raced } = await loadOnBestBackend(request, manifest);
    // Without its catalog a model has nothing to show: the load fails as for any broken model file.
    const { catalog, ms: catalogMs } = await read.catalog.catch(async (error: unknown) => {
      await loaded.runner.dispose();
      throw error;
    });
    running = {
      loaded,
      catalog,
      context: new IncrementalContext(loaded),
      categories: categoryIndex(loaded.items, catalog),
      probabilities: new Float32Array(loaded.items.length),
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
    current = { request, result, validator };
    return result;
  }).finally(dropPrefetched);
}

const api: ModelWorkerApi = {
  load: (request: LoadRequest) => loadModelFor(request),

  predict: ({ events, maxEvents, k, exclude, candidates = [], lookup = [] }: PredictRequest) =>
    serially(async (): Promise<Prediction> => {
      if (!running) throw new Error('no model loaded');
      const started = performance.now();
      const state = running;
      const { loaded, context, categories } = state;
      const { logits, version, stats } = await context.next(events, maxEvents);
      if (state.lastDistribution?.version !== version) {
        state.lastDistribution = { version, distribution: itemDistribution(logits, loaded.itemTokens, state.probabilities) };
      }
      const { probabilities, logSumExp } = state.lastDistribution.distribution;
      const itemIndex = candidates.length === 0 ? undefined : (state.itemIndex ??= new Map(loaded.items.map(({ itemId }, i) => [itemId, i])));
      const scored = candidates.flatMap((itemId): ScoredItem[] => {
        const index = itemIndex!.get(itemId);
        return index === undefined ? [] : [{ itemId, score: probabilities[index]! }];
      });
      const items = topItems(probabilities, loaded.items, k, new Set(exclude));
      return {
        items,
        candidates: scored.sort((a, b) => b.score - a.score),
        nextAction: nextActionProbabilities(logits, loaded.actions, logSumExp),
        categories: categoryScores(probabilities, categories, TOP_CATEGORIES),
        entries: entriesOf([...items.map(({ itemId }) => itemId), ...lookup], state.catalog),
        modelVersion: loaded.manifest.version,
        stats: { ...stats, ms: performance.now() - started },
      };
    }),

  async catalog({ ids, popular }: CatalogRequest): Promise<CatalogAnswer> {
    if (!directoryRead) throw new Error('no model directory given yet: load() first');
    const [{ manifest }, { catalog }] = await Promise.all([directoryRead.manifest, directoryRead.catalog]);
    const end = popular ? popular.offset + popular.count : 0;
    return {
      items: entriesOf(ids, catalog),
      popular: popular ? entriesOf(catalog.popular.slice(popular.offset, end), catalog) : [],
      morePopular: end < catalog.popular.length,
      modelVersion: manifest.version,
    };
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
