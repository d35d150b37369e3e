/**
 * Events kept in memory, with the same caps as on disk. Two uses: the whole store when
 * IndexedDB is missing or broken, and the overflow of an IndexedDB store whose disk is full.
 */
import type { HunchEvent } from '@hunch/core';
import { cutoff } from './retention.js';
import { openTabChannel, type TabChannel } from './tabs.js';
import type { AddOptions, EventStore, RetentionLimits } from './types.js';

const byTime = (a: HunchEvent, b: HunchEvent) => a.ts - b.ts;

/** Oldest first, expired ones and the oldest beyond `max` left out. */
function retained(events: Iterable<HunchEvent>, max: number, oldest: number): HunchEvent[] {
  const kept = [...events].filter((event) => event.ts >= oldest).sort(byTime);
  return kept.length > max ? kept.slice(kept.length - max) : kept;
}

export class MemoryStore implements EventStore {
  readonly kind = 'memory' as const;
  // Keyed by id: adding the same event twice keeps one, as a put on disk does.
  private events = new Map<string, HunchEvent>();
  private pending = new Map<string, HunchEvent>();
  private channel: TabChannel | undefined;

  /** `shared`: listen to other tabs' clear() (a standalone store; an overflow store's owner listens). */
  constructor(
    private readonly limits: RetentionLimits,
    shared = false,
  ) {
    if (shared) {
      this.channel = openTabChannel((message) => {
        if (message.type === 'clear') this.drop();
        if (message.type === 'clear-outbox') this.pending.clear();
      });
    }
  }

  get size(): number {
    return this.events.size;
  }

  add(event: HunchEvent, options: AddOptions): void {
    this.events.set(event.id, event);
    if (options?.upload) this.pending.set(event.id, event);
    // Trim only when well over the cap, so add() stays O(1) amortised.
    if (this.events.size > this.limits.maxEvents * 1.1 + 10) this.events = this.trim(this.events, this.limits.maxEvents);
    if (this.pending.size > this.limits.maxOutbox * 1.1 + 10) this.pending = this.trim(this.pending, this.limits.maxOutbox);
  }

  async flush(): Promise<void> {}
  /** Memory does not outlive the page: nothing to write. */
  leaving(): void {}

  async all(): Promise<HunchEvent[]> {
    this.events = this.trim(this.events, this.limits.maxEvents);
    return [...this.events.values()];
  }

  async recent(limit: number): Promise<HunchEvent[]> {
    const all = await this.all();
    return limit > 0 ? all.slice(-limit) : [];
  }

  async outbox(limit: number): Promise<HunchEvent[]> {
    this.pending = this.trim(this.pending, this.limits.maxOutbox);
    return [...this.pending.values()].slice(0, Math.max(0, limit));
  }

  async acknowledge(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.pending.delete(id);
  }

  async clearOutbox(): Promise<void> {
    this.pending.clear();
    this.channel?.post({ type: 'clear-outbox' });
  }

  async clear(): Promise<void> {
    this.drop();
    this.channel?.post({ type: 'clear' });
  }

  /** Empties this tab's memory without telling the other tabs. */
  drop(): void {
    this.events.clear();
    this.pending.clear();
  }

  close(): void {
    this.channel?.close();
    this.channel = undefined;
  }

  private trim(map: Map<string, HunchEvent>, max: number): Map<string, HunchEvent> {
    return new Map(retained(map.values(), max, cutoff(this.limits)).map((event) => [event.id, event]));
  }
}
