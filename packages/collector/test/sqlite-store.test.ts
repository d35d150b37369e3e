/** The SQLite store on real files: idempotent inserts, time-ordered snapshots, durability settings. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { HunchEvent } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/sqlite-store.js';
import type { EventSnapshot } from '../src/store.js';
import { shopperEvents, tempDir } from './helpers.js';

let work: Awaited<ReturnType<typeof tempDir>>;
let n = 0;
const fresh = () => join(work.dir, `store-${++n}.sqlite`);

beforeAll(async () => {
  work = await tempDir('store');
});
afterAll(async () => {
  await work?.remove();
});

async function all(snapshot: EventSnapshot): Promise<HunchEvent[]> {
  const events: HunchEvent[] = [];
  for await (const event of snapshot) events.push(event);
  return events;
}

const at = (event: HunchEvent, ts: number, id = event.id): HunchEvent => ({ ...event, id, ts });

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

  it('inserts idempotently by id and says what was new', async () => {
    const store = openSqliteStore(fresh());
    const events = shopperEvents(40, 1);
    expect(await store.insert(events.slice(0, 25))).toEqual({ stored: 25, duplicates: 0 });
    expect(await store.insert(events.slice(20, 40))).toEqual({ stored: 15, duplicates: 5 });
    expect(await store.insert([])).toEqual({ stored: 0, duplicates: 0 });
    expect(await store.count()).toBe(40);
    // A duplicate id keeps the first version: an id names one event forever.
    await store.insert([{ ...events[0]!, ts: 1 }]);
    expect((await all(store.read())).find((e) => e.id === events[0]!.id)).toEqual(events[0]);
    await store.close();
  });

  it('reads in time order (ties in arrival order), across pages, the events as stored', async () => {
    const store = openSqliteStore(fresh(), { pageSize: 3 });
    const [a, b, c, d, e, f, g] = shopperEvents(7, 2) as [HunchEvent, HunchEvent, HunchEvent, HunchEvent, HunchEvent, HunchEvent, HunchEvent];
    await store.insert([at(a, 500), at(b, 100), at(c, 300)]);
    await store.insert([at(d, 300), at(e, 300), at(f, 0), at(g, 300)]);
    const read = await all(store.read());
    expect(read.map((event) => event.id)).toEqual([f.id, b.id, c.id, d.id, e.id, g.id, a.id]);
    expect(read[0]).toEqual(at(f, 0));
    await store.close();
  });

  it('reads a snapshot: events stored after read() are not in it, however often it is iterated', async () => {
    const store = openSqliteStore(fresh(), { pageSize: 2 });
    const events = shopperEvents(10, 3);
    await store.insert(events.slice(0, 5));
    const snapshot = store.read();
    // Later events, some earlier in time than the snapshot's: still left out.
    await store.insert(events.slice(5).map((event, i) => at(event, i)));
    const first = await all(snapshot);
    const second = await all(snapshot);
    expect(first.map((e) => e.id).sort()).toEqual(events.slice(0, 5).map((e) => e.id).sort());
    expect(second).toEqual(first);
    expect(await all(store.read())).toHaveLength(10);
    // Inserting while a read is under way (between pages) is fine.
    let seen = 0;
    for await (const event of store.read()) {
      if (seen++ === 1) await store.insert([at(event, 0, 'f0000000-0000-4000-8000-000000000000')]);
    }
    expect(seen).toBe(10);
    await store.close();
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
