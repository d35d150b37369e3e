/**
 * The IndexedDB event store. add() only queues; one transaction per burst writes the queue to
 * `events` (and `outbox`), after the caller's task and after the page's pending work (a
 * prediction asked for right after the event: StoreOptions.writeAfter). Everything that
 * changes data runs in one chain, in call order, and no failure reaches the page: it degrades
 * to memory, logged once.
 */
import type { HunchEvent } from '@hunch/core';
import { logOnce } from '../lib/log.js';
import { openDatabase, type ConnectionEvents, type HunchDatabase, type OpenOptions } from './database.js';
import { MemoryStore } from './memory-store.js';
import { merged, newest, putBatch, quiet } from './queries.js';
import { RecentEvents } from './recent-cache.js';
import { describeError, isQuotaError, usageSettled } from './quota.js';
import { cutoff, enforceLimits, evictFraction, type StoreCounts } from './retention.js';
import { EVICT_LOCK, WRITE_LOCK, openTabChannel, withLock, type TabChannel, type TabMessage } from './tabs.js';
import type { AddOptions, EventStore, RetentionLimits } from './types.js';

/** Share of the oldest events dropped to make room when the disk is full. */
const QUOTA_EVICTION = 0.2;
/** How often a long-lived tab sweeps out expired events (they are already hidden from reads). */
const SWEEP_INTERVAL_MS = 60 * 60 * 1_000;
/** Wait before reopening a connection the browser closed. */
const REOPEN_DELAY_MS = 250;
/** Until counted, assume over the cap, so the first write counts (and evicts). */
const UNKNOWN: StoreCounts = { events: Infinity, outbox: Infinity };
/** The longest a burst's write waits for StoreOptions.writeAfter. */
const MAX_WRITE_DELAY_MS = 1_000;
const noop = () => undefined;

export interface StoreOptions extends OpenOptions {
  /**
   * Work the page is waiting for, if any, that a burst's write should not compete with: on a
   * device with few cores a write's transaction (browser process and disk) slows the
   * recommendation asked for right after track() (BENCHMARKS.md, "Figures behind the code").
   * Reads and flush() do not wait; the write waits at most MAX_WRITE_DELAY_MS.
   */
  writeAfter?: () => Promise<unknown> | undefined;
}

export async function openIndexedDBStore(limits: RetentionLimits, options: StoreOptions = {}): Promise<EventStore> {
  const store = new IndexedDBStore(limits, options);
  await store.connect();
  return store;
}

class IndexedDBStore implements EventStore {
  private db: HunchDatabase | null = null;
  /** Set while a terminated connection is being reopened: writes wait for it. */
  private reopening: Promise<void> | null = null;
  private reopened = false;
  private closed = false;
  private channel: TabChannel | undefined;
  private queue: HunchEvent[] = [];
  private uploads: HunchEvent[] = [];
  private scheduled = false;
  /** A write step is in the chain and has not yet taken the queue. */
  private stepQueued = false;
  private chain: Promise<void> = Promise.resolve();
  /** Approximate sizes (our writes and other tabs'), so we never count the store per write. */
  private estimate: StoreCounts = { ...UNKNOWN };
  private lastSweep = 0;
  /** Batches the disk refused; reads merge them with what is on disk. */
  private readonly overflow: MemoryStore;
  private readonly recentEvents = new RecentEvents();

  constructor(
    private readonly limits: RetentionLimits,
    private readonly options: StoreOptions,
  ) {
    this.overflow = new MemoryStore(limits);
  }

  get kind(): 'indexeddb' | 'memory' {
    return !this.closed && (this.db || this.reopening) ? 'indexeddb' : 'memory';
  }

  async connect(): Promise<void> {
    this.db = await openDatabase(this.connectionEvents, this.options);
    this.channel = openTabChannel((message) => this.onTabMessage(message));
    this.enqueue(() => this.sweep());
  }

  // ---- the hot path ----

  add(event: HunchEvent, options: AddOptions): void {
    this.queue.push(event);
    this.recentEvents.added(event);
    if (options?.upload) this.uploads.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(this.flushSoon, 0);
  }

  private readonly flushNow = (): void => {
    void this.flush();
  };

  private readonly flushSoon = (): void => {
    const pending = this.options.writeAfter?.();
    if (!pending) {
      this.flushNow();
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, MAX_WRITE_DELAY_MS)));
    // Whatever comes first, then one more task, so that the code awaiting the prediction runs
    // before the write's own main-thread work. Flushing twice is harmless (the queue is then empty).
    void Promise.race([pending.then(noop, noop), waited]).then(() => {
      clearTimeout(timer);
      setTimeout(this.flushNow, 0);
    });
  };

  flush(): Promise<void> {
    this.scheduled = false;
    if (this.queue.length > 0 && !this.stepQueued) {
      this.stepQueued = true;
      this.enqueue(() => this.writeQueued());
    }
    return this.chain;
  }

  /**
   * Not through the chain: its Web Lock is granted in a later task, which a page being unloaded
   * may never run (a write waiting for a prediction was then lost). The write lock is skipped: a
   * clear() from another tab can only follow this transaction, since IndexedDB runs overlapping
   * writes in creation order.
   */
  leaving(): void {
    const db = this.db;
    if (this.queue.length === 0 || !db || this.closed) return;
    const oldest = cutoff(this.limits);
    const events = this.queue.filter((event) => event.ts >= oldest);
    const uploads = this.uploads.filter((event) => event.ts >= oldest);
    this.queue = [];
    this.uploads = [];
    // Made in this task even when the promise rejects (a closing connection): then the page keeps them while it lasts.
    putBatch(db, events, uploads).then(
      () => this.wrote(events.length, uploads.length),
      (error: unknown) => {
        logOnce('storage write failed, events kept in memory', describeError(error));
        this.keep(events, uploads);
      },
    );
  }

  // ---- reads: disk and overflow merged ----

  async all(): Promise<HunchEvent[]> {
    await this.flush();
    const db = await this.connection();
    const oldest = cutoff(this.limits);
    const disk = db ? await this.read(() => db.getAllFromIndex('events', 'ts', IDBKeyRange.lowerBound(oldest))) : [];
    return merged(disk, await this.overflow.all()).slice(-this.limits.maxEvents);
  }

  async recent(limit: number): Promise<HunchEvent[]> {
    if (!(limit > 0)) return [];
    const oldest = cutoff(this.limits);
    const cached = this.recentEvents.read(limit, oldest);
    // The disk holds at most maxEvents: so does an answer from the cache before the next sweep.
    if (cached) return cached.slice(-this.limits.maxEvents);
    return this.recentEvents.fill(limit, async () => {
      await this.flush();
      const db = await this.connection();
      const disk = db ? await this.read(() => newest(db, limit, oldest)) : [];
      return merged(disk, await this.overflow.recent(limit)).slice(-limit);
    });
  }

  async outbox(limit: number): Promise<HunchEvent[]> {
    if (!(limit > 0)) return [];
    await this.flush();
    const db = await this.connection();
    const range = IDBKeyRange.lowerBound(cutoff(this.limits));
    const disk = db ? await this.read(() => db.getAllFromIndex('outbox', 'ts', range, limit)) : [];
    return merged(disk, await this.overflow.outbox(limit)).slice(0, limit);
  }

  // ---- changes, in call order ----

  acknowledge(ids: readonly string[]): Promise<void> {
    const copy = [...ids];
    return this.enqueue(async () => {
      await this.overflow.acknowledge(copy);
      const db = await this.connection();
      if (!db || copy.length === 0) return;
      const tx = db.transaction('outbox', 'readwrite');
      for (const id of copy) quiet(tx.store.delete(id));
      await tx.done;
      this.estimate.outbox = Math.max(0, this.estimate.outbox - copy.length);
    });
  }

  clearOutbox(): Promise<void> {
    this.uploads = [];
    this.channel?.post({ type: 'clear-outbox' });
    return this.enqueue(async () => {
      await this.overflow.clearOutbox();
      const db = await this.connection();
      if (db) await db.clear('outbox');
      this.estimate.outbox = 0;
    });
  }

  clear(): Promise<void> {
    this.dropQueued();
    // Before our clear runs, so another tab drops its queue rather than writing it after.
    this.channel?.post({ type: 'clear' });
    return this.enqueue(async () => {
      this.overflow.drop();
      const db = await this.connection();
      if (!db) return;
      // Exclusive: waits for batches other tabs have already taken off their queues.
      await withLock(WRITE_LOCK, { mode: 'exclusive' }, async () => {
        // The connection went while waiting: forget() is deleting the database (nothing left to
        // clear), or a newer version took it (already logged; this tab is in memory now).
        if (this.db !== db) return;
        const tx = db.transaction(['events', 'outbox'], 'readwrite');
        await Promise.all([tx.objectStore('events').clear(), tx.objectStore('outbox').clear(), tx.done]);
      });
      this.estimate = { events: 0, outbox: 0 };
    });
  }

  close(): void {
    if (this.closed) return;
    void this.flush();
    this.closed = true;
    this.channel?.close();
    this.channel = undefined;
    // After the queued writes; anything added later stays in memory.
    this.enqueue(async () => {
      this.db?.close();
      this.db = null;
    });
  }

  // ---- internals ----

  /** Appends a step to the chain; a failing step is logged once and does not stop the next. */
  private enqueue(step: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(step).catch((error: unknown) => logOnce('storage operation failed', error));
    return this.chain;
  }

  private async connection(): Promise<HunchDatabase | null> {
    if (this.reopening) await this.reopening;
    return this.closed && !this.db ? null : this.db;
  }

  private async read(query: () => Promise<HunchEvent[]>): Promise<HunchEvent[]> {
    try {
      return await query();
    } catch (error) {
      logOnce('storage read failed, answering from memory', error);
      return [];
    }
  }

  private async writeQueued(): Promise<void> {
    if (this.queue.length > 0) {
      await withLock(WRITE_LOCK, { mode: 'shared' }, async () => {
        // Taken under the lock: a clear() from another tab that came first has emptied it.
        this.stepQueued = false;
        const events = this.queue;
        const uploads = this.uploads;
        this.queue = [];
        this.uploads = [];
        if (events.length > 0) await this.write(events, uploads);
      });
    }
    this.stepQueued = false;
    const due =
      this.estimate.events > this.limits.maxEvents ||
      this.estimate.outbox > this.limits.maxOutbox ||
      Date.now() - this.lastSweep > Math.min(this.limits.maxAgeMs, SWEEP_INTERVAL_MS);
    if (due) await this.sweep();
  }

  private async write(batch: HunchEvent[], uploadBatch: HunchEvent[]): Promise<void> {
    const oldest = cutoff(this.limits);
    const events = batch.filter((event) => event.ts >= oldest);
    const uploads = uploadBatch.filter((event) => event.ts >= oldest);
    const db = await this.connection();
    if (!db) return this.keep(events, uploads);
    try {
      await putBatch(db, events, uploads);
    } catch (error) {
      if (!isQuotaError(error)) {
        logOnce('storage write failed, events kept in memory', describeError(error));
        return this.keep(events, uploads);
      }
      try {
        const freed = await withLock(EVICT_LOCK, { mode: 'exclusive' }, () => evictFraction(db, QUOTA_EVICTION));
        this.recentEvents.invalidate();
        if (!freed) throw error;
        await usageSettled();
        await putBatch(db, events, uploads);
        logOnce('storage quota reached, evicted the oldest events', describeError(error));
      } catch (retryError) {
        logOnce('storage full, events kept in memory', describeError(retryError));
        return this.keep(events, uploads);
      }
    }
    this.wrote(events.length, uploads.length);
  }

  private wrote(events: number, outbox: number): void {
    this.estimate.events += events;
    this.estimate.outbox += outbox;
    this.channel?.post({ type: 'wrote', events, outbox });
  }

  private keep(events: HunchEvent[], uploads: HunchEvent[]): void {
    const upload = new Set(uploads);
    for (const event of events) this.overflow.add(event, { upload: upload.has(event) });
  }

  /** Enforces age and count caps; skipped when another tab is already evicting. */
  private async sweep(): Promise<void> {
    const db = this.db;
    if (!db) return;
    this.lastSweep = Date.now();
    try {
      // Skipped when the connection went while waiting for the lock (forget(), an upgrade): nothing to sweep on it.
      const counts = await withLock(EVICT_LOCK, { mode: 'exclusive', ifAvailable: true }, async () => (this.db === db ? enforceLimits(db, this.limits) : undefined));
      this.recentEvents.invalidate();
      if (counts) this.estimate = counts;
    } catch (error) {
      logOnce('storage eviction failed', error);
    }
  }

  private dropQueued(): void {
    this.recentEvents.invalidate();
    this.queue = [];
    this.uploads = [];
  }

  private onTabMessage(message: TabMessage): void {
    if (message.type === 'clear') {
      this.dropQueued();
      this.overflow.drop();
      this.estimate = { events: 0, outbox: 0 };
    } else if (message.type === 'clear-outbox') {
      this.uploads = [];
      void this.overflow.clearOutbox();
      this.estimate.outbox = 0;
    } else if (message.type === 'wrote') {
      this.recentEvents.invalidate();
      this.estimate.events += message.events;
      this.estimate.outbox += message.outbox;
    }
  }

  private readonly connectionEvents: ConnectionEvents = {
    // A newer SDK in another tab is upgrading, or forget() is deleting the database: let it, and
    // keep this tab's events in memory (after a forget the page opens a new store if it may).
    blocking: (deleted) => {
      if (!deleted) logOnce('storage upgraded by another tab, events kept in memory', 'a newer version wants the database');
      this.db?.close();
      this.db = null;
    },
    // The browser closed the connection: reopen once; if that fails too, stay in memory.
    terminated: () => {
      this.db = null;
      if (this.reopened || this.closed) {
        logOnce('storage connection lost, events kept in memory', 'closed by the browser');
        return;
      }
      this.reopened = true;
      // After a short pause: the browser may still be deleting the data it closed us for,
      // and an open racing that deletion fails.
      this.reopening = new Promise((resolve) => setTimeout(resolve, REOPEN_DELAY_MS))
        .then(() => openDatabase(this.connectionEvents, this.options))
        .then((db) => {
          if (this.closed) return db.close();
          this.db = db;
          this.estimate = { ...UNKNOWN };
        })
        .catch((error: unknown) => logOnce('storage connection lost, events kept in memory', error))
        .finally(() => {
          this.reopening = null;
        });
    },
  };
}
