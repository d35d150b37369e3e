/**
 * Where the SDK's parts are made and wired into one Hunch instance: createHunch() (index.ts)
 * and the script-tag SDK (loader/sdk.ts) both build it here.
 */
// Imports in wiring order: the parts, then what is wired onto them, then helpers. The bundles
// keep this module order, and their gzipped size depends on it.
import type { Hunch, HunchOptions } from './api.js';
import { createCatalog } from './catalog.js';
import { createConsent, type Consent } from './consent.js';
import { ConsentedStore } from './consented-store.js';
import { createExperiments, storedShopperId, type Experiments } from './experiments.js';
import { ModelClient } from './model-client.js';
import { SessionClock } from './session.js';
import { openEventStore } from './storage/index.js';
import { resolveLimits } from './storage/retention.js';
import { createUploader } from './upload/uploader.js';
import { wireConsent } from './consent-wiring.js';
import { createPredictor } from './predictor.js';
import { createIntentWatch } from './intent-watch.js';
import { createRecommender } from './recommend/recommender.js';
import { createStrategies } from './strategies/decide.js';
import { createRecorder, type EventRecorder } from './recorder.js';
import { rerank } from './rerank.js';
import { allEvents, exportOf } from './shopper-data.js';
import { eventTime } from './lib/clock.js';
import { uuid } from './lib/ids.js';
import { isBehaviourEvent } from '@hunch/core';
import { startAutoCapture } from './capture/index.js';
import { createExposures, type Exposures } from './capture/exposures.js';

/**
 * The workers, each with its onnxruntime module and .wasm, every file found with
 * `new URL('…', import.meta.url)`: beside this script in packages/browser/dist (the script tag),
 * and wherever an app's bundler emits them (Vite and webpack follow the pattern and emit each
 * file as an asset, under a name of their own), so an app needs no configuration for them.
 * Worked out when a model first starts, in the page: Next.js (Turbopack, and webpack as Next sets
 * it up) turns each into a root-relative URL-like object (href `/_next/static/media/…`, no
 * origin), which is resolved against the page here, and also runs this module on the server,
 * where there is no page to resolve it against.
 */
let defaultWorkers: { workerUrl: string; wasmWorkerUrl: string } | undefined;
const defaultWorkerUrls = () =>
  (defaultWorkers ??= {
    workerUrl: workerUrl(
      new URL('./hunch.worker.js', import.meta.url),
      new URL('./hunch.worker.ort.js', import.meta.url),
      new URL('./ort/ort-wasm-simd-threaded.asyncify.wasm', import.meta.url),
    ),
    wasmWorkerUrl: workerUrl(
      new URL('./hunch.worker.wasm.js', import.meta.url),
      new URL('./hunch.worker.wasm.ort.js', import.meta.url),
      new URL('./ort/ort-wasm-simd-threaded.wasm', import.meta.url),
    ),
  });

/**
 * The worker's URL; where its runtime files are not where the worker looks by default (beside
 * it, as in dist/: a bundler renamed them), the URL's fragment names them (worker/ort/locate.ts).
 */
function workerUrl(...found: [URL, URL, URL]): string {
  const [worker, ort, wasm] = found.map((url) => new URL(url.href, document.baseURI)) as [URL, URL, URL];
  const named = new URLSearchParams();
  if (ort.href !== new URL(`./${worker.pathname.split('/').pop()!.replace(/\.js$/, '.ort.js')}`, worker).href) named.set('ort', ort.href);
  if (wasm.href !== new URL(`./ort/${wasm.pathname.split('/').pop()}`, worker).href) named.set('wasm', wasm.href);
  const fragment = named.toString();
  return fragment ? `${worker.href}#${fragment}` : worker.href;
}

/** Parts the script-tag loader made before the SDK arrived, handed over so there is one of each. */
export interface LoaderParts {
  consent?: Consent;
  experiments?: Experiments;
  exposures?: Exposures;
}

/** createHunch() plus its recorder, for the script-tag loader (src/loader/): not exported by index.ts. */
export function createHunchWithRecorder(options: HunchOptions, parts: LoaderParts = {}): { hunch: Hunch; record: EventRecorder } {
  const modelUrl = new URL(options.model.endsWith('/') ? options.model : `${options.model}/`, document.baseURI).href;
  const historyLimit = options.historyLimit ?? 50;
  const consent = parts.consent ?? createConsent({ requireConsent: options.requireConsent ?? false });
  const experiments = parts.experiments ?? createExperiments(consent, options.holdout);
  // A held-out shopper gets no personalisation: popular items, the shop's order, rule-based intent.
  const { heldOut } = experiments;
  // The model starts with storage consent: without it, recommendations are the popular list.
  let model: ModelClient | undefined;
  // Event writes wait for the predictions the worker is computing (StoreOptions.writeAfter).
  const writeAfter = () => model?.inFlight();
  const store = new ConsentedStore(resolveLimits(options.retention), (limits) => openEventStore(limits, { writeAfter }));
  const session = new SessionClock(() => consent.allows('storage'));
  // Uploaded events carry the anonymous shopper id when there is one (storage consent): never made for it.
  const uploader = options.collector ? createUploader({ url: new URL(options.collector, document.baseURI).href, store, consent, shopperId: storedShopperId }) : undefined;

  const startModel = () =>
    (model ??= new ModelClient({
      ...(options.workerUrl ? { workerUrl: options.workerUrl } : defaultWorkerUrls()),
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

  // A shopper in the global holdout is never asked of the model: one gate for every caller.
  const predictor = createPredictor(consent, store, catalog, startModel, historyLimit, heldOut);

  const intentWatch = createIntentWatch(consent, predictor, store);

  const recommender = createRecommender(consent, catalog, predictor);

  addEventListener('pagehide', () => {
    session.save();
    store.leaving();
  });

  const record = createRecorder(consent, store, session, uploader, ({ name }) => {
    // An exposure is no behaviour: it cannot change the intent.
    if (isBehaviourEvent(name)) intentWatch.eventAdded();
    // A new page (a single-page app's route change too): its placements start afresh.
    if (name === 'page_view') recommender.newPage();
  });

  const hunch: Hunch = {
    track: (name, params) => record(name, params, uuid(), eventTime()),

    recommend: recommender.recommend,

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

    rerank: (items, idOf) => rerank(predictor, items, idOf),

    on(type, listener) {
      if (type !== 'intent') throw new Error(`hunch.on: unknown event type ${String(type)} (expected 'intent')`);
      return intentWatch.subscribe(listener);
    },

    history: () => allEvents(store),

    flush: () => store.flush(),

    consent(choice) {
      if (choice) consent.update(choice);
      return consent.state();
    },

    export: () => exportOf(consent, store),

    forget,

    experiment: experiments.experiment,

    experiments: experiments.tally,

    expose: (key, target, listId) => exposures.expose(key, target, listId),

    strategies: (declarations) => strategies.declare(declarations),

    decide: (name) => strategies.decide(name),
  };
  // Decisions are logged through track() (not behaviour: the model and intent never read them).
  const strategies = createStrategies(
    // The policy's name and hash from the model's worker (it reads hunch.json anyway), else from hunch.json on the page.
    { consent, heldOut, situation: intentWatch.details, track: hunch.track, modelUrl, namedPolicy: async () => (consent.allows('storage') ? startModel().policy() : undefined) },
    options.strategies,
  );
  const exposures = parts.exposures ?? createExposures(experiments.variantOf, hunch.track);

  if (options.autoCapture) startAutoCapture(hunch.track, options.autoCapture === true ? {} : options.autoCapture, exposures);
  return { hunch, record };
}
