/**
 * The model's catalog as the worker and the page use it: one catalog.json, or the shards a big
 * shop's export writes (core's catalog-shards.ts), each fetched when one of its products is first
 * needed, checked against its listing (shard-listing.ts) and cached like every model file (model-files.ts). A shard
 * that cannot be read (offline and never cached, or bytes that fail their hash) is logged once
 * and its products have no entry until a later request reads it: the page shows the rest.
 */
import { CATALOG_INDEX_FILE, CATALOG_SHARD_LISTING, catalogShardOf, indexCatalog, parseCatalogShardsIndex, type CatalogIndex, type HunchManifest } from '@hunch/core';
import { logOnce } from '../lib/log.js';
import { verifiedModelFile, type ModelFileOptions } from './model-files.js';
import { ShardEntries, shardFamily } from './shard-listing.js';

export interface ModelCatalog extends CatalogIndex {
  /** Sharded: only the ids it knows without reading every shard (the index's new products and the shards read). */
  ids(): string[];
  /** Reads what entry() and category() need for `ids` (their shards); nothing to read for one catalog.json. */
  ensure(ids: Iterable<string>): Promise<void>;
}

/** One catalog.json, already read whole. */
export function wholeCatalog(index: CatalogIndex): ModelCatalog {
  return { popular: index.popular, ids: () => index.ids(), entry: (id) => index.entry(id), category: (id) => index.category(id), ensure: () => Promise.resolve() };
}

/** Whether `manifest` ships its catalog as shards. */
export const hasCatalogShards = (manifest: HunchManifest): boolean => Object.hasOwn(manifest.files, CATALOG_INDEX_FILE);

/** The sharded catalog: its index read now, shards on demand. `options` as verifiedModelFile's. */
export async function shardedCatalog(modelUrl: string, manifest: HunchManifest, options: ModelFileOptions = {}): Promise<ModelCatalog> {
  const text = (bytes: ArrayBuffer) => new TextDecoder().decode(bytes);
  const indexBytes = await verifiedModelFile(modelUrl, CATALOG_INDEX_FILE, manifest.files[CATALOG_INDEX_FILE]!, options);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text(indexBytes));
  } catch (error) {
    throw new Error(`${CATALOG_INDEX_FILE}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const { shards, popular, newProducts = [] } = parseCatalogShardsIndex(parsed);
  const entries = new ShardEntries(modelUrl, manifest, shardFamily(CATALOG_SHARD_LISTING), shards, options);
  const loaded = new Map<number, CatalogIndex>();
  const reading = new Map<number, Promise<void>>();

  const read = (shard: number): Promise<void> => {
    const done = entries
      .read(shard)
      .then((bytes) => {
        loaded.set(shard, indexCatalog(text(bytes)));
      })
      .catch((error: unknown) => {
        logOnce('catalog shard unreadable', error);
      })
      .finally(() => reading.delete(shard));
    reading.set(shard, done);
    return done;
  };
  const shardOf = (id: string) => loaded.get(catalogShardOf(id, shards));

  return {
    popular,
    ids: () => [...new Set([...newProducts, ...[...loaded.values()].flatMap((shard) => shard.ids())])],
    entry: (id) => shardOf(id)?.entry(id),
    category: (id) => shardOf(id)?.category(id),
    async ensure(ids) {
      const needed = new Set<number>();
      for (const id of ids) needed.add(catalogShardOf(id, shards));
      await Promise.all([...needed].filter((shard) => !loaded.has(shard)).map((shard) => reading.get(shard) ?? read(shard)));
    },
  };
}
