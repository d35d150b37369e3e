/**
 * The store the SDK writes to, following the shopper's `personalization_storage` consent:
 * memory only (this page, nothing on the device) while it is denied; IndexedDB (or its memory
 * fallback) once granted, carrying this page's events over; everything erased, here and in the
 * shop's other tabs, when it is withdrawn. The uploader reads its outbox through the same object,
 * so upload works from memory too when only `analytics_storage` is granted.
 */
import type { HunchEvent } from '@hunch/core';
import { MemoryStore } from './storage/memory-store.js';
import type { AddOptions, EventStore, RetentionLimits } from './storage/types.js';

export class ConsentedStore implements EventStore {
  private current: EventStore;
  private opening: Promise<void> | undefined;
  /** The last unpersist(): they run one after another, and a persist() after one waits for it. */
  private erasing: Promise<void> = Promise.resolve();

  constructor(
    private readonly limits: RetentionLimits,
    private readonly open: (limits: RetentionLimits) => Promise<EventStore>,
  ) {
    this.current = new MemoryStore(limits);
  }

  /** 'memory' until persisted (or when the browser gives no working IndexedDB). */
  get kind(): EventStore['kind'] {
    return this.current.kind;
  }

  get persisted(): boolean {
    return this.opening !== undefined;
  }

  /** Moves to persistent storage (idempotent); resolves once this page's events are in it. */
  persist(): Promise<void> {
    this.opening ??= this.erasing.catch(() => undefined).then(() => this.open(this.limits)).then(async (store) => {
      const memory = this.current;
      // Switch first: events tracked while the old ones are copied go straight to the new store.
      this.current = store;
      const waiting = new Set((await memory.outbox(Number.MAX_SAFE_INTEGER)).map((event) => event.id));
      for (const event of await memory.all()) store.add(event, { upload: waiting.has(event.id) });
      memory.close();
    });
    return this.opening;
  }

  /**
   * Erases everything (every tab) and goes back to memory only: consent withdrawn, or forget()
   * (which also deletes the database). In memory too: this page's events are dropped.
   */
  unpersist(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    this.erasing = this.erasing.catch(() => undefined).then(async () => {
      await opening?.catch(() => undefined);
      const old = this.current;
      this.current = new MemoryStore(this.limits);
      await old.clear();
      old.close();
    });
    return this.erasing;
  }

  add(event: HunchEvent, options: AddOptions): void {
    this.current.add(event, options);
  }
  /** While the move to IndexedDB is still under way the events are in memory, and go with the page. */
  leaving(): void {
    this.current.leaving();
  }
  // Everything but add() waits for a move in progress, so that it sees (or erases) the page's earlier events.
  async flush(): Promise<void> {
    await this.moved();
    return this.current.flush();
  }
  async all(): Promise<HunchEvent[]> {
    await this.moved();
    return this.current.all();
  }
  async recent(limit: number): Promise<HunchEvent[]> {
    await this.moved();
    return this.current.recent(limit);
  }
  async outbox(limit: number): Promise<HunchEvent[]> {
    await this.moved();
    return this.current.outbox(limit);
  }
  async acknowledge(ids: readonly string[]): Promise<void> {
    await this.moved();
    return this.current.acknowledge(ids);
  }
  async clearOutbox(): Promise<void> {
    await this.moved();
    return this.current.clearOutbox();
  }
  async clear(): Promise<void> {
    await this.moved();
    return this.current.clear();
  }
  close(): void {
    this.current.close();
  }

  private moved(): Promise<void> {
    return this.opening?.catch(() => undefined) ?? Promise.resolve();
  }
}
