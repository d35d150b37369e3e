/**
 * A big shop's catalog as shards (issue 23): instead of one catalog.json every visitor reads,
 * `catalog/index.json` (the popular list's head and the shard count) and shards
 * `catalog/shard-NNNN.json`, each a catalog.json of its own (catalogJson's layout, no popular
 * list) holding the products whose id hashes to it. hunch.json's `files` lists the index and
 * `catalog/shards.sha256`, the shards' hashes (shard-listing.ts); a static host serves them as
 * they are. The worker fetches a shard when it first needs one of its products, checks it against
 * the listing and caches it like every model file. The exporter writes shards when catalog.json would pass CATALOG_SHARD_THRESHOLD
 * bytes; smaller shops keep the single file.
 */
export const CATALOG_INDEX_FILE = 'catalog/index.json';
/** The shards' hashes and sizes, in shard order (shard-listing.ts). */
export const CATALOG_SHARD_LISTING = 'catalog/shards.sha256';
export const CATALOG_SHARDS_FORMAT = 'hunch-catalog-shards';
export const CATALOG_SHARDS_FORMAT_VERSION = 1;
/** Above this size (bytes of catalog.json) the exporter writes shards. */
export const CATALOG_SHARD_THRESHOLD = 2 * 1024 * 1024;
/**
 * About this many bytes per shard (~70 products). A first visit reads about one shard per product
 * it shows or sees (ids hash apart), and the listing holds 36 bytes per shard: at a million
 * products 8 KiB shards cost 0.5 MB of listing plus 8 KiB per product (BENCHMARKS.md, "A million
 * products").
 */
export const CATALOG_SHARD_BYTES = 8 * 1024;
/** Popular ids the index keeps: what the page shows without a model, page by page. */
export const CATALOG_INDEX_POPULAR = 1000;

export interface CatalogShardsIndex {
  format: typeof CATALOG_SHARDS_FORMAT;
  formatVersion: typeof CATALOG_SHARDS_FORMAT_VERSION;
  /** Shard count: product `id` is in shard catalogShardOf(id, shards). */
  shards: number;
  /** The most popular item ids, most popular first (the head of the list). */
  popular: string[];
  /**
   * Products the model has no token for but can score from their attributes (an export of
   * attribute-composed items): listed so the worker finds them without reading every shard.
   */
  newProducts?: string[];
}

/** The shard's path, relative to the model directory. */
export const catalogShardFile = (shard: number): string => `catalog/shard-${String(shard).padStart(4, '0')}.json`;

/** The shard holding product `id`: FNV-1a (32-bit) of its UTF-16 code units, modulo the count. */
export function catalogShardOf(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** Checks index.json's fields, naming the first wrong one. */
export function parseCatalogShardsIndex(input: unknown): CatalogShardsIndex {
  const index = (typeof input === 'object' && input !== null ? input : {}) as Partial<CatalogShardsIndex>;
  if (index.format !== CATALOG_SHARDS_FORMAT) throw new Error(`${CATALOG_INDEX_FILE}: format must be "${CATALOG_SHARDS_FORMAT}"`);
  if (index.formatVersion !== CATALOG_SHARDS_FORMAT_VERSION) throw new Error(`${CATALOG_INDEX_FILE}: formatVersion ${String(index.formatVersion)} is not supported (expected ${CATALOG_SHARDS_FORMAT_VERSION})`);
  if (!Number.isInteger(index.shards) || index.shards! < 1) throw new Error(`${CATALOG_INDEX_FILE}: shards must be a positive integer`);
  if (!Array.isArray(index.popular) || !index.popular.every((id) => typeof id === 'string')) throw new Error(`${CATALOG_INDEX_FILE}: popular must be an array of item ids`);
  if (index.newProducts !== undefined && !(Array.isArray(index.newProducts) && index.newProducts.every((id) => typeof id === 'string'))) {
    throw new Error(`${CATALOG_INDEX_FILE}: newProducts must be an array of item ids`);
  }
  return index as CatalogShardsIndex;
}
