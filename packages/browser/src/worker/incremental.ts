/**
 * The worker's running context: the KV cache of the last window and its answer, so that a
 * new event costs its own tokens only (see context.ts for the window rules).
 */
import { itemIdOfToken, type HunchEvent } from '@hunch/core';
import { planContext, type ContextWindow } from './context.js';
import { disposeCache, forward, scoredLength, type LoadedModel, type ModelCache } from './loaded-model.js';
import type { InferenceStats } from './protocol.js';

export interface ContextAnswer {
  /** The last position's logits (repeat bonus added); valid until the next call (the buffer is reused). */
  logits: Float32Array;
  /** Counts the logits computed: equal answers' logits are the same numbers. */
  version: number;
  stats: InferenceStats;
}

export class IncrementalContext {
  private cached: { window: ContextWindow; cache: ModelCache; logits: Float32Array; version: number } | undefined;
  private version = 0;
  /** Two logits buffers: a run writes into the one the cached answer does not hold. */
  private readonly buffers: [Float32Array, Float32Array];

  constructor(private readonly loaded: LoadedModel) {
    this.buffers = [new Float32Array(scoredLength(loaded)), new Float32Array(scoredLength(loaded))];
  }

  /** The logits after `events` (oldest first, each with its id), running only what the cache lacks. */
  async next(events: ReadonlyArray<Pick<HunchEvent, 'id' | 'name' | 'params'>>, maxEvents: number): Promise<ContextAnswer> {
    const started = performance.now();
    const { vocabulary, manifest, items } = this.loaded;
    // A big shop's item tokens: the shards of these products first (item-list.ts).
    await items.ensureIds(events.flatMap((event) => (event.params.item_id === undefined ? [] : [event.params.item_id])));
    const tokenOf = (token: string) => {
      const itemId = vocabulary.has(token) ? undefined : itemIdOfToken(token);
      return itemId === undefined ? vocabulary.id(token) : (items.tokenOf(itemId) ?? this.newItemToken(itemId) ?? vocabulary.unk);
    };
    const encoded = events.map((event) => ({ id: event.id, tokens: vocabulary.eventTokens(event).map(tokenOf) }));
    const plan = planContext(encoded, vocabulary.bos, { maxTokens: manifest.encoding.maxLength, maxEvents }, this.cached?.window);
    const contextTokens = plan.window.tokenIds.length;
    if (plan.mode === 'reused') {
      const { logits, version } = this.cached!;
      const ms = performance.now() - started;
      return { logits, version, stats: { mode: 'reused', tokens: 0, contextTokens, updateMs: ms, ms } };
    }
    const previous = this.cached;
    // A failed run leaves no half-updated cache: the next request starts from scratch.
    this.cached = undefined;
    const run = plan.mode === 'incremental' ? plan.newTokens : plan.window.tokenIds;
    try {
      const into = previous?.logits === this.buffers[0] ? this.buffers[1] : this.buffers[0];
      const { logits, cache } = await forward(this.loaded, run, plan.window.tokenIds, plan.mode === 'incremental' ? previous!.cache : undefined, into);
      const version = ++this.version;
      this.cached = { window: plan.window, cache, logits, version };
      const ms = performance.now() - started;
      return { logits, version, stats: { mode: plan.mode, tokens: run.length, contextTokens, updateMs: ms, ms } };
    } finally {
      disposeCache(previous?.cache);
    }
  }

  /** A new product's token (after the vocabulary's), where the runner embeds new products. */
  private newItemToken(itemId: string): number | undefined {
    if (!this.loaded.newItemsEmbedded) return undefined;
    const index = this.loaded.items.indexOf(itemId);
    return index === undefined ? undefined : this.loaded.items.tokens[index];
  }

  dispose(): void {
    disposeCache(this.cached?.cache);
    this.cached = undefined;
  }
}
