/**
 * The shopper's intent as the page follows it: intent() now, and on('intent') listeners told
 * when the funnel stage changes, after events settle or when a cart goes idle.
 */
import type { CatalogItem, HunchEvent } from '@hunch/core';
import type { Consent } from './consent.js';
import type { ConsentedStore } from './consented-store.js';
import { AT_RISK_IDLE_MS, intentOf, type Intent } from './intent.js';
import { logOnce } from './lib/log.js';
import type { Predictor } from './predictor.js';

/** Intent listeners are told after events settle for this long (ms), not after each one. */
const INTENT_SETTLE_MS = 250;

/** The intent without reading any event: the first stage, and why. */
const browsing = (why: string): Intent => ({ stage: 'browsing', why, nextAction: {}, purchaseProbability: null, topCategories: [], source: 'rules' });

export interface IntentWatch {
  /** intent(): the intent now; never rejects. */
  now(): Promise<Intent>;
  /** The intent now with the events it was read from and the catalog entries of their products (decide() reads the cart from them). */
  details(): Promise<IntentDetails>;
  /** An event was recorded: the stage may change once events settle. */
  eventAdded(): void;
  /** on('intent', listener): the current intent at once, then each new stage. Returns the function that unsubscribes. */
  subscribe(listener: (intent: Intent) => void): () => void;
}

export interface IntentDetails {
  intent: Intent;
  events: HunchEvent[];
  entries: Map<string, CatalogItem>;
}

export function createIntentWatch(consent: Consent, predictor: Predictor, store: ConsentedStore): IntentWatch {
  async function details(): Promise<IntentDetails> {
    if (!consent.allows('storage')) return { intent: browsing('waiting for personalization_storage consent'), events: [], entries: new Map() };
    const events = await predictor.recentEvents();
    const { prediction, entries } = await predictor.predictWithEntries(events, { k: 0, exclude: [] });
    return { intent: intentOf(events, entries, prediction, Date.now()), events, entries };
  }
  const currentIntent = async (): Promise<Intent> => (await details()).intent;

  const listeners = new Set<(intent: Intent) => void>();
  let lastStage: Intent['stage'] | undefined;
  let settleTimer: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const notify = (intent: Intent, all: Iterable<(intent: Intent) => void>) => {
    for (const listener of all) {
      try {
        listener(intent);
      } catch (error) {
        logOnce('intent listener threw', error);
      }
    }
  };
  const check = async () => {
    if (listeners.size === 0) return;
    await store.flush().catch(() => undefined);
    const intent = await currentIntent();
    // A cart can go idle without any event: look again once it would count as at risk.
    clearTimeout(idleTimer);
    if (intent.stage === 'ready_to_buy') idleTimer = setTimeout(() => void check(), AT_RISK_IDLE_MS + 1000);
    if (intent.stage === lastStage) return;
    lastStage = intent.stage;
    notify(intent, listeners);
  };

  return {
    now: () =>
      currentIntent().catch((error: unknown) => {
        logOnce('intent failed', error);
        return browsing('intent unavailable');
      }),
    details,
    eventAdded() {
      if (listeners.size === 0) return;
      clearTimeout(settleTimer);
      settleTimer = setTimeout(() => void check().catch((error) => logOnce('intent update failed', error)), INTENT_SETTLE_MS);
    },
    subscribe(listener) {
      listeners.add(listener);
      void currentIntent()
        .then((intent) => {
          if (!listeners.has(listener)) return;
          lastStage ??= intent.stage;
          notify(intent, [listener]);
        })
        .catch((error) => logOnce('intent update failed', error));
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) clearTimeout(idleTimer);
      };
    },
  };
}
