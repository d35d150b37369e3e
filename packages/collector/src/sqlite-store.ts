/**
 * The default EventStore: one SQLite file through better-sqlite3 (major 12: 13 crashes on
 * Node 20).
 *
 * Durability: WAL journal with synchronous=FULL by default, so a committed batch is on disk
 * (fsynced) before insert() resolves and the collector acknowledges it: it survives the process
 * being killed and the machine losing power. synchronous=NORMAL (`synchronous: 'normal'`) skips
 * that fsync: a killed process still loses nothing (the commit is in the WAL file, in the OS's
 * cache), but a power cut can lose the last commits, which the browsers were already told to
 * forget. FULL's fsync costs milliseconds per commit; group commit (group-commit.ts) shares
 * one among all the requests of a turn of the event loop, so FULL still stores thousands of
 * events a second (BENCHMARKS.md, bench:collector).
 *
 * Each event is kept as the JSON of the validated, scrubbed event, beside indexed columns for
 * the queries a shop runs on it (by id, time, session, name).
 */
import Database from 'better-sqlite3';
import type { HunchEvent } from '@hunch/core';
import { groupCommitter } from './group-commit.js';
import type { EventSnapshot, EventStore, InsertResult } from './store.js';

export interface SqliteStoreOptions {
  /** Open for reading only (training); the file must exist. Default false. */
  readonly?: boolean;
  /** 'full' (default): durable through power loss; 'normal': through a killed process only. */
  synchronous?: 'full' | 'normal';
  /** Rows fetched per query while reading (default 1000). */
  pageSize?: number;
}

/**
 * Bumped when the table layout changes; a newer file is refused rather than misread, an older
 * one upgraded in place (MIGRATIONS) when opened for writing.
 */
const SCHEMA_VERSION = 2;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    id       TEXT PRIMARY KEY,
    ts       INTEGER NOT NULL,   -- event time, ms since the epoch (the client's clock)
    session  TEXT NOT NULL,
    name     TEXT NOT NULL,
    shopper  TEXT,               -- the anonymous shopper id (experiments' unit), when uploaded
    received INTEGER NOT NULL,   -- when the collector stored it, ms since the epoch
    event    TEXT NOT NULL       -- the validated, scrubbed HunchEvent as JSON
  );
  CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
  CREATE INDEX IF NOT EXISTS events_session ON events (session, ts);
  CREATE INDEX IF NOT EXISTS events_name ON events (name, ts);
  CREATE INDEX IF NOT EXISTS events_shopper ON events (shopper, ts);
`;

/** Upgrades from each older version to the next: index i takes version i + 1 to i + 2. */
const MIGRATIONS = [`ALTER TABLE events ADD COLUMN shopper TEXT`];

interface PageRow {
  seq: number;
  ts: number;
  event: string;
}

export interface SqliteStore extends EventStore {
  readonly path: string;
  /**
   * This connection's durability settings, read back from SQLite (synchronous is per
   * connection, so only the store's own connection can tell): journal mode and synchronous
   * (2 = FULL, 1 = NORMAL).
   */
  durability(): { journalMode: string; synchronous: number };
}

/**
 * Inserts batches in one transaction (all of them are committed, or none); returns the rows
 * each batch added (the rest were duplicates).
 */
function batchInserter(db: Database.Database): (batches: Array<readonly HunchEvent[]>) => number[] {
  const insert = db.prepare('INSERT OR IGNORE INTO events (id, ts, session, name, shopper, received, event) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const transaction = db.transaction((batches: Array<readonly HunchEvent[]>, received: number): number[] =>
    batches.map((events) => {
      let stored = 0;
      for (const event of events) stored += insert.run(event.id, event.ts, event.sessionId, event.name, event.shopperId ?? null, received, JSON.stringify(event)).changes;
      return stored;
    }),
  );
  return (batches) => transaction(batches, Date.now());
}

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  const readonly = options.readonly ?? false;
  const pageSize = options.pageSize ?? 1000;
  let db: Database.Database;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly });
  } catch (error) {
    throw new Error(`cannot open ${path}: ${(error as Error).message}`);
  }
  try {
    // A reader waits for a writer's commit instead of failing with SQLITE_BUSY.
    db.pragma('busy_timeout = 5000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`${path} was written by a newer collector (schema ${version}, this one reads ${SCHEMA_VERSION})`);
    if (readonly) {
      const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
      if (!table) throw new Error(`${path} is not a collector database (no events table)`);
    } else {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
      db.transaction(() => {
        // A file from before user_version was kept reads as 0 but has version 1's table.
        if (hasTable) for (const migration of MIGRATIONS.slice(Math.max(version, 1) - 1)) db.exec(migration);
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
  } catch (error) {
    db.close();
    // SQLite's own errors ("file is not a database") do not say which file.
    throw error instanceof Database.SqliteError ? new Error(`cannot open ${path}: ${error.message}`) : error;
  }

  const group = readonly ? undefined : groupCommitter(batchInserter(db));
  const countRows = db.prepare('SELECT count(*) AS n FROM events').pluck();
  const lastSeq = db.prepare('SELECT coalesce(max(rowid), 0) FROM events').pluck();
  // Keyset pages in (ts, rowid) order up to the snapshot's last rowid: no statement stays open
  // between pages, so inserts on this connection may interleave with a read.
  const page = db.prepare(
    'SELECT rowid AS seq, ts, event FROM events WHERE rowid <= ? AND (ts, rowid) > (?, ?) ORDER BY ts, rowid LIMIT ?',
  );
  let closed = false;
  const open = () => {
    if (closed) throw new Error(`${path}: the store is closed`);
  };

  return {
    path,
    async insert(events) {
      open();
      if (!group) throw new Error(`${path} was opened read-only`);
      if (events.length === 0) return { stored: 0, duplicates: 0 };
      const stored = await group.add(events);
      return { stored, duplicates: events.length - stored } satisfies InsertResult;
    },
    async count() {
      open();
      return countRows.get() as number;
    },
    durability() {
      open();
      return { journalMode: db.pragma('journal_mode', { simple: true }) as string, synchronous: db.pragma('synchronous', { simple: true }) as number };
    },
    read(): EventSnapshot {
      open();
      // Rowids only grow (rows are never deleted), so "rowid <= the largest now" is exactly
      // the events committed now, however many are added later.
      const through = lastSeq.get() as number;
      return {
        async *[Symbol.asyncIterator]() {
          let after: [number, number] = [-1, 0]; // before every event: ts is never negative
          for (;;) {
            open();
            const rows = page.all(through, after[0], after[1], pageSize) as PageRow[];
            for (const row of rows) yield JSON.parse(row.event) as HunchEvent;
            const last = rows.at(-1);
            if (!last || rows.length < pageSize) return;
            after = [last.ts, last.seq];
          }
        },
      };
    },
    async close() {
      if (closed) return;
      // Inserts already accepted are committed (and their callers answered) before closing.
      group?.flush();
      closed = true;
      db.close();
    },
  };
}
