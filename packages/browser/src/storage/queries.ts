/**
 * The IndexedDB requests the store makes, each in one transaction: a batch write, the newest
 * events, and merging what is on disk with what is held in memory.
 */
import { unwrap } from 'idb';
import type { HunchEvent } from '@hunch/core';
import { logOnce } from '../lib/log.js';
import type { HunchDatabase } from './database.js';

/** A failed request fails its transaction, reported once by tx.done, not as an unhandled rejection. */
export const quiet = (request: Promise<unknown>): void => void request.catch(() => {});

/**
 * One relaxed-durability transaction for the whole batch, through the raw API: no promise per
 * put. Its requests are made and its commit asked for in the caller's task (a page being
 * unloaded may run no later one).
 */
export function putBatch(db: HunchDatabase, events: readonly HunchEvent[], uploads: readonly HunchEvent[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const names = uploads.length > 0 ? ['events', 'outbox'] : ['events'];
    const tx = unwrap(db).transaction(names, 'readwrite', { durability: 'relaxed' });
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
    putAll(tx.objectStore('events'), events);
    if (uploads.length > 0) putAll(tx.objectStore('outbox'), uploads);
    // Older browsers lack commit(): theirs commits when the task ends, as before.
    (tx as { commit?: () => void }).commit?.();
  });
}

function putAll(store: IDBObjectStore, events: readonly HunchEvent[]): void {
  for (const event of events) {
    try {
      store.put(event);
    } catch (error) {
      // Not cloneable or without an id: skip this one event, not the batch.
      logOnce('event could not be stored, skipped', error);
    }
  }
}

/** The newest `limit` events through a backwards cursor on `ts`, returned oldest first. */
export async function newest(db: HunchDatabase, limit: number, oldest: number): Promise<HunchEvent[]> {
  const found: HunchEvent[] = [];
  let cursor = await db.transaction('events').store.index('ts').openCursor(IDBKeyRange.lowerBound(oldest), 'prev');
  while (cursor && found.length < limit) {
    found.push(cursor.value);
    cursor = await cursor.continue();
  }
  return found.reverse();
}

/** Both lists as one, oldest first, each id once. */
export function merged(disk: HunchEvent[], memory: HunchEvent[]): HunchEvent[] {
  if (memory.length === 0) return disk;
  const byId = new Map<string, HunchEvent>();
  for (const event of disk) byId.set(event.id, event);
  for (const event of memory) byId.set(event.id, event);
  return [...byId.values()].sort((a, b) => a.ts - b.ts);
}
