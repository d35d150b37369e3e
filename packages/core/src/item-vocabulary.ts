/**
 * A big shop's item tokens out of hunch.json (issue 23): at a million items the vocabulary is
 * megabytes that every cold start would read and index. Past ITEM_VOCABULARY_THRESHOLD bytes
 * of item tokens, hunch.json's `vocabulary` keeps the tokens before the first item token of the
 * vocabulary's tail (specials, actions, search pieces) and `itemVocabulary` declares the tail:
 * `count` item tokens from id `first`. Two shard families, listed with their hashes in `files`
 * like every model file, give the mapping a static host serves:
 * - token -> product: `vocabulary/tokens-NNNN.json`, a JSON array of the product ids of tokens
 *   `first + n · tokensPerShard` onwards (what a recommendation's top items need);
 * - product -> token: `vocabulary/ids-NNNN.json`, a JSON object product id -> token id for the
 *   products whose id hashes (catalogShardOf's FNV-1a) to n (what encoding a history needs).
 * Kept apart from the catalog shards: the vocabulary also holds items the catalog no longer
 * lists (a history still encodes them), and a catalog is sharded by its own size.
 */
import { catalogShardOf } from './catalog-shards.js';
import { isItemToken, itemIdOfToken, itemToken } from './encoding.js';

/** Bytes of item tokens (as JSON) from which the exporter shards them (~140,000 items of 8-character ids). */
export const ITEM_VOCABULARY_THRESHOLD = 2 * 1024 * 1024;
/** Item tokens per token -> product shard (~5 KB of ids each). */
export const ITEM_TOKENS_PER_SHARD = 512;
/** Products per product -> token shard, on average (~9 KB each). */
export const ITEM_IDS_PER_SHARD = 512;

export interface ItemVocabularyManifest {
  /** Token id of the first sharded item token: hunch.json's vocabulary has exactly `first` tokens. */
  first: number;
  /** Item tokens from `first`: the vocabulary's size is first + count. */
  count: number;
  /** Tokens per `vocabulary/tokens-NNNN.json`. */
  tokensPerShard: number;
  /** How many `vocabulary/ids-NNNN.json` shards: product id -> shard by catalogShardOf. */
  idShards: number;
}

/** The shard families' listings (shard-listing.ts): each shard's hash and size, in shard order. */
export const ITEM_TOKEN_SHARD_LISTING = 'vocabulary/tokens.sha256';
export const ITEM_ID_SHARD_LISTING = 'vocabulary/ids.sha256';

export const itemTokenShardFile = (shard: number): string => `vocabulary/tokens-${String(shard).padStart(4, '0')}.json`;
export const itemIdShardFile = (shard: number): string => `vocabulary/ids-${String(shard).padStart(4, '0')}.json`;
/** How many `vocabulary/tokens-NNNN.json` shards. */
export const itemTokenShardCount = (items: ItemVocabularyManifest): number => Math.ceil(items.count / items.tokensPerShard);
/** The token -> product shard of token `tokenId` (a sharded item token). */
export const itemTokenShardOf = (tokenId: number, items: ItemVocabularyManifest): number => Math.floor((tokenId - items.first) / items.tokensPerShard);
/** The product -> token shard of product `itemId`. */
export const itemIdShardOf = (itemId: string, items: ItemVocabularyManifest): number => catalogShardOf(itemId, items.idShards);

export interface SplitVocabulary {
  /** hunch.json's `vocabulary`. */
  inline: string[];
  /** Absent: the vocabulary stays whole in hunch.json. */
  items?: ItemVocabularyManifest;
  /** Path -> JSON text of the shards. */
  shards: Map<string, string>;
}

export interface ItemVocabularyLayout {
  /** Bytes of item tokens from which they are sharded (default ITEM_VOCABULARY_THRESHOLD). */
  threshold?: number;
  tokensPerShard?: number;
  idsPerShard?: number;
}

/** hunch.json's vocabulary and the shards for `tokens` (the whole vocabulary, ids by index). */
export function splitVocabulary(tokens: readonly string[], layout: ItemVocabularyLayout = {}): SplitVocabulary {
  let first = tokens.length;
  while (first > 0 && isItemToken(tokens[first - 1]!)) first--;
  const ids = tokens.slice(first).map((token) => itemIdOfToken(token)!);
  const bytes = ids.reduce((sum, id) => sum + JSON.stringify(itemToken(id)).length + 1, 0);
  if (ids.length === 0 || bytes < (layout.threshold ?? ITEM_VOCABULARY_THRESHOLD)) return { inline: [...tokens], shards: new Map() };
  const tokensPerShard = layout.tokensPerShard ?? ITEM_TOKENS_PER_SHARD;
  const items: ItemVocabularyManifest = { first, count: ids.length, tokensPerShard, idShards: Math.max(1, Math.ceil(ids.length / (layout.idsPerShard ?? ITEM_IDS_PER_SHARD))) };
  const shards = new Map<string, string>();
  for (let from = 0; from < ids.length; from += tokensPerShard) shards.set(itemTokenShardFile(from / tokensPerShard), `${JSON.stringify(ids.slice(from, from + tokensPerShard))}\n`);
  const byShard = Array.from({ length: items.idShards }, (): Array<[string, number]> => []);
  ids.forEach((id, i) => byShard[itemIdShardOf(id, items)]!.push([id, first + i]));
  byShard.forEach((entries, shard) => shards.set(itemIdShardFile(shard), `${JSON.stringify(Object.fromEntries(entries))}\n`));
  return { inline: tokens.slice(0, first), items, shards };
}

/**
 * Checks hunch.json's `itemVocabulary` against its `vocabulary` and `files`, naming the first wrong
 * field: each family is listed by its listing, or (an export from before listings) shard by shard.
 */
export function checkItemVocabulary(input: unknown, inline: readonly string[], files: Record<string, unknown>): ItemVocabularyManifest {
  const items = (typeof input === 'object' && input !== null ? input : {}) as Partial<ItemVocabularyManifest>;
  for (const field of ['first', 'count', 'tokensPerShard', 'idShards'] as const) {
    const value = items[field];
    if (!Number.isInteger(value) || value! < (field === 'first' ? 0 : 1)) throw new Error(`hunch.json: itemVocabulary.${field} must be a ${field === 'first' ? 'non-negative' : 'positive'} integer`);
  }
  const checked = items as ItemVocabularyManifest;
  if (checked.first !== inline.length) throw new Error(`hunch.json: itemVocabulary.first is ${checked.first} but vocabulary lists ${inline.length} tokens`);
  const families = [
    { listing: ITEM_TOKEN_SHARD_LISTING, file: itemTokenShardFile, count: itemTokenShardCount(checked) },
    { listing: ITEM_ID_SHARD_LISTING, file: itemIdShardFile, count: checked.idShards },
  ];
  for (const { listing, file, count } of families) {
    if (Object.hasOwn(files, listing)) continue;
    const missing = Array.from({ length: count }, (_, shard) => file(shard)).find((path) => !Object.hasOwn(files, path));
    if (missing !== undefined) throw new Error(`hunch.json: files must list ${listing} (or every shard: ${missing} is missing) (itemVocabulary)`);
  }
  return checked;
}

/** A token -> product shard's ids, checked: `expected` strings. */
export function parseItemTokenShard(text: string, path: string, expected: number): string[] {
  const ids: unknown = JSON.parse(text);
  if (!Array.isArray(ids) || ids.length !== expected || !ids.every((id) => typeof id === 'string')) throw new Error(`${path}: expected an array of ${expected} item ids`);
  return ids as string[];
}

/** A product -> token shard, checked: product id -> token id within the sharded range. */
export function parseItemIdShard(text: string, path: string, items: ItemVocabularyManifest): Map<string, number> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${path}: expected an object of item id -> token id`);
  const map = new Map<string, number>();
  for (const [id, token] of Object.entries(parsed)) {
    if (!Number.isInteger(token) || token < items.first || token >= items.first + items.count) throw new Error(`${path}: token ${JSON.stringify(token)} of ${JSON.stringify(id)} is outside the item tokens`);
    map.set(id, token as number);
  }
  return map;
}

/** The whole vocabulary from hunch.json's `vocabulary` and its token shards' ids, in order (the trainer's reading of an exported model). */
export function joinVocabulary(inline: readonly string[], tokenShards: readonly string[][]): string[] {
  return [...inline, ...tokenShards.flat().map(itemToken)];
}
