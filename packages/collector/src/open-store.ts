/**
 * Opens the store a location names, as `hunch collect --db` and `hunch train --from` take it:
 * a postgres:// (or postgresql://) URL is PostgreSQL, anything else an SQLite file path.
 */
import { isPostgresUrl, locationName } from '@hunch/core';
import { openPostgresStore } from './postgres-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { EventStore } from './store.js';

export interface OpenEventStoreOptions {
  /** Open for reading only (training). Default false. */
  readonly?: boolean;
  /** SQLite's durability (sqlite-store.ts); PostgreSQL's is the server's. */
  synchronous?: 'full' | 'normal';
}

export interface OpenedEventStore {
  store: EventStore;
  /** The location for messages: the path, or the URL without its password. */
  name: string;
}

/** Opens (and for writing creates) the store; rejects with one line when it cannot (unreachable, wrong URL, not a collector's). */
export async function openEventStore(location: string, options: OpenEventStoreOptions = {}): Promise<OpenedEventStore> {
  if (isPostgresUrl(location)) {
    const store = await openPostgresStore(location, { readonly: options.readonly ?? false });
    return { store, name: locationName(location) };
  }
  const store = openSqliteStore(location, { readonly: options.readonly ?? false, ...(options.synchronous ? { synchronous: options.synchronous } : {}) });
  return { store, name: location };
}
