/**
 * `window.hunch` before (and after) the SDK arrives: the whole `Hunch` interface, usable at
 * once. track() assigns the event's id and time (src/lib/clock.ts) at call time and queues it
 * (bounded) until the SDK is loaded, which then records the queue in order with those ids and
 * times; consent() is synchronous on a consent object made here and handed to the SDK, and so
 * is experiment() (src/experiments.ts), on the shopper id in localStorage; expose() is answered
 * here too (capture/exposures.ts), its events queued like track()'s.
 * Everything else waits for the SDK, and degrades (no recommendations, status 'none', ...) if
 * it never arrives: nothing throws into the page. Once loaded, every call goes straight to the real instance.
 */
import { createExposures } from '../capture/exposures.js';
import { startAutoCapture } from '../capture/index.js';
import { createConsent } from '../consent.js';
import { createExperiments } from '../experiments.js';
import type { Hunch, HunchExport, HunchOptions } from '../index.js';
import { eventTime } from '../lib/clock.js';
import { uuid } from '../lib/ids.js';
import { logOnce } from '../lib/log.js';
import { BACKEND_KEY, DB_NAME, SESSION_KEY, STRATEGIES_KEY } from '../lib/names.js';
import type { ModelStatus } from '../model-client.js';
import type { QueuedEvent, SdkModule } from './protocol.js';

/** At most this many events wait for the SDK; later ones are dropped (logged once). */
export const QUEUE_LIMIT = 1000;

/** A copy, so a page that reuses its params object after track() does not change the queued event. */
function snapshot<T>(params: T): T {
  try {
    return params === undefined ? params : structuredClone(params);
  } catch {
    return params; // Not cloneable (a function inside): the SDK will reject or keep it as given.
  }
}

/** `options` as createHunch takes them; `loadSdk` imports hunch.sdk.js (once, shared by every facade). */
export function createFacade(options: HunchOptions, loadSdk: () => Promise<SdkModule>): Hunch {
  const consent = createConsent({ requireConsent: options.requireConsent ?? false });
  // Made here so that experiment() answers synchronously before the SDK arrives; the SDK shares it.
  const experiments = createExperiments(consent, options.holdout);
  let queue: QueuedEvent[] = [];
  let real: Hunch | undefined;
  let failure = '';
  // forget() in another tab before the SDK arrived: the events waiting for it are erased too.
  consent.onForget(() => void queue.splice(0));

  const ready: Promise<Hunch | undefined> = Promise.resolve()
    .then(loadSdk)
    .then((sdk) => (real = sdk.start(options, queue, { consent, experiments, exposures })))
    .catch((error: unknown) => {
      failure = error instanceof Error ? error.message : String(error);
      logOnce('SDK failed to load, Hunch is off on this page', error);
      return undefined;
    });

  /** `use` on the real instance (at once when loaded), else `fallback` if the SDK never arrives. */
  const later = <T>(use: (hunch: Hunch) => Promise<T>, fallback: () => T | Promise<T>): Promise<T> =>
    real ? use(real) : ready.then((hunch) => (hunch ? use(hunch) : fallback()));

  const hunch: Hunch = {
    track(name, params) {
      if (real) return real.track(name, params);
      const id = uuid();
      if (queue.length < QUEUE_LIMIT) queue.push([name, snapshot(params), id, eventTime()]);
      else logOnce('events dropped', new Error(`${QUEUE_LIMIT} events are already waiting for the SDK`));
      return id;
    },

    recommend: (recommendOptions) => later((h) => h.recommend(recommendOptions), () => []),

    status: () =>
      later(
        (h) => h.status(),
        (): ModelStatus => ({ backend: 'none', reason: `the SDK did not load: ${failure}`, dtype: null, modelFile: null, modelVersion: null }),
      ),

    intent: () =>
      later(
        (h) => h.intent(),
        () => ({ stage: 'browsing', why: `the SDK did not load: ${failure}`, nextAction: {}, purchaseProbability: null, topCategories: [], source: 'rules' }),
      ),

    rerank: (items, idOf) => later((h) => h.rerank(items, idOf), () => [...items]),

    on(type, listener) {
      if (real) return real.on(type, listener);
      if (type !== 'intent') throw new Error(`hunch.on: unknown event type ${String(type)} (expected 'intent')`);
      let unsubscribe: (() => void) | undefined;
      let cancelled = false;
      void ready.then((h) => {
        if (h && !cancelled) unsubscribe = h.on(type, listener);
      });
      return () => {
        cancelled = true;
        unsubscribe?.();
      };
    },

    history: () => later((h) => h.history(), () => []),

    flush: () => later((h) => h.flush(), () => undefined),

    consent(choice) {
      if (real) return real.consent(choice);
      if (choice) consent.update(choice); // The SDK applies it when it starts with this consent object.
      return consent.state();
    },

    experiment: experiments.experiment,

    experiments: experiments.tally,

    // Here, not on the SDK: an exposure is a track() call (queued until the SDK arrives), and
    // the SDK shares this object, so "once per page view" holds across the two.
    expose: (key, target, listId) => exposures.expose(key, target, listId),

    // Declarations wait for the SDK like the calls after them: a decide() asked next waits behind them.
    strategies(declarations) {
      if (real) return real.strategies(declarations);
      void ready.then((h) => h?.strategies(declarations));
    },

    decide: (name) => later((h) => h.decide(name), () => null),

    export: () =>
      later(
        (h) => h.export(),
        (): HunchExport => ({ exportedAt: new Date().toISOString(), consent: consent.state(), storage: 'memory', events: [] }),
      ),

    forget: () =>
      later(
        (h) => h.forget(),
        () => {
          // Without the SDK, still erase what earlier visits stored: the promise of forget() holds.
          queue = [];
          consent.forget();
          return new Promise<void>((resolve) => {
            try {
              sessionStorage.removeItem(SESSION_KEY);
              localStorage.removeItem(BACKEND_KEY);
              localStorage.removeItem(STRATEGIES_KEY);
              // The model's caches (worker/model-files.ts and worker/ort/files.ts name them).
              if (typeof caches !== 'undefined') {
                void caches
                  .keys()
                  .then((names) => Promise.all(names.filter((name) => name === 'hunch-model-files' || name.startsWith('hunch-ort-')).map((name) => caches.delete(name))))
                  .catch(() => undefined);
              }
              const request = indexedDB.deleteDatabase(DB_NAME);
              request.onsuccess = request.onerror = request.onblocked = () => resolve();
            } catch (error) {
              logOnce('erasing storage failed', error);
              resolve();
            }
          });
        },
      ),
  };

  const exposures = createExposures(experiments.variantOf, hunch.track);
  // Captured from the start, so the first page_view and early clicks wait in the queue too.
  if (options.autoCapture) startAutoCapture(hunch.track, options.autoCapture === true ? {} : options.autoCapture, exposures);
  return hunch;
}
