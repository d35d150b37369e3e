/**
 * Where events live: IndexedDB through `idb`, with writes batched off the hot path
 * (track() only queues) and an in-memory store behind the same interface when
 * IndexedDB is missing or broken (private mode, disabled, quota).
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { HunchEvent } from '@hunch/core';
import { logOnce } from './lib/log.js';

export const DB_NAME = 'hunch';
const DB_VERSION = 1;

interface HunchDB extends DBSchema {
  events: { key: string; value: HunchEvent; indexes: { ts: number } };
}

export interface EventStore {
  /** Queues an event; it is written with the next batch. */
  add(event: HunchEvent): void;
  /** Resolves once every queued event is written. */
  flush(): Promise<void>;
  /** Every stored event, oldest first. */
  all(): Promise<HunchEvent[]>;
  /** Erases every stored event. */
  clear(): Promise<void>;
  readonly kind: 'indexeddb' | 'memory';
}

class MemoryStore implements EventStore {
  readonly kind = 'memory' as const;
  private events: HunchEvent[] = [];
  add(event: HunchEvent): void {
    this.events.push(event);
  }
  async flush(): Promise<void> {}
  async all(): Promise<HunchEvent[]> {
    return [...this.events].sort((a, b) => a.ts - b.ts);
  }
  async clear(): Promise<void> {
    this.events = [];
  }
}

class IndexedDBStore implements EventStore {
  readonly kind = 'indexeddb' as const;
  private queue: HunchEvent[] = [];
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;

  constructor(private readonly db: IDBPDatabase<HunchDB>, private readonly fallback: MemoryStore) {}

  add(event: HunchEvent): void {
    this.queue.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    // One transaction per burst of events, after the caller's task has finished.
    setTimeout(() => void this.flush(), 0);
  }

  flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length > 0) this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  private async write(batch: HunchEvent[]): Promise<void> {
    try {
      const tx = this.db.transaction('events', 'readwrite');
      await Promise.all([...batch.map((event) => tx.store.put(event)), tx.done]);
    } catch (error) {
      logOnce('storage write failed, keeping events in memory', error);
      batch.forEach((event) => this.fallback.add(event));
    }
  }

  async all(): Promise<HunchEvent[]> {
    await this.flush();
    const stored = await this.db.getAllFromIndex('events', 'ts');
    return [...stored, ...(await this.fallback.all())].sort((a, b) => a.ts - b.ts);
  }

  async clear(): Promise<void> {
    this.queue = [];
    await this.writing;
    await Promise.all([this.db.clear('events'), this.fallback.clear()]);
  }
}

export async function openEventStore(): Promise<EventStore> {
  try {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available');
    const db = await openDB<HunchDB>(DB_NAME, DB_VERSION, {
      upgrade(database) {
        const events = database.createObjectStore('events', { keyPath: 'id' });
        events.createIndex('ts', 'ts');
      },
    });
    return new IndexedDBStore(db, new MemoryStore());
  } catch (error) {
    logOnce('IndexedDB unavailable, events kept in memory', error);
    return new MemoryStore();
  }
}
