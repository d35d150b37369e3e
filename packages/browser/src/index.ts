/**
 * Hunch's public API for the shopper's browser.
 *
 *   const hunch = createHunch({ model: '/models/demo/' });
 *   hunch.track('view_item', { item_id: 'sku-1' });
 *   const recs = await hunch.recommend({ k: 6 });
 *
 * track() only validates and queues (microseconds on the main thread); storage is
 * batched into IndexedDB and the model runs in a Web Worker.
 */
import { parseManifest, validateParams, isEventName, MANIFEST_FILE, type CatalogItem, type EventName, type EventParams, type HunchEvent, type HunchManifest } from '@hunch/core';
import { uuid } from './lib/ids.js';
import { logOnce } from './lib/log.js';
import { ModelClient, type ModelStatus } from './model-client.js';
import { currentSessionId, forgetSession } from './session.js';
import { openEventStore, type EventStore } from './storage.js';
import type { BackendPreference, ModelDtype } from './worker/protocol.js';

export type { CatalogItem, EventName, EventParams, HunchEvent } from '@hunch/core';
export type { ModelStatus } from './model-client.js';
export type { Backend, BackendPreference, ModelDtype } from './worker/protocol.js';

export interface HunchOptions {
  /** URL of the model directory (hunch.json + Hugging Face files). */
  model: string;
  /** URL of hunch.worker.js; defaults to the one beside this script. */
  workerUrl?: string;
  /** 'auto' (default) uses WebGPU when the browser offers an adapter, else WASM. */
  backend?: BackendPreference;
  /**
   * Which ONNX variant to load: 'q4' (4-bit), 'q8' (int8) or 'fp32'. Default: q4 on WebGPU,
   * q8 on WASM; fp32 when the model directory lacks that file (hunch.json `onnx.variants`).
   */
  dtype?: ModelDtype;
  /** How many recent events the model sees (default 50). */
  historyLimit?: number;
}

export interface RecommendOptions {
  /** How many items (default 6). */
  k?: number;
  /** Item ids never to return, e.g. the product on screen. */
  exclude?: string[];
}

export interface Recommendation {
  item: CatalogItem;
  /** The model's probability for this item, or a popularity score for the fallback. */
  score: number;
  source: 'model' | 'popular';
}

export interface Hunch {
  /** Records a behaviour event. Returns its id, or undefined (and logs once) when invalid. */
  track(name: EventName, params?: EventParams): string | undefined;
  /** Next items for this shopper; never rejects, falls back to popular items. */
  recommend(options?: RecommendOptions): Promise<Recommendation[]>;
  /** Which backend and ONNX variant (dtype, file) the model runs on, why, and the model version. */
  status(): Promise<ModelStatus>;
  /** Every stored event, oldest first. */
  history(): Promise<HunchEvent[]>;
  /** Waits until queued events are written to storage. */
  flush(): Promise<void>;
  /** Erases every event and the session. */
  forget(): Promise<void>;
}

const DEFAULT_WORKER_URL = new URL('./hunch.worker.js', import.meta.url).href;

async function fetchManifest(modelUrl: string): Promise<HunchManifest | undefined> {
  try {
    const response = await fetch(new URL(MANIFEST_FILE, modelUrl), { cache: 'no-cache' });
    if (!response.ok) throw new Error(`${MANIFEST_FILE}: HTTP ${response.status}`);
    return parseManifest(await response.json());
  } catch (error) {
    logOnce('model manifest unavailable', error);
    return undefined;
  }
}

/** Items in the cart or just bought: not worth recommending again. */
function itemsInCart(events: HunchEvent[]): Set<string> {
  const cart = new Set<string>();
  for (const { name, params } of events) {
    if (name === 'add_to_cart' && params.item_id) cart.add(params.item_id);
    if (name === 'remove_from_cart' && params.item_id) cart.delete(params.item_id);
    if (name === 'purchase') params.items?.forEach((item) => cart.add(item.item_id));
  }
  return cart;
}

export function createHunch(options: HunchOptions): Hunch {
  const modelUrl = new URL(options.model.endsWith('/') ? options.model : `${options.model}/`, document.baseURI).href;
  const historyLimit = options.historyLimit ?? 50;
  const model = new ModelClient(options.workerUrl ?? DEFAULT_WORKER_URL, fetchManifest(modelUrl), modelUrl, options.backend ?? 'auto', options.dtype);
  const catalogLookup = model.manifest.then((manifest) => new Map((manifest?.catalog ?? []).map((item) => [item.id, item])));

  // Events tracked before storage opens wait in `pending`, then go to the store in order.
  let opened: EventStore | undefined;
  const pending: HunchEvent[] = [];
  const storeReady = openEventStore().then((store) => {
    opened = store;
    pending.splice(0).forEach((event) => store.add(event));
    return store;
  });

  async function history(): Promise<HunchEvent[]> {
    try {
      return await (await storeReady).all();
    } catch (error) {
      logOnce('reading history failed', error);
      return [];
    }
  }

  addEventListener('pagehide', () => void opened?.flush());

  return {
    track(name, params = {}) {
      if (!isEventName(name)) {
        logOnce(`unknown event ${String(name)}`, new Error('not a supported event name'));
        return undefined;
      }
      const checked = validateParams(name, params);
      if (!checked.ok) {
        logOnce(`invalid ${name} event`, new Error(checked.error));
        return undefined;
      }
      const event: HunchEvent = { id: uuid(), name, ts: Date.now(), sessionId: currentSessionId(), params: checked.value };
      if (opened) opened.add(event);
      else pending.push(event);
      return event.id;
    },

    async recommend({ k = 6, exclude = [] } = {}) {
      const [events, catalog, manifest] = await Promise.all([history(), catalogLookup, model.manifest]);
      const excluded = new Set([...exclude, ...itemsInCart(events)]);
      const recent = events.slice(-historyLimit).map(({ name, params }) => ({ name, params }));
      const scored = await model.recommend({ events: recent, k: k + excluded.size, exclude: [...excluded] });
      const toRecommendation = (source: Recommendation['source']) => ({ itemId, score }: { itemId: string; score: number }) => {
        const item = catalog.get(itemId);
        return item ? [{ item, score, source }] : [];
      };
      if (scored) return scored.flatMap(toRecommendation('model')).slice(0, k);
      const popular = (manifest?.popular ?? []).filter((id) => !excluded.has(id));
      return popular.map((itemId, rank) => ({ itemId, score: 1 / (rank + 1) })).flatMap(toRecommendation('popular')).slice(0, k);
    },

    status: () => model.status,

    history,

    async flush() {
      await (await storeReady).flush();
    },

    async forget() {
      pending.length = 0;
      forgetSession();
      await (await storeReady).clear();
    },
  };
}
