/** The PostgreSQL store on a real server: the store contract, reads in pages, read-only opening, clear errors. */
import { createServer, connect, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../src/postgres-store.js';
import { shopperEvents } from './helpers.js';
import { useTestPostgres } from './postgres.js';
import { all, at, describeStoreContract } from './store-contract.js';

const postgres = useTestPostgres();

describeStoreContract('PostgreSQL', async (options) => openPostgresStore(await postgres.freshDatabase(), options));

/** A TCP proxy in front of the server that counts the bytes the server sends. */
async function countingProxy(port: number): Promise<{ port: number; received: () => number; close(): Promise<void> }> {
  let received = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    upstream.on('data', (chunk: Buffer) => (received += chunk.length));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    received: () => received,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('openPostgresStore', () => {
  it('streams a large table in pages: reading its first events fetches a page, not the table', async () => {
    const url = await postgres.freshDatabase();
    const writer = await openPostgresStore(url);
    const events = shopperEvents(20_000, 11);
    for (let i = 0; i < events.length; i += 2000) await writer.insert(events.slice(i, i + 2000));
    await writer.close();

    const proxy = await countingProxy(postgres.server.port);
    const reader = await openPostgresStore(url.replace(`:${postgres.server.port}/`, `:${proxy.port}/`), { readonly: true, pageSize: 500 });
    const before = proxy.received();
    const iterator = reader.read()[Symbol.asyncIterator]();
    const first: string[] = [];
    for (let i = 0; i < 10; i++) first.push((await iterator.next()).value!.id);
    const afterFirst = proxy.received() - before;
    let previousTs = -1;
    let count = first.length;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      expect(next.value.ts).toBeGreaterThanOrEqual(previousTs);
      previousTs = next.value.ts;
      count++;
    }
    const whole = proxy.received() - before;
    expect(count).toBe(events.length);
    // One page of 500 is 1/40 of the table: far less than a tenth of what the whole read took.
    expect(afterFirst).toBeLessThan(whole / 10);
    await reader.close();
    await proxy.close();
  });

  it('keeps the event as JSON beside columns a shop can query, and the first schema it made', async () => {
    const url = await postgres.freshDatabase();
    const store = await openPostgresStore(url);
    const shopperId = '3b241101-e2bb-4255-8caf-4136c566a962';
    const [event] = shopperEvents(1, 12);
    await store.insert([{ ...event!, shopperId }]);
    await store.close();
    // Opening again (a second collector) leaves the table and its rows as they are.
    const again = await openPostgresStore(url);
    expect(await again.count()).toBe(1);
    await again.close();
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    const { rows } = await raw.query('SELECT id, ts, session, name, shopper, event FROM hunch_events');
    await raw.end();
    expect(rows).toEqual([{ id: event!.id, ts: String(event!.ts), session: event!.sessionId, name: event!.name, shopper: shopperId, event: { ...event!, shopperId } }]);
  });

  it('opens read-only for training beside a running writer, with clear errors for what is not a collector database', async () => {
    const url = await postgres.freshDatabase();
    await expect(openPostgresStore(url, { readonly: true })).rejects.toThrow(`${url} is not a collector database (no hunch_events table)`);
    const writer = await openPostgresStore(url);
    await writer.insert(shopperEvents(3, 13));
    const reader = await openPostgresStore(url, { readonly: true });
    expect(await reader.count()).toBe(3);
    await expect(reader.insert(shopperEvents(1, 14))).rejects.toThrow(/opened read-only/);
    // The reader's snapshot does not hold the writer up, nor see on its second pass what the writer added after the first.
    const snapshot = reader.read();
    const first = await all(snapshot);
    await writer.insert(shopperEvents(5, 15).map((event, i) => at(event, i)));
    expect(first).toHaveLength(3);
    expect(await all(snapshot)).toEqual(first);
    expect(await all(reader.read())).toHaveLength(8);
    await reader.close();
    await writer.close();
  });

  it('fails to open with one line naming the server, its password left out', async () => {
    const { port } = postgres.server;
    const missing = `postgres://hunch:secret@127.0.0.1:${port}/no_such_db`;
    await expect(openPostgresStore(missing)).rejects.toThrow(`cannot open postgres://hunch@127.0.0.1:${port}/no_such_db: database "no_such_db" does not exist`);
    // A port nobody listens on: the proxy's, closed.
    const closed = await countingProxy(port);
    await closed.close();
    const refused = `postgres://hunch@127.0.0.1:${closed.port}/hunch`;
    await expect(openPostgresStore(refused)).rejects.toThrow(`cannot open ${refused}: connect ECONNREFUSED 127.0.0.1:${closed.port}`);
    await expect(openPostgresStore('postgres://a b')).rejects.toThrow('cannot open postgres://a b: not a URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)');
    for (const url of [missing, refused]) {
      const error = await openPostgresStore(url).catch((e: Error) => e);
      expect(String(error).split('\n')).toHaveLength(1);
      expect(String(error)).not.toContain('secret');
    }
  });
});
