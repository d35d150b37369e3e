/** @hunch/collector public API: the `hunch collect` endpoint and its storage, as functions. */
export { BYTES_PER_TOKEN, DEFAULT_PATH, DEFAULT_PORT, DEFAULT_RATE_LIMIT, startCollector } from './server.js';
export type { Collector, CollectorOptions } from './server.js';
export type { EventSnapshot, EventStore, InsertResult } from './store.js';
export { openSqliteStore } from './sqlite-store.js';
export type { SqliteStore, SqliteStoreOptions } from './sqlite-store.js';
export { openPostgresStore } from './postgres-store.js';
export type { PostgresStore, PostgresStoreOptions } from './postgres-store.js';
export { openEventStore } from './open-store.js';
export type { OpenEventStoreOptions, OpenedEventStore } from './open-store.js';
export { RateLimiter } from './rate-limit.js';
export type { Admission, RateLimitOptions } from './rate-limit.js';
export { checkAllowOrigins } from './cors.js';
