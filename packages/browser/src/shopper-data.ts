/**
 * The shopper's stored events read back, never rejecting: a storage failure is logged once and
 * reads as no events. All of them for history() and export(), the latest for the model and the cart.
 */
import type { HunchEvent } from '@hunch/core';
import type { HunchExport } from './api.js';
import type { Consent } from './consent.js';
import type { ConsentedStore } from './consented-store.js';
import { logOnce } from './lib/log.js';

/** Every stored event, oldest first. */
export async function allEvents(store: ConsentedStore): Promise<HunchEvent[]> {
  try {
    return await store.all();
  } catch (error) {
    logOnce('reading history failed', error);
    return [];
  }
}

/** The latest `count` events, oldest first. */
export async function latestEvents(store: ConsentedStore, count: number): Promise<HunchEvent[]> {
  try {
    return await store.recent(count);
  } catch (error) {
    logOnce('reading history failed', error);
    return [];
  }
}

/** Everything Hunch keeps about this shopper, for export(). */
export async function exportOf(consent: Consent, store: ConsentedStore): Promise<HunchExport> {
  return { exportedAt: new Date().toISOString(), consent: consent.state(), storage: store.kind, events: await allEvents(store) };
}
