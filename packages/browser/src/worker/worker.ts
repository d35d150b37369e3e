/**
 * The model worker: owns the GPT-2 (through transformers.js on onnxruntime-web) so that
 * loading and inference never touch the shop's main thread. One model at a time; requests
 * run one after another, each extending the running context (incremental.ts).
 */
import { expose } from 'comlink';
import { chooseBackend } from './backend.js';
import { IncrementalContext } from './incremental.js';
import { loadModel, type LoadedModel, type ModelManifest } from './loaded-model.js';
import { race } from './race.js';
import { itemDistribution, topItems, type ItemDistribution } from './ranking.js';
import { readManifest } from './manifest.js';
import { backendBundled } from './runtime.js';
import { categoryIndex, categoryScores, nextActionProbabilities, type CategoryIndex } from './signals.js';
import type { CatalogItem } from '@hunch/core';
import type { CatalogAnswer, CatalogRequest, LoadRequest, LoadResult, ModelWorkerApi, Prediction, PredictRequest, ScoredItem } from './protocol.js';

/** How many categories a prediction names. */
const TOP_CATEGORIES = 5;

interface Running {
  loaded: LoadedModel;
  context: IncrementalContext;
  /** Item id -> index in loaded.items, for scoring candidates. */
  itemIndex: ReadonlyMap<string, number>;
  categories: CategoryIndex;
  /** The item probabilities' buffer, reused by every prediction. */
  probabilities: Float32Array;
  /** The item distribution of the last logits (by ContextAnswer.version): a repeated question (nothing new) skips the softmax over the catalog. */
  lastDistribution?: { version: number; distribution: ItemDistribution };
}

let running: Running | undefined;

/** Requests share one model and one cache: each waits for the one before. */
let queue: Promise<unknown> = Promise.resolve();
function serially<T>(task: () => Promise<T>): Promise<T> {
  const result = queue.then(task, task);
  queue = result.catch(() => undefined);
  return result;
}

/**
 * The model on the chosen backend. 'auto' with a WebGPU adapter races both backends (once per
 * model version and device: the page remembers the winner); a failing WebGPU falls back to WASM.
 */
async function loadOnBestBackend(
  { modelUrl, backend: preference, dtype, remembered }: LoadRequest,
  read: ModelManifest,
): Promise<{ loaded: LoadedModel; reason: string; raced: boolean }> {
  const load = (backend: LoadedModel['backend']) => loadModel(modelUrl, read, backend, dtype);
  const earlier = remembered && `${remembered.reason} (an earlier visit's result)`;
  // The WASM-only bundle cannot race: 'auto' means WASM there ('webgpu' is refused by its runtime, clearly).
  if (preference === 'auto' && !backendBundled('webgpu')) {
    return { loaded: await load('wasm'), reason: remembered?.backend === 'wasm' ? earlier! : 'no WebGPU adapter: the WASM-only worker', raced: false };
  }
  const choice = await chooseBackend(preference);
  if (choice.backend === 'wasm' || preference === 'webgpu') return { loaded: await load(choice.backend), reason: choice.reason, raced: false };
  // A race run for another model version says little about this one: race again.
  if (remembered?.modelVersion === read.manifest.version) {
    try {
      return { loaded: await load(remembered.backend), reason: earlier!, raced: false };
    } catch {
      // The remembered backend no longer works here (driver change, lost adapter): race again.
    }
  }
  let webgpu: LoadedModel;
  try {
    webgpu = await load('webgpu');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { loaded: await load('wasm'), reason: `${choice.reason} but it failed (${why})`, raced: false };
  }
  const wasm = await load('wasm').catch(async (error: unknown) => {
    await webgpu.model.dispose();
    throw error;
  });
  const { winner, reason } = await race(webgpu, wasm);
  return { loaded: winner, reason: `${choice.reason}; ${reason}`, raced: true };
}

/** hunch.json of the model directory last asked for: catalog requests answer from it while the model loads. */
let manifestRead: Promise<ModelManifest & { ms: number }> | undefined;

async function readModelManifest(modelUrl: string): Promise<ModelManifest & { ms: number }> {
  const started = performance.now();
  const manifest = await readManifest(modelUrl);
  return { manifest, catalog: new Map(manifest.catalog.map((item) => [item.id, item])), ms: performance.now() - started };
}

/** The catalog entries of `ids` that exist, each once. */
function entriesOf(ids: Iterable<string>, catalog: ReadonlyMap<string, CatalogItem>): CatalogItem[] {
  const found = new Map<string, CatalogItem>();
  for (const id of ids) {
    const item = catalog.get(id);
    if (item) found.set(id, item);
  }
  return [...found.values()];
}

function release(): void {
  running?.context.dispose();
  void running?.loaded.model.dispose();
  running = undefined;
}

const api: ModelWorkerApi = {
  load: (request: LoadRequest) => {
    // Read now, not after the queue: catalog requests wait only for this.
    const started = performance.now();
    const read = readModelManifest(request.modelUrl);
    read.catch(() => undefined); // reported by the load below
    manifestRead = read;
    return serially(async (): Promise<LoadResult> => {
      release();
      const manifest = await read;
      const { loaded, reason, raced } = await loadOnBestBackend(request, manifest);
      running = {
        loaded,
        context: new IncrementalContext(loaded),
        itemIndex: new Map(loaded.items.map(({ itemId }, i) => [itemId, i])),
        categories: categoryIndex(loaded.items, loaded.catalog),
        probabilities: new Float32Array(loaded.items.length),
      };
      const { variant } = loaded;
      return {
        backend: loaded.backend,
        reason: `${reason}; ${variant.reason}`,
        dtype: variant.dtype,
        modelFile: variant.file,
        modelVersion: loaded.manifest.version,
        raced,
        timings: { manifest: manifest.ms, ...loaded.timings, total: performance.now() - started },
      };
    });
  },

  predict: ({ events, maxEvents, k, exclude, candidates = [], lookup = [] }: PredictRequest) =>
    serially(async (): Promise<Prediction> => {
      if (!running) throw new Error('no model loaded');
      const started = performance.now();
      const state = running;
      const { loaded, context, itemIndex, categories } = state;
      const { logits, version, stats } = await context.next(events, maxEvents);
      if (state.lastDistribution?.version !== version) {
        state.lastDistribution = { version, distribution: itemDistribution(logits, loaded.itemTokens, state.probabilities) };
      }
      const { probabilities, logSumExp } = state.lastDistribution.distribution;
      const scored = candidates.flatMap((itemId): ScoredItem[] => {
        const index = itemIndex.get(itemId);
        return index === undefined ? [] : [{ itemId, score: probabilities[index]! }];
      });
      const items = topItems(probabilities, loaded.items, k, new Set(exclude));
      return {
        items,
        candidates: scored.sort((a, b) => b.score - a.score),
        nextAction: nextActionProbabilities(logits, loaded.actions, logSumExp),
        categories: categoryScores(probabilities, categories, TOP_CATEGORIES),
        entries: entriesOf([...items.map(({ itemId }) => itemId), ...lookup], loaded.catalog),
        stats: { ...stats, ms: performance.now() - started },
      };
    }),

  async catalog({ ids, popular }: CatalogRequest): Promise<CatalogAnswer> {
    if (!manifestRead) throw new Error('no model directory given yet: load() first');
    const { manifest, catalog } = await manifestRead;
    const end = popular ? popular.offset + popular.count : 0;
    return {
      items: entriesOf(ids, catalog),
      popular: popular ? entriesOf(manifest.popular.slice(popular.offset, end), catalog) : [],
      morePopular: end < manifest.popular.length,
      modelVersion: manifest.version,
    };
  },
};

expose(api);
