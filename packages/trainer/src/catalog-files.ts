/**
 * The catalog's files in an exported model directory: catalog.json for a small shop, or, past
 * `threshold` bytes, catalog/index.json and hash-assigned shards (core's catalog-shards.ts).
 */
import {
  CATALOG_FILE,
  CATALOG_INDEX_FILE,
  CATALOG_INDEX_POPULAR,
  CATALOG_SHARD_BYTES,
  CATALOG_SHARD_THRESHOLD,
  CATALOG_SHARDS_FORMAT,
  CATALOG_SHARDS_FORMAT_VERSION,
  catalogJson,
  catalogShardFile,
  catalogShardOf,
  type CatalogItem,
  type CatalogShardsIndex,
} from '@hunch/core';

export interface CatalogLayout {
  /** catalog.json's size from which shards are written (default CATALOG_SHARD_THRESHOLD). */
  threshold?: number;
  /** About this many bytes per shard (default CATALOG_SHARD_BYTES). */
  shardBytes?: number;
}

const encode = (text: string) => new TextEncoder().encode(text);

/** Path -> bytes of the catalog's files for `products` (`popular`: ids, most popular first). */
export function catalogFiles(popular: string[], products: CatalogItem[], layout: CatalogLayout = {}, newProducts: string[] = []): Map<string, Uint8Array> {
  const single = encode(catalogJson({ popular, products }));
  if (single.length < (layout.threshold ?? CATALOG_SHARD_THRESHOLD)) return new Map([[CATALOG_FILE, single]]);
  const shards = Math.max(1, Math.ceil(single.length / (layout.shardBytes ?? CATALOG_SHARD_BYTES)));
  const byShard = Array.from({ length: shards }, (): CatalogItem[] => []);
  for (const product of products) byShard[catalogShardOf(product.id, shards)]!.push(product);
  const index: CatalogShardsIndex = { format: CATALOG_SHARDS_FORMAT, formatVersion: CATALOG_SHARDS_FORMAT_VERSION, shards, popular: popular.slice(0, CATALOG_INDEX_POPULAR), ...(newProducts.length ? { newProducts } : {}) };
  return new Map([
    [CATALOG_INDEX_FILE, encode(`${JSON.stringify(index)}\n`)],
    ...byShard.map((items, shard): [string, Uint8Array] => [catalogShardFile(shard), encode(catalogJson({ popular: [], products: items }))]),
  ]);
}
