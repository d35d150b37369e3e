import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupCommitter } from '../src/group-commit.js';
import { openSqliteStore } from '../src/sqlite-store.js';
import { shopperEvents, tempDir } from './helpers.js';

describe('groupCommitter', () => {
  it('commits the batches added in one turn of the event loop together, each with its own result', async () => {
    const commits: string[][] = [];
    const group = groupCommitter((batches: string[]) => {
      commits.push(batches);
      return batches.map((batch) => batch.length);
    });
    const first = await Promise.all(['a', 'bb', 'ccc'].map((batch) => group.add(batch)));
    expect(first).toEqual([1, 2, 3]);
    const later = await group.add('dddd');
    expect(later).toBe(4);
    expect(commits).toEqual([['a', 'bb', 'ccc'], ['dddd']]);
  });

  it('rejects every batch of a group whose commit failed, and goes on with the next group', async () => {
    let fail = true;
    const group = groupCommitter((batches: number[]) => {
      if (fail) throw new Error('disk full');
      return batches;
    });
    const failed = await Promise.allSettled([group.add(1), group.add(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await group.add(3)).toBe(3);
  });

  it('lets the SQLite store take concurrent inserts, duplicates across them counted once', async () => {
    const work = await tempDir('group');
    try {
      const store = openSqliteStore(join(work.dir, 'events.sqlite'));
      const events = shopperEvents(100, 1);
      const batches = [events.slice(0, 25), events.slice(25, 50), events.slice(40, 65), events.slice(65, 100)];
      const results = await Promise.all(batches.map((batch) => store.insert(batch)));
      expect(results).toEqual([
        { stored: 25, duplicates: 0 },
        { stored: 25, duplicates: 0 },
        { stored: 15, duplicates: 10 },
        { stored: 35, duplicates: 0 },
      ]);
      // Inserts queued when the store closes are committed first.
      const pending = store.insert(shopperEvents(110, 1).slice(100));
      await store.close();
      expect(await pending).toEqual({ stored: 10, duplicates: 0 });
      const again = openSqliteStore(join(work.dir, 'events.sqlite'));
      expect(await again.count()).toBe(110);
      await again.close();
    } finally {
      await work.remove();
    }
  });
});
