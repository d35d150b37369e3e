/**
 * The newest events as this tab knows them. recent() runs before every recommendation and
 * intent: from here it needs no IndexedDB round trip, nor a wait for the pending write, while
 * nothing else changed the store. This tab's events are appended as they are added; another
 * tab's write, a clear or an eviction drops the cache, and the next read fills it from disk.
 */
import type { HunchEvent } from '@hunch/core';

export class RecentEvents {
  private cached: { limit: number; events: HunchEvent[] } | undefined;
  /** Bumped by every change, so a fill that raced with one is not kept. */
  private generation = 0;

  added(event: HunchEvent): void {
    this.generation++;
    if (!this.cached) return;
    this.cached.events.push(event);
    if (this.cached.events.length > this.cached.limit) this.cached.events.shift();
  }

  invalidate(): void {
    this.generation++;
    this.cached = undefined;
  }

  /** The newest `limit` events no older than `oldest`, oldest first; undefined when not cached. */
  read(limit: number, oldest: number): HunchEvent[] | undefined {
    if (!this.cached || this.cached.limit < limit) return undefined;
    return this.cached.events.filter((event) => event.ts >= oldest).slice(-limit);
  }

  /** Reads through `load`, keeping the result unless the store changed meanwhile. */
  async fill(limit: number, load: () => Promise<HunchEvent[]>): Promise<HunchEvent[]> {
    const generation = this.generation;
    const events = await load();
    if (generation === this.generation) this.cached = { limit, events: [...events] };
    return events;
  }
}
