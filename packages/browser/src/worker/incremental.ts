/**
 * The worker's running context: the KV cache of the last window and its answer, so that a
 * new event costs its own tokens only (see context.ts for the window rules).
 */
import type { HunchEvent } from '@hunch/core';
import { planContext, type ContextWindow } from './context.js';
import { disposeCache, forward, type KvCache, type LoadedModel } from './loaded-model.js';
import type { InferenceStats } from './protocol.js';

export interface ContextAnswer {
  /** The last position's logits (repeat bonus added). */
  logits: Float32Array;
  stats: InferenceStats;
}

export class IncrementalContext {
  private cached: { window: ContextWindow; cache: KvCache; logits: Float32Array } | undefined;

  constructor(private readonly loaded: LoadedModel) {}

  /** The logits after `events` (oldest first, each with its id), running only what the cache lacks. */
  async next(events: ReadonlyArray<Pick<HunchEvent, 'id' | 'name' | 'params'>>, maxEvents: number): Promise<ContextAnswer> {
    const started = performance.now();
    const { vocabulary, manifest } = this.loaded;
    const encoded = events.map((event) => ({ id: event.id, tokens: vocabulary.eventTokens(event).map((token) => vocabulary.id(token)) }));
    const plan = planContext(encoded, vocabulary.bos, { maxTokens: manifest.encoding.maxLength, maxEvents }, this.cached?.window);
    const contextTokens = plan.window.tokenIds.length;
    if (plan.mode === 'reused') {
      return { logits: this.cached!.logits, stats: { mode: 'reused', tokens: 0, contextTokens, ms: performance.now() - started } };
    }
    const previous = this.cached;
    // A failed run leaves no half-updated cache: the next request starts from scratch.
    this.cached = undefined;
    const run = plan.mode === 'incremental' ? plan.newTokens : plan.window.tokenIds;
    try {
      const { logits, cache } = await forward(this.loaded, run, plan.window.tokenIds, plan.mode === 'incremental' ? previous!.cache : undefined);
      this.cached = { window: plan.window, cache, logits };
      return { logits, stats: { mode: plan.mode, tokens: run.length, contextTokens, ms: performance.now() - started } };
    } finally {
      disposeCache(previous?.cache);
    }
  }

  dispose(): void {
    disposeCache(this.cached?.cache);
    this.cached = undefined;
  }
}
