/**
 * Where the collector puts events: one small interface, so the storage can be swapped
 * without touching the HTTP side or the trainer.
 *
 * SQLite (sqlite-store.ts) is the default: one file, no server to run, and plenty for one
 * shop's traffic (thousands of events a second; BENCHMARKS.md). PostgreSQL
 * (postgres-store.ts) serves a shop that keeps its data there or runs several collectors.
 * Elsewhere, a shop implements this same interface over where its data lives:
 *   - a warehouse (BigQuery, Snowflake, Redshift, ClickHouse): `insert` is a
 *     streaming insert or a MERGE keyed by event id, `read` a query ordered by `ts`;
 *   - a stream (Kafka, Kinesis, Pub/Sub): `insert` produces with the event id as the key and
 *     resolves once the broker acknowledged the write (acks=all), `read` consumes a topic
 *     compacted by key between offsets fixed when read() was called.
 * The one rule every implementation keeps: `insert` resolves only when the events are durably
 * stored, because the collector then tells the browser to forget them.
 */
import type { HunchEvent } from '@hunch/core';

export interface InsertResult {
  /** Events new to the store. */
  stored: number;
  /** Events whose id was already stored (a retried batch): kept as they were. */
  duplicates: number;
}

/**
 * The events stored when `read()` was called, in time order (`ts`, then arrival). Iterable
 * more than once, always over the same events: the trainer makes two passes and events that
 * arrive in between must not change the second.
 */
export type EventSnapshot = AsyncIterable<HunchEvent>;

export interface EventStore {
  /**
   * Stores validated events, idempotently by event id. Resolves only once they are durable
   * (committed), so that acknowledging them to the client cannot lose them.
   */
  insert(events: readonly HunchEvent[]): Promise<InsertResult>;
  /** Events stored. */
  count(): Promise<number>;
  /** The events stored now, streamed in time order (for training). */
  read(): EventSnapshot;
  close(): Promise<void>;
}
