/** The SQLite store on real files: the store contract, schema upgrades, durability settings, read-only opening. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/sqlite-store.js';
import { shopperEvents, tempDir } from './helpers.js';
import { all, describeStoreContract } from './store-contract.js';

let work: Awaited<ReturnType<typeof tempDir>>;
let n = 0;
const fresh = () => join(work.dir, `store-${++n}.sqlite`);

beforeAll(async () => {
  work = await tempDir('store');
});
afterAll(async () => {
  await work?.remove();
});

describeStoreContract('SQLite', async (options) => openSqliteStore(fresh(), options));

describe('openSqliteStore', () => {
  it('keeps the shopper id in a column of its own, and upgrades a file written before it existed', async () => {
    const path = fresh();
    const old = new Database(path);
    old.exec(`CREATE TABLE events (id TEXT PRIMARY KEY, ts INTEGER NOT NULL, session TEXT NOT NULL, name TEXT NOT NULL, received INTEGER NOT NULL, event TEXT NOT NULL);
      PRAGMA user_version = 1;`);
    const [before, after] = shopperEvents(2, 7);
    old.prepare('INSERT INTO events VALUES (?, ?, ?, ?, 0, ?)').run(before!.id, before!.ts, before!.sessionId, before!.name, JSON.stringify(before));
    old.close();

    const store = openSqliteStore(path);
    const shopperId = '3b241101-e2bb-4255-8caf-4136c566a962';
    await store.insert([{ ...after!, shopperId }]);
    expect((await all(store.read())).map((event) => event.shopperId)).toEqual([undefined, shopperId]);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare('SELECT shopper FROM events ORDER BY ts').pluck().all()).toEqual([null, shopperId]);
    db.close();
  });

  it('keeps events across reopening, in WAL mode with full sync by default', async () => {
    const path = fresh();
    const store = openSqliteStore(path);
    // synchronous is per connection (not kept in the file): only the store's own can tell. 2 = FULL.
    expect(store.durability()).toEqual({ journalMode: 'wal', synchronous: 2 });
    const events = shopperEvents(5, 4);
    await store.insert(events);
    await store.close();
    await expect(store.count()).rejects.toThrow(/the store is closed/);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(2);
    const row = raw.prepare('SELECT id, ts, session, name, event FROM events WHERE id = ?').get(events[0]!.id);
    expect(row).toEqual({ id: events[0]!.id, ts: events[0]!.ts, session: events[0]!.sessionId, name: events[0]!.name, event: JSON.stringify(events[0]) });
    raw.close();
    const again = openSqliteStore(path);
    expect(await again.count()).toBe(5);
    await again.close();
  });

  it('opens read-only for training, with clear errors for what is not a collector database', async () => {
    const path = fresh();
    const writer = openSqliteStore(path, { synchronous: 'normal' });
    expect(writer.durability()).toEqual({ journalMode: 'wal', synchronous: 1 });
    await writer.insert(shopperEvents(3, 5));
    // A reader beside a running writer (the collector keeps going while a model trains).
    const reader = openSqliteStore(path, { readonly: true });
    expect(await reader.count()).toBe(3);
    await expect(reader.insert(shopperEvents(1, 6))).rejects.toThrow(/opened read-only/);
    await reader.close();
    await writer.close();

    const missing = join(work.dir, 'missing.sqlite');
    expect(() => openSqliteStore(missing, { readonly: true })).toThrow(`cannot open ${missing}: `);
    const other = join(work.dir, 'other.sqlite');
    const plain = new Database(other);
    plain.exec('CREATE TABLE t (x)');
    plain.close();
    expect(() => openSqliteStore(other, { readonly: true })).toThrow(`${other} is not a collector database (no events table)`);
    const text = join(work.dir, 'text.sqlite');
    await writeFile(text, 'not a database at all, just some text that is long enough to look like a header');
    expect(() => openSqliteStore(text, { readonly: true })).toThrow(`cannot open ${text}: file is not a database`);
    const newer = fresh();
    const future = new Database(newer);
    future.pragma('user_version = 7');
    future.close();
    expect(() => openSqliteStore(newer)).toThrow(`${newer} was written by a newer collector (schema 7, this one reads 2)`);
  });
});
