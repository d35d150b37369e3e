/**
 * A throw-away PostgreSQL server for a test file (scripts/lib/throwaway-postgres.mjs: its own
 * cluster in a temp directory, on a free port), and a fresh empty database per test on it.
 * Without PostgreSQL binaries the file fails with one line saying what to install.
 */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../../scripts/lib/throwaway-postgres.mjs';

export interface TestPostgres {
  server: ThrowawayPostgres;
  /** A URL of a database created empty for the caller. */
  freshDatabase(): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const server = await startThrowawayPostgres();
  let n = 0;
  return {
    server,
    async freshDatabase() {
      const name = `test_${++n}`;
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return server.url.replace(/\/hunch$/, `/${name}`);
    },
    stop: () => server.stop(),
  };
}

/** A throw-away server for the enclosing file or describe block: started before its tests, stopped after. */
export function useTestPostgres(): Omit<TestPostgres, 'stop'> {
  let postgres: TestPostgres | undefined;
  beforeAll(async () => {
    postgres = await startTestPostgres();
  });
  afterAll(async () => {
    await postgres?.stop();
  });
  const started = (): TestPostgres => {
    if (!postgres) throw new Error('the throw-away PostgreSQL server did not start');
    return postgres;
  };
  return {
    get server() {
      return started().server;
    },
    freshDatabase: () => started().freshDatabase(),
  };
}
