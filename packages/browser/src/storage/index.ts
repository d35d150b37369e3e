/**
 * Where the SDK keeps events: IndexedDB when the browser gives us a working one, else memory,
 * both behind EventStore with the same retention caps. Opening never throws into the page.
 */
import { logOnce } from '../lib/log.js';
import { openIndexedDBStore, type StoreOptions } from './indexeddb-store.js';
import { MemoryStore } from './memory-store.js';
import { resolveLimits } from './retention.js';
import type { EventStore, RetentionLimits } from './types.js';

export { DB_NAME, DB_VERSION, deleteDatabase } from './database.js';
export { DEFAULT_LIMITS } from './retention.js';
export type { AddOptions, EventStore, RetentionLimits } from './types.js';
export type { StoreOptions } from './indexeddb-store.js';

export async function openEventStore(limits?: Partial<RetentionLimits>, options?: StoreOptions): Promise<EventStore> {
  const resolved = resolveLimits(limits);
  try {
    return await openIndexedDBStore(resolved, options);
  } catch (error) {
    logOnce('IndexedDB unavailable, events kept in memory', error);
    return new MemoryStore(resolved, true);
  }
}
