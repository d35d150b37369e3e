/**
 * The items a model ranks, by index: the vocabulary's item tokens in token order, then the new
 * products scored from their attributes (new-items/). Their token ids are known at load; their
 * product ids are hunch.json's, or, for a big shop's sharded item tokens (core's
 * item-vocabulary.ts), read on demand: ensureItems() for the top items a recommendation shows,
 * ensureIds() for the products a history names. Shards are checked against their listing
 * (shard-listing.ts) and cached like every model file; one that cannot be read is logged once, and its items stay unknown
 * (left out of recommendations; in a history, encoded as the unknown token) until a later request
 * reads it.
 */
import {
  ITEM_ID_SHARD_LISTING,
  ITEM_TOKEN_SHARD_LISTING,
  itemIdOfToken,
  itemIdShardFile,
  itemIdShardOf,
  itemTokenShardCount,
  itemTokenShardFile,
  itemTokenShardOf,
  parseItemIdShard,
  parseItemTokenShard,
  type HunchManifest,
  type ItemVocabularyManifest,
} from '@hunch/core';
import { logOnce } from '../lib/log.js';
import { ShardEntries, shardFamily } from './shard-listing.js';

export class ItemList {
  /** Token id of each item. */
  readonly tokens: Int32Array;
  private readonly inlineIndex: Map<string, number>;
  private readonly inlineTokens: Set<number>;

  private constructor(
    private readonly modelUrl: string,
    private readonly manifest: HunchManifest,
    /** Product ids of the items before the sharded ones (all of them without shards). */
    private readonly inline: ReadonlyArray<{ tokenId: number; itemId: string }>,
    private readonly sharded: ItemVocabularyManifest | undefined,
    /** New products after the vocabulary's items: their ids, their tokens from `newFrom`. */
    private readonly newIds: readonly string[],
    private readonly newFrom: number,
    /** The shards read (shared with the lists made by withNew). */
    private readonly tokenShards = new Map<number, string[]>(),
    private readonly idShards = new Map<number, Map<string, number>>(),
    private readonly reading = new Map<string, Promise<void>>(),
    /** Each family's entries (their listings), read once: shared like the shards. */
    private readonly entries = sharded && {
      tokens: new ShardEntries(modelUrl, manifest, shardFamily(ITEM_TOKEN_SHARD_LISTING), itemTokenShardCount(sharded)),
      ids: new ShardEntries(modelUrl, manifest, shardFamily(ITEM_ID_SHARD_LISTING), sharded.idShards),
    },
  ) {
    const count = sharded?.count ?? 0;
    this.tokens = new Int32Array(inline.length + count + newIds.length);
    inline.forEach(({ tokenId }, i) => (this.tokens[i] = tokenId));
    for (let i = 0; i < count; i++) this.tokens[inline.length + i] = sharded!.first + i;
    for (let i = 0; i < newIds.length; i++) this.tokens[inline.length + count + i] = newFrom + i;
    this.inlineIndex = new Map(inline.map(({ itemId }, i) => [itemId, i]));
    this.inlineTokens = new Set(inline.map(({ tokenId }) => tokenId));
    newIds.forEach((itemId, i) => this.inlineIndex.set(itemId, inline.length + count + i));
  }

  /** The items of `manifest`'s vocabulary: `inline` its whole (or unsharded) tokens. */
  static of(modelUrl: string, manifest: HunchManifest, inline: readonly string[]): ItemList {
    const items = inline.flatMap((token, tokenId) => {
      const itemId = itemIdOfToken(token);
      return itemId === undefined ? [] : [{ tokenId, itemId }];
    });
    return new ItemList(modelUrl, manifest, items, manifest.itemVocabulary, [], 0);
  }

  /** These items and new products after them, their tokens from `firstToken` on. */
  withNew(itemIds: readonly string[], firstToken: number): ItemList {
    return new ItemList(this.modelUrl, this.manifest, this.inline, this.sharded, itemIds, firstToken, this.tokenShards, this.idShards, this.reading, this.entries);
  }

  get length(): number {
    return this.tokens.length;
  }

  /** Whether `tokenId` is one of these items' tokens. */
  has(tokenId: number): boolean {
    const { sharded } = this;
    if (sharded && tokenId >= sharded.first && tokenId < sharded.first + sharded.count) return true;
    if (tokenId >= this.newFrom && tokenId < this.newFrom + this.newIds.length) return true;
    return this.inlineTokens.has(tokenId);
  }

  /** Item `index`'s product id; undefined while its shard is unread. */
  itemId(index: number): string | undefined {
    const inline = this.inline.length;
    if (index < inline) return this.inline[index]!.itemId;
    const count = this.sharded?.count ?? 0;
    if (index >= inline + count) return this.newIds[index - inline - count];
    const offset = index - inline;
    return this.tokenShards.get(Math.floor(offset / this.sharded!.tokensPerShard))?.[offset % this.sharded!.tokensPerShard];
  }

  /** The index of product `itemId`; undefined when it is none of these items (or its shard is unread). */
  indexOf(itemId: string): number | undefined {
    const inline = this.inlineIndex.get(itemId);
    if (inline !== undefined || !this.sharded) return inline;
    const token = this.idShards.get(itemIdShardOf(itemId, this.sharded))?.get(itemId);
    return token === undefined ? undefined : this.inline.length + token - this.sharded.first;
  }

  /** The token of product `itemId` in the vocabulary; undefined when it has none (or its shard is unread). */
  tokenOf(itemId: string): number | undefined {
    const index = this.indexOf(itemId);
    return index === undefined || index >= this.inline.length + (this.sharded?.count ?? 0) ? undefined : this.tokens[index];
  }

  /** Reads the shards itemId() needs for `indices`. */
  async ensureItems(indices: Iterable<number>): Promise<void> {
    const { sharded } = this;
    if (!sharded) return;
    const shards = new Set<number>();
    for (const index of indices) {
      const offset = index - this.inline.length;
      if (offset >= 0 && offset < sharded.count) shards.add(itemTokenShardOf(sharded.first + offset, sharded));
    }
    await Promise.all([...shards].filter((shard) => !this.tokenShards.has(shard)).map((shard) => {
      const size = Math.min(sharded.tokensPerShard, sharded.count - shard * sharded.tokensPerShard);
      return this.read(this.entries!.tokens, shard, itemTokenShardFile(shard), (text, path) => this.tokenShards.set(shard, parseItemTokenShard(text, path, size)));
    }));
  }

  /** Reads the shards indexOf() and tokenOf() need for `itemIds`. */
  async ensureIds(itemIds: Iterable<string>): Promise<void> {
    const { sharded } = this;
    if (!sharded) return;
    const shards = new Set<number>();
    for (const itemId of itemIds) if (!this.inlineIndex.has(itemId)) shards.add(itemIdShardOf(itemId, sharded));
    await Promise.all([...shards].filter((shard) => !this.idShards.has(shard)).map((shard) =>
      this.read(this.entries!.ids, shard, itemIdShardFile(shard), (text, path) => this.idShards.set(shard, parseItemIdShard(text, path, sharded)))));
  }

  private read(entries: ShardEntries, shard: number, path: string, keep: (text: string, path: string) => void): Promise<void> {
    const pending = this.reading.get(path);
    if (pending) return pending;
    const done = entries
      .read(shard)
      .then((bytes) => keep(new TextDecoder().decode(bytes), path))
      .catch((error: unknown) => logOnce('item vocabulary shard unreadable', error))
      .finally(() => this.reading.delete(path));
    this.reading.set(path, done);
    return done;
  }
}
