/**
 * What the page asks the model: its prediction after the shopper's latest events, with the
 * catalog entries of the products involved (each asked of the worker once per model version).
 * Without storage consent, or for a shopper in the global holdout, no model is asked and the
 * prediction is undefined: every caller then does what it does without a model (popular items,
 * the shop's order, the rules' intent).
 */
import { isBehaviourEvent, type CatalogItem, type HunchEvent } from '@hunch/core';
import { CART_WINDOW } from './cart.js';
import { KnownEntries, type Catalog } from './catalog.js';
import type { Consent } from './consent.js';
import type { ConsentedStore } from './consented-store.js';
import type { ModelClient } from './model-client.js';
import { latestEvents } from './shopper-data.js';
import type { Prediction, PredictRequest } from './worker/protocol.js';

export interface Predictor {
  /** The latest behaviour events (no exposures): the model's context, and enough to know the cart. */
  recentEvents(): Promise<HunchEvent[]>;
  /** The model's prediction after `events`, or undefined when there is no model (or no consent for it). */
  predict(events: readonly HunchEvent[], request: Omit<PredictRequest, 'events' | 'maxEvents'>): Promise<Prediction | undefined>;
  /** The prediction with the catalog entries of its items and of the events' products. */
  predictWithEntries(
    events: readonly HunchEvent[],
    request: Omit<PredictRequest, 'events' | 'maxEvents' | 'lookup'>,
  ): Promise<{ prediction: Prediction | undefined; entries: Map<string, CatalogItem> }>;
}

const behaviour = (events: readonly HunchEvent[]) => events.filter((event) => isBehaviourEvent(event.name));

/** Items the events name, most recent first: their catalog entries give reasons and categories. */
function itemIdsOf(events: readonly HunchEvent[]): string[] {
  const ids = new Set<string>();
  for (let i = events.length - 1; i >= 0; i--) {
    const id = events[i]!.params.item_id;
    if (id !== undefined) ids.add(id);
  }
  return [...ids];
}

/**
 * `model()` starts the model (or returns the running one); it sees the last `historyLimit` events.
 * `heldOut`: whether the shopper is in the global holdout.
 */
export function createPredictor(consent: Consent, store: ConsentedStore, catalog: Catalog, model: () => ModelClient, historyLimit: number, heldOut: () => boolean): Predictor {
  const knownEntries = new KnownEntries();

  function predict(events: readonly HunchEvent[], request: Omit<PredictRequest, 'events' | 'maxEvents'>): Promise<Prediction | undefined> {
    if (!consent.allows('storage') || heldOut()) return Promise.resolve(undefined);
    // The model's history is behaviour only: an experiment's exposures never change a prediction.
    const recent = behaviour(events)
      .slice(-historyLimit)
      .map(({ id, name, params }) => ({ id, name, params }));
    return model().predict({ events: recent, maxEvents: historyLimit, ...request });
  }

  return {
    recentEvents: async () => behaviour(await latestEvents(store, Math.max(historyLimit, CART_WINDOW))),
    predict,
    async predictWithEntries(events, request) {
      const products = itemIdsOf(events);
      const lookup = knownEntries.missing(products);
      const prediction = await predict(events, { ...request, lookup });
      if (!prediction) return { prediction, entries: await catalog.entries(products) };
      knownEntries.add(prediction.modelVersion, prediction.entries, lookup);
      // A new model version answered: the entries known from the old one were dropped.
      const unknown = knownEntries.missing(products);
      if (unknown.length > 0) knownEntries.add(prediction.modelVersion, [...(await catalog.entries(unknown)).values()], unknown);
      return { prediction, entries: knownEntries.of([...products, ...prediction.items.map(({ itemId }) => itemId)]) };
    },
  };
}
