/**
 * Where the SDK's parts are made and wired into one Hunch instance: createHunch() (index.ts)
 * and the script-tag SDK (loader/sdk.ts) both build it here.
 */
import type { CatalogItem } from '@hunch/core';
import type { Hunch, HunchOptions, RecommendOptions } from './api.js';
import { itemsInCartOrBought } from './cart.js';
import { startAutoCapture } from './capture/index.js';
import { createCatalog } from './catalog.js';
import { createConsent, type Consent } from './consent.js';
import { wireConsent } from './consent-wiring.js';
import { ConsentedStore } from './consented-store.js';
import { createIntentWatch } from './intent-watch.js';
import { eventTime } from './lib/clock.js';
import { uuid } from './lib/ids.js';
import { logOnce } from './lib/log.js';
import { ModelClient } from './model-client.js';
import { createPredictor } from './predictor.js';
import { createRecorder, type EventRecorder } from './recorder.js';
import { candidatesFor, reasonFor, recentlySeen, type Recommendation } from './recommendations.js';
import { defaultIdOf, fuseRanks } from './rerank.js';
import { SessionClock } from './session.js';
import { allEvents, exportOf } from './shopper-data.js';
import { openEventStore } from './storage/index.js';
import { resolveLimits } from './storage/retention.js';
import { createUploader } from './upload/uploader.js';

const DEFAULT_WORKER_URL = new URL('./hunch.worker.js', import.meta.url).href;
const DEFAULT_WASM_WORKER_URL = new URL('./hunch.worker.wasm.js', import.meta.url).href;

/** The popular list as scores (1 / rank), lazily. */
async function* popularScores(items: AsyncIterable<CatalogItem>): AsyncGenerator<{ item: CatalogItem; score: number }> {
  let rank = 0;
  for await (const item of items) yield { item, score: 1 / ++rank };
}

/** Parts the script-tag loader made before the SDK arrived, handed over so there is one of each. */
export interface LoaderParts {
  consent?: Consent;
}

/** createHunch() plus its recorder, for the script-tag loader (src/loader/): not exported by index.ts. */
export function createHunchWithRecorder(options: HunchOptions, parts: LoaderParts = {}): { hunch: Hunch; record: EventRecorder } {
  const modelUrl = new URL(options.model.endsWith('/') ? options.model : `${options.model}/`, document.baseURI).href;
  const historyLimit = options.historyLimit ?? 50;
  const consent = parts.consent ?? createConsent({ requireConsent: options.requireConsent ?? false });
  // The model starts with storage consent: without it, recommendations are the popular list.
  let model: ModelClient | undefined;
  // Event writes wait for the predictions the worker is computing (StoreOptions.writeAfter).
  const writeAfter = () => model?.inFlight();
  const store = new ConsentedStore(resolveLimits(options.retention), (limits) => openEventStore(limits, { writeAfter }));
  const session = new SessionClock(() => consent.allows('storage'));
  const uploader = options.collector ? createUploader({ url: new URL(options.collector, document.baseURI).href, store, consent }) : undefined;

  const startModel = () =>
    (model ??= new ModelClient({
      ...(options.workerUrl ? { workerUrl: options.workerUrl } : { workerUrl: DEFAULT_WORKER_URL, wasmWorkerUrl: DEFAULT_WASM_WORKER_URL }),
      modelUrl,
      preference: options.backend ?? 'auto',
      ...(options.dtype ? { dtype: options.dtype } : {}),
      ...(options.modelIdleMs !== undefined ? { idleMs: options.modelIdleMs } : {}),
      shared: options.sharedWorker ?? true,
    }));

  // Entries from the model's worker while it runs (no manifest parsed on the page), else from hunch.json.
  const catalog = createCatalog(modelUrl, () => (consent.allows('storage') ? startModel() : undefined));

  const forget = wireConsent(consent, store, session, uploader, () => {
    model?.retire();
    model = undefined;
  });

  const predictor = createPredictor(consent, store, catalog, startModel, historyLimit);
  const { recentEvents, predict, predictWithEntries } = predictor;

  const intentWatch = createIntentWatch(consent, predictor, store);

  async function recommendFor({ k = 6, exclude = [], filter, includeCart = false, popularOnly = false }: RecommendOptions): Promise<Recommendation[]> {
    const keep = (item: CatalogItem) => {
      try {
        return !filter || filter(item) === true;
      } catch (error) {
        logOnce('recommend filter threw', error);
        return false;
      }
    };
    // Stops at k: a big shop's popular list (or a whole-catalog ranking) is not walked to its end.
    const build = async (source: Recommendation['source'], scored: AsyncIterable<{ item: CatalogItem; score: number }> | Iterable<{ item: CatalogItem; score: number }>, excluded: Set<string>, seen: CatalogItem[]) => {
      const picked: Recommendation[] = [];
      for await (const { item, score } of scored) {
        if (picked.length >= k) break;
        if (!excluded.has(item.id) && keep(item)) picked.push({ item, score, source, reason: reasonFor(item, source, seen) });
      }
      return picked;
    };
    const popular = (excluded: Set<string>) => build('popular', popularScores(catalog.popular()), excluded, []);
    if (popularOnly || !consent.allows('storage')) return popular(new Set(exclude));
    const events = await recentEvents();
    const excluded = new Set([...exclude, ...(includeCart ? [] : itemsInCartOrBought(events))]);
    const ask = async (candidates: number) => {
      const { prediction, entries } = await predictWithEntries(events, { k: candidates, exclude: [...excluded] });
      if (!prediction) return undefined;
      const scored = prediction.items.flatMap(({ itemId, score }) => (entries.has(itemId) ? [{ item: entries.get(itemId)!, score }] : []));
      return { picked: await build('model', scored, excluded, recentlySeen(events, entries)), exhausted: prediction.items.length < candidates };
    };
    let answer = await ask(candidatesFor(k, excluded.size, filter !== undefined));
    // A narrow filter can reject most of the top: then rank the whole catalog once.
    if (answer && answer.picked.length < k && !answer.exhausted) answer = await ask(Number.MAX_SAFE_INTEGER);
    return answer?.picked ?? popular(excluded);
  }

  addEventListener('pagehide', () => {
    session.save();
    void store.flush().catch(() => undefined);
  });

  /** What each placement on this page shows now (recommend({ placement })). */
  const shownBy = new Map<string, string[]>();

  const record = createRecorder(consent, store, session, uploader, ({ name }) => {
    intentWatch.eventAdded();
    // A new page (a single-page app's route change too): its placements start afresh.
    if (name === 'page_view') shownBy.clear();
  });

  const hunch: Hunch = {
    track: (name, params) => record(name, params, uuid(), eventTime()),

    async recommend(options = {}) {
      const { placement } = options;
      const elsewhere = placement === undefined ? [] : [...shownBy].flatMap(([other, ids]) => (other === placement ? [] : ids));
      const recs = await recommendFor({ ...options, exclude: [...(options.exclude ?? []), ...elsewhere] });
      if (placement !== undefined) shownBy.set(placement, recs.map((rec) => rec.item.id));
      return recs;
    },

    async status() {
      if (!consent.allows('storage')) {
        return { backend: 'none', reason: 'waiting for personalization_storage consent', dtype: null, modelFile: null, modelVersion: await catalog.version() };
      }
      const status = await startModel().status;
      // No model runs: the version is still the manifest's (hunch.json read on the page).
      if (status.modelVersion === null) return { ...status, modelVersion: await catalog.version() };
      const lastInference = model?.lastInference;
      return lastInference ? { ...status, lastInference } : status;
    },

    intent: intentWatch.now,

    async rerank<T>(items: readonly T[], idOf: (item: T) => string | undefined = defaultIdOf) {
      try {
        const ids = items.map((item) => idOf(item) ?? '');
        const events = await recentEvents();
        const prediction = await predict(events, { k: 0, exclude: [], candidates: [...new Set(ids.filter(Boolean))] });
        if (!prediction) return [...items];
        return fuseRanks(ids, prediction.candidates.map(({ itemId }) => itemId)).map((index) => items[index]!);
      } catch (error) {
        logOnce('rerank failed, keeping the shop’s order', error);
        return [...items];
      }
    },

    on(type, listener) {
      if (type !== 'intent') throw new Error(`hunch.on: unknown event type ${String(type)} (expected 'intent')`);
      return intentWatch.subscribe(listener);
    },

    history: () => allEvents(store),

    async flush() {
      await store.flush();
    },

    consent(choice) {
      if (choice) consent.update(choice);
      return consent.state();
    },

    export: () => exportOf(consent, store),

    forget,
  };

  if (options.autoCapture) startAutoCapture(hunch.track, options.autoCapture === true ? {} : options.autoCapture);
  return { hunch, record };
}
