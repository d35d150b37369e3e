/**
 * What every EventStore promises (store.ts), run against each implementation on a real
 * database: idempotent inserts by id, time-ordered reads across pages, snapshots that later
 * inserts do not change, and a closed store refusing work.
 */
import type { HunchEvent } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import type { EventSnapshot, EventStore } from '../src/store.js';
import { shopperEvents } from './helpers.js';

/** Opens a new, empty store that reads `pageSize` rows per query (default: the store's). */
export type FreshStore = (options?: { pageSize?: number }) => Promise<EventStore>;

export async function all(snapshot: EventSnapshot): Promise<HunchEvent[]> {
  const events: HunchEvent[] = [];
  for await (const event of snapshot) events.push(event);
  return events;
}

export const at = (event: HunchEvent, ts: number, id = event.id): HunchEvent => ({ ...event, id, ts });

export function describeStoreContract(name: string, fresh: FreshStore): void {
  describe(`${name}: the EventStore contract`, () => {
    it('inserts idempotently by id and says what was new', async () => {
      const store = await fresh();
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
      const store = await fresh({ pageSize: 3 });
      const [a, b, c, d, e, f, g] = shopperEvents(7, 2) as [HunchEvent, HunchEvent, HunchEvent, HunchEvent, HunchEvent, HunchEvent, HunchEvent];
      await store.insert([at(a, 500), at(b, 100), at(c, 300)]);
      await store.insert([at(d, 300), at(e, 300), at(f, 0), at(g, 300)]);
      const read = await all(store.read());
      expect(read.map((event) => event.id)).toEqual([f.id, b.id, c.id, d.id, e.id, g.id, a.id]);
      expect(read[0]).toEqual(at(f, 0));
      await store.close();
    });

    it('reads a snapshot: events stored after read() are not in it, however often it is iterated', async () => {
      const store = await fresh({ pageSize: 2 });
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

    it('refuses work once closed', async () => {
      const store = await fresh();
      await store.insert(shopperEvents(2, 4));
      await store.close();
      await expect(store.count()).rejects.toThrow(/the store is closed/);
      await expect(store.insert(shopperEvents(1, 5))).rejects.toThrow(/the store is closed/);
    });
  });
}
