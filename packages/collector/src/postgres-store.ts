/**
 * An EventStore in PostgreSQL, for a shop whose data already lives there or that runs several
 * collector processes (`hunch collect --db postgres://...`): they all write the one table.
 *
 * Writes: each insert() is one INSERT ... ON CONFLICT (id) DO NOTHING statement, committed on
 * its own, so it resolves only after the commit (synchronous_commit is raised to `on` for the
 * store's connections if the server has it `off`). A conflict on the id keeps the first version
 * and is counted as a duplicate, whichever process inserted it. Concurrent requests use a pool
 * of connections; PostgreSQL shares one WAL flush among the commits that wait together.
 *
 * Reads: keyset pages in (ts, seq) order, each an index range scan of `pageSize` rows on any
 * pooled connection, so memory stays bounded, no transaction is held open for the length of a
 * training run (that would hold back VACUUM across the shop's whole database) and a read
 * survives a server restart between pages. The snapshot is every row whose seq is at most the
 * largest committed when read() was called: seqs are taken inside the inserting transactions,
 * so read() briefly locks the table in SHARE mode (waiting for inserts in flight, holding new
 * ones back for that moment) to learn a seq below which nothing can still commit.
 */
import pg from 'pg';
import { locationName, type HunchEvent } from '@hunch/core';
import type { EventSnapshot, EventStore, InsertResult } from './store.js';

export interface PostgresStoreOptions {
  /** Only read (training): the table must exist; nothing is created. Default false. */
  readonly?: boolean;
  /** Rows fetched per query while reading (default 1000). */
  pageSize?: number;
  /** Connections in the pool (default 10). */
  connections?: number;
}

export interface PostgresStore extends EventStore {
  /** The URL without its password, for messages. */
  readonly name: string;
}

/** The table, in the first schema of the connection's search_path. */
const TABLE = 'hunch_events';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS ${TABLE} (
    seq      bigint GENERATED ALWAYS AS IDENTITY, -- arrival order (ties in ts)
    id       text PRIMARY KEY,
    ts       bigint NOT NULL,  -- event time, ms since the epoch (the client's clock)
    session  text NOT NULL,
    name     text NOT NULL,
    shopper  text,             -- the anonymous shopper id (experiments' unit), when uploaded
    received bigint NOT NULL,  -- when the collector stored it, ms since the epoch
    event    json NOT NULL     -- the validated, scrubbed HunchEvent (json, not jsonb: kept as written)
  );
  CREATE INDEX IF NOT EXISTS ${TABLE}_ts ON ${TABLE} (ts, seq);
  CREATE INDEX IF NOT EXISTS ${TABLE}_session ON ${TABLE} (session, ts);
  CREATE INDEX IF NOT EXISTS ${TABLE}_name ON ${TABLE} (name, ts);
  CREATE INDEX IF NOT EXISTS ${TABLE}_shopper ON ${TABLE} (shopper, ts);
`;

const INSERT = `
  INSERT INTO ${TABLE} (id, ts, session, name, shopper, event, received)
  SELECT *, $7::bigint FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::json[])
  ON CONFLICT (id) DO NOTHING`;

const PAGE = `
  SELECT seq, ts, event FROM ${TABLE}
  WHERE seq <= $1 AND (ts, seq) > ($2, $3)
  ORDER BY ts, seq LIMIT $4`;

/** One line for a connection error (a refused dual-stack connect is an AggregateError with no message of its own). */
function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reason(error.errors[0]);
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!;
}

interface PageRow {
  seq: string;
  ts: string;
  event: HunchEvent;
}

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const name = locationName(url);
  const readonly = options.readonly ?? false;
  const pageSize = options.pageSize ?? 1000;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`cannot open ${name}: not a URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new Error(`cannot open ${name}: not a postgres:// URL`);

  const pool = new pg.Pool({ connectionString: url, max: options.connections ?? 10, connectionTimeoutMillis: 10_000 });
  // An idle connection that breaks (the server restarted) is dropped by the pool; the next query
  // opens a new one or fails on its own, and that failure is reported where it happens.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    // Acknowledged means committed and flushed: refuse a server default that skips the flush.
    client.query("SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off'").catch(() => {});
  });

  try {
    const client = await pool.connect();
    try {
      if (readonly) {
        const { rows } = await client.query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS found`, [TABLE]);
        if (!rows[0]!.found) throw new Error(`${name} is not a collector database (no ${TABLE} table)`);
      } else {
        // Collectors starting together must not race to create the same table.
        await client.query('BEGIN');
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('${TABLE}'))`);
        await client.query(SCHEMA);
        await client.query('COMMIT');
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    const message = reason(error);
    throw new Error(message.startsWith(name) ? message : `cannot open ${name}: ${message}`);
  }

  let closed = false;
  const open = () => {
    if (closed) throw new Error(`${name}: the store is closed`);
  };
  // A read's snapshot is fixed when read() is called: inserts through this store wait for it.
  let fencing: Promise<unknown> = Promise.resolve();

  /** The largest seq below which every insert has committed (or rolled back) for good. */
  async function fence(): Promise<string> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`LOCK TABLE ${TABLE} IN SHARE MODE`);
      const { rows } = await client.query<{ through: string }>(`SELECT coalesce(max(seq), 0) AS through FROM ${TABLE}`);
      await client.query('COMMIT');
      return rows[0]!.through;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  return {
    name,
    async insert(events) {
      open();
      if (readonly) throw new Error(`${name} was opened read-only`);
      if (events.length === 0) return { stored: 0, duplicates: 0 };
      await fencing;
      const result = await pool.query(INSERT, [
        events.map((event) => event.id),
        events.map((event) => event.ts),
        events.map((event) => event.sessionId),
        events.map((event) => event.name),
        events.map((event) => event.shopperId ?? null),
        events.map((event) => JSON.stringify(event)),
        Date.now(),
      ]);
      const stored = result.rowCount ?? 0;
      return { stored, duplicates: events.length - stored } satisfies InsertResult;
    },
    async count() {
      open();
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${TABLE}`);
      return Number(rows[0]!.n);
    },
    read(): EventSnapshot {
      open();
      const through = fence();
      fencing = through.catch(() => {});
      return {
        async *[Symbol.asyncIterator]() {
          const last = await through;
          let after: [string, string] = ['-1', '0']; // before every event: ts is never negative
          for (;;) {
            open();
            const { rows } = await pool.query<PageRow>(PAGE, [last, after[0], after[1], pageSize]);
            for (const row of rows) yield row.event;
            const end = rows.at(-1);
            if (!end || rows.length < pageSize) return;
            after = [end.ts, end.seq];
          }
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      // Queries in flight finish first: pool.end() waits for checked-out connections.
      await pool.end();
    },
  };
}
