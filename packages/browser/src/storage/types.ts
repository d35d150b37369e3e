/**
 * The contract between the SDK and where events live. Two implementations: IndexedDB (idb)
 * and memory (no IndexedDB, or a broken one), chosen by openEventStore().
 */
import type { HunchEvent } from '@hunch/core';

export interface RetentionLimits {
  /** Most events kept; the oldest are evicted first (default 10,000). */
  maxEvents: number;
  /** Events older than this are evicted (default 90 days). */
  maxAgeMs: number;
  /** Most events waiting for upload (default 10,000); the oldest are dropped first. */
  maxOutbox: number;
}

export interface AddOptions {
  /** Also queue the event for upload (analytics consent given and a collector configured). */
  upload: boolean;
}

export interface EventStore {
  readonly kind: 'indexeddb' | 'memory';
  /** Queues an event (microseconds; no I/O): written with the next batch. */
  add(event: HunchEvent, options: AddOptions): void;
  /** Resolves once every event queued so far is written (or, on failure, kept in memory). */
  flush(): Promise<void>;
  /**
   * The page is going away (pagehide): writes what is queued now, in a transaction started in
   * this task, since a later task may never run. Synchronous; nothing to wait for.
   */
  leaving(): void;
  /** Every stored event, oldest first. */
  all(): Promise<HunchEvent[]>;
  /** The latest `limit` events, oldest first, without reading the whole history. */
  recent(limit: number): Promise<HunchEvent[]>;
  /** Up to `limit` events waiting for upload, oldest first. */
  outbox(limit: number): Promise<HunchEvent[]>;
  /** Removes these ids from the upload queue (the events stay in the history). */
  acknowledge(ids: readonly string[]): Promise<void>;
  /** Empties the upload queue only (analytics consent revoked). */
  clearOutbox(): Promise<void>;
  /** Erases everything this store holds, queued writes included, in this tab and the others. */
  clear(): Promise<void>;
  /** Closes the database; later calls fall back to memory. */
  close(): void;
}
