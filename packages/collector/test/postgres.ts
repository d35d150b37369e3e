/**
 * A throw-away PostgreSQL server for a test file (scripts/lib/throwaway-postgres.mjs: its own
 * cluster in a temp directory, on a free port), and a fresh empty database per test on it.
 * Without PostgreSQL binaries the file fails with one line saying what to install.
 */
import pg from 'pg';
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
