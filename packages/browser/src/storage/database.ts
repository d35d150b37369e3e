/**
 * The IndexedDB schema, its migrations, and opening a connection that never hangs the SDK:
 * a version change another tab blocks, or an open that never answers (old Safari), ends in
 * an error after a short wait so the caller can fall back to memory.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { HunchEvent } from '@hunch/core';
import { DB_NAME } from '../lib/names.js';

export { DB_NAME };
export const DB_VERSION = 2;

export interface HunchDB extends DBSchema {
  /** The shopper's history, read by the model. */
  events: { key: string; value: HunchEvent; indexes: { ts: number } };
  /** Copies of events waiting for upload; removed when the collector acknowledges them. */
  outbox: { key: string; value: HunchEvent; indexes: { ts: number } };
}

export type HunchDatabase = IDBPDatabase<HunchDB>;
type UpgradeTransaction = IDBPTransaction<HunchDB, StoreNames<HunchDB>[], 'versionchange'>;

/**
 * MIGRATIONS[v - 1] turns a version v - 1 database into version v. Each runs once, in order,
 * inside the upgrade transaction, so a v1 database opened at v2 keeps its events. To add v3:
 * append a function and bump DB_VERSION.
 */
const MIGRATIONS: ReadonlyArray<(db: HunchDatabase, tx: UpgradeTransaction) => void> = [
  // v1 (the first shipped schema): the history, ordered by time.
  (db) => {
    db.createObjectStore('events', { keyPath: 'id' }).createIndex('ts', 'ts');
  },
  // v2: an upload queue beside the history, so uploading never rescans or mutates it.
  (db) => {
    db.createObjectStore('outbox', { keyPath: 'id' }).createIndex('ts', 'ts');
  },
];

if (MIGRATIONS.length !== DB_VERSION) throw new Error('storage: one migration per schema version');

export interface ConnectionEvents {
  /**
   * A newer version in another tab wants to upgrade, or a tab's forget() deletes the database
   * (`deleted`): the connection must be closed.
   */
  blocking(deleted: boolean): void;
  /** The browser closed the connection (storage cleared, disk error). */
  terminated(): void;
}

export interface OpenOptions {
  /** How long to wait once another tab holding an older version blocks our upgrade. */
  blockedTimeoutMs?: number;
  /** How long any open may take before we give up (some browsers never answer). */
  openTimeoutMs?: number;
}

export async function openDatabase(events: ConnectionEvents, options: OpenOptions = {}): Promise<HunchDatabase> {
  const { blockedTimeoutMs = 1_000, openTimeoutMs = 10_000 } = options;
  if (typeof indexedDB === 'undefined' || indexedDB === null) throw new Error('IndexedDB is not available');
  let gaveUp = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let fail: (error: Error) => void = () => {};
  const timeout = new Promise<never>((_, reject) => {
    fail = reject;
    timer = setTimeout(() => reject(new Error('IndexedDB open timed out')), openTimeoutMs);
  });
  const opening = openDB<HunchDB>(DB_NAME, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, tx) {
      for (let version = oldVersion + 1; version <= DB_VERSION; version++) MIGRATIONS[version - 1]!(db, tx);
    },
    blocked() {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new Error('IndexedDB upgrade blocked by another tab')), blockedTimeoutMs);
    },
    blocking: (_version, next) => events.blocking(next === null),
    terminated: () => events.terminated(),
  });
  // If we gave up but the open later succeeds, close it at once so we block no one.
  opening.then(
    (db) => {
      if (gaveUp) db.close();
    },
    () => {},
  );
  try {
    return await Promise.race([opening, timeout]);
  } catch (error) {
    gaveUp = true;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Deletes the database (forget()). Other tabs' connections close on the `versionchange` event
 * it fires (IndexedDBStore's `blocking`), and opens asked for after it wait for it, so a tab
 * that stores again afterwards starts an empty database. Rejects when the browser refuses, or
 * when a connection that ignores `versionchange` (another page's older SDK) still blocks it
 * after `blockedTimeoutMs`: the deletion then completes once that page closes it.
 */
export function deleteDatabase({ blockedTimeoutMs = 5_000 }: { blockedTimeoutMs?: number } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined' || indexedDB === null) return resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let request: IDBOpenDBRequest;
    try {
      request = indexedDB.deleteDatabase(DB_NAME);
    } catch (error) {
      return reject(error instanceof Error ? error : new Error(String(error)));
    }
    request.onsuccess = () => {
      clearTimeout(timer);
      resolve();
    };
    request.onerror = () => {
      clearTimeout(timer);
      reject(request.error ?? new Error('IndexedDB deletion failed'));
    };
    request.onblocked = () => {
      clearTimeout(timer);
      timer = setTimeout(() => reject(new Error('IndexedDB deletion blocked by another tab')), blockedTimeoutMs);
    };
  });
}
