/**
 * `hunch train --from DB`: a model trained from what the collector stored, the loop a shop
 * runs (collect -> train). The CLI is this checkout's, bundled, in its own process.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chunkEvents } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, type Cli } from '../../trainer/test/cli-helpers.js';
import { openPostgresStore } from '../src/postgres-store.js';
import { startCollector } from '../src/server.js';
import { openSqliteStore } from '../src/sqlite-store.js';
import type { EventStore } from '../src/store.js';
import { simulated, tempDir } from './helpers.js';
import { useTestPostgres } from './postgres.js';

let cli: Cli;
let work: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  cli = await buildCli('train-from');
  work = await tempDir('train');
});
afterAll(async () => {
  await cli?.dispose();
  await work?.remove();
});

/** Tiny and one worker (the test bundle has no train-worker.js beside it): seconds, not minutes. */
const tiny = ['--layers', '1', '--embd', '8', '--heads', '2', '--context', '16', '--epochs', '1', '--batch-tokens', '128', '--workers', '1'];

describe('hunch train --from', () => {
  /** Fills `store` over HTTP as the SDK uploads (16 KB batches, the first sent twice: a lost answer), then trains from `from`. */
  async function collectThenTrain(store: EventStore, from: string, out: string): Promise<void> {
    const events = simulated(60, 9);
    const sessions = new Set(events.map((event) => event.sessionId)).size;
    const collector = await startCollector({ store, port: 0 });
    const { chunks } = chunkEvents(events, 16_384);
    for (const chunk of [chunks[0]!, ...chunks]) {
      const response = await fetch(collector.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: chunk.body });
      expect(response.status).toBe(200);
    }
    await collector.close();
    expect(await store.count()).toBe(events.length);
    await store.close();

    const ckpt = join(work.dir, out);
    const trained = await cli.run(['train', '--from', from, '--out', ckpt, ...tiny]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toContain(`read ${events.length} events in ${sessions} sessions`);
    expect(trained.stderr).toMatch(/step (\d+)\/\1 ep 1 {2}loss/);
    const state = JSON.parse(await readFile(join(ckpt, 'hunch-train.json'), 'utf8')) as { training: { events: number; sessions: number; skippedLines: number } };
    expect(state.training).toMatchObject({ events: events.length, sessions, skippedLines: 0 });
  }

  it('trains from the SQLite database the collector filled over HTTP', async () => {
    const db = join(work.dir, 'events.sqlite');
    await collectThenTrain(openSqliteStore(db), db, 'ckpt');
  });

  describe('from PostgreSQL', () => {
    const postgres = useTestPostgres();

    it('trains from the PostgreSQL database the collector filled over HTTP', async () => {
      const url = await postgres.freshDatabase();
      await collectThenTrain(await openPostgresStore(url), url, 'ckpt-pg');
    });

    it('fails at start with one line for a PostgreSQL database it cannot read', async () => {
      const out = join(work.dir, 'nope-pg');
      const empty = await postgres.freshDatabase();
      for (const [from, message] of [
        [empty, `hunch: ${empty} is not a collector database (no hunch_events table)`],
        ['postgres://hunch:secret@127.0.0.1:1/hunch', 'hunch: cannot open postgres://hunch@127.0.0.1:1/hunch: connect ECONNREFUSED 127.0.0.1:1'],
      ]) {
        const failed = await cli.run(['train', '--from', from!, '--out', out, ...tiny]);
        expect(failed.code).not.toBe(0);
        expect(failed.stderr.trim()).toBe(message);
      }
    });
  });

  it('needs exactly one of --events and --from, and says so in one line', async () => {
    const out = join(work.dir, 'nope');
    const both = await cli.run(['train', '--events', 'a.ndjson', '--from', 'b.sqlite', '--out', out]);
    expect(both.code).not.toBe(0);
    expect(both.stderr.trim()).toBe('hunch: give either --events FILE or --from DB, not both (run "hunch help" for usage)');
    const neither = await cli.run(['train', '--out', out]);
    expect(neither.code).not.toBe(0);
    expect(neither.stderr.trim()).toBe('hunch: --events FILE (NDJSON) or --from DB (a "hunch collect" database) is required (run "hunch help" for usage)');
    const missing = join(work.dir, 'missing.sqlite');
    const absent = await cli.run(['train', '--from', missing, '--out', out, ...tiny]);
    expect(absent.code).not.toBe(0);
    expect(absent.stderr.trim().split('\n').at(-1)).toMatch(new RegExp(`^hunch: cannot open ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  });
});
