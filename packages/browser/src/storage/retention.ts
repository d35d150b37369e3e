/**
 * Retention: how much history is kept, and the oldest-first eviction that keeps it there.
 * Eviction walks the `ts` index (oldest first) and never loads event bodies.
 */
import type { RetentionLimits } from './types.js';
import type { HunchDatabase } from './database.js';
import { quiet } from './queries.js';

export const DEFAULT_LIMITS: Readonly<RetentionLimits> = Object.freeze({
  maxEvents: 10_000,
  maxAgeMs: 90 * 24 * 60 * 60 * 1_000,
  maxOutbox: 10_000,
});

export function resolveLimits(limits: Partial<RetentionLimits> = {}): RetentionLimits {
  const pick = (value: number | undefined, fallback: number) =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : fallback;
  return {
    maxEvents: pick(limits.maxEvents, DEFAULT_LIMITS.maxEvents),
    // Zero, negative or NaN would erase everything: those take the default.
    maxAgeMs: typeof limits.maxAgeMs === 'number' && limits.maxAgeMs > 0 ? limits.maxAgeMs : DEFAULT_LIMITS.maxAgeMs,
    maxOutbox: pick(limits.maxOutbox, DEFAULT_LIMITS.maxOutbox),
  };
}

/** The oldest timestamp still kept. */
export const cutoff = (limits: RetentionLimits, now = Date.now()): number => now - limits.maxAgeMs;

export interface StoreCounts {
  events: number;
  outbox: number;
}

type StoreName = 'events' | 'outbox';


/**
 * Enforces every cap in one transaction: drops expired events, then the oldest beyond the
 * count caps. Returns the exact counts left, which the caller uses as its new estimate.
 */
export async function enforceLimits(db: HunchDatabase, limits: RetentionLimits, now = Date.now()): Promise<StoreCounts> {
  const tx = db.transaction(['events', 'outbox'], 'readwrite');
  const expired = IDBKeyRange.upperBound(cutoff(limits, now), true);
  const trim = async (name: StoreName, max: number): Promise<number> => {
    const store = tx.objectStore(name);
    // Primary keys in ts order, so deleting them by key is an oldest-first eviction.
    for (const key of await store.index('ts').getAllKeys(expired)) quiet(store.delete(key));
    const count = await store.count();
    if (count <= max) return count;
    for (const key of await store.index('ts').getAllKeys(null, count - max)) quiet(store.delete(key));
    return max;
  };
  const [events, outbox] = await Promise.all([trim('events', limits.maxEvents), trim('outbox', limits.maxOutbox), tx.done]);
  return { events, outbox };
}

/**
 * Frees room when the disk is full: deletes the oldest `fraction` of each store. Returns
 * how many events were deleted (0 means there was nothing left to free).
 */
export async function evictFraction(db: HunchDatabase, fraction: number): Promise<number> {
  const tx = db.transaction(['events', 'outbox'], 'readwrite');
  const drop = async (name: StoreName): Promise<number> => {
    const store = tx.objectStore(name);
    const count = await store.count();
    const n = Math.ceil(count * fraction);
    if (n === 0) return 0;
    for (const key of await store.index('ts').getAllKeys(null, n)) quiet(store.delete(key));
    return n;
  };
  const [events, outbox] = await Promise.all([drop('events'), drop('outbox'), tx.done]);
  return events + outbox;
}
