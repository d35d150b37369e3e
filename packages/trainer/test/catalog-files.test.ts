/**
 * The exported catalog's layout (catalog-files.ts): one catalog.json below the threshold; past
 * it, catalog/index.json and shards that hold every product once, in the shard its id hashes to,
 * each readable by core's indexCatalog, all listed in hunch.json by exportModel.
 */
import { CATALOG_FILE, CATALOG_INDEX_FILE, ENCODING_VERSION, catalogShardFile, catalogShardOf, indexCatalog, parseCatalogShardsIndex, parseManifest, type CatalogItem } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import { catalogFiles } from '../src/catalog-files.js';

const products: CatalogItem[] = Array.from({ length: 500 }, (_, i) => ({ id: `p-${i}`, title: `Product ${i}`, url: `/p/${i}`, price: i + 0.5, ...(i % 3 ? { category: `c${i % 7}` } : {}) }));
const popular = products.map(({ id }) => id).reverse();

describe('catalogFiles', () => {
  it('writes one catalog.json below the threshold', () => {
    const files = catalogFiles(popular, products, { threshold: 1e9 });
    expect([...files.keys()]).toEqual([CATALOG_FILE]);
    const index = indexCatalog(new TextDecoder().decode(files.get(CATALOG_FILE)));
    expect(index.entry('p-42')).toEqual(products[42]);
    expect(index.popular).toEqual(popular);
  });

  it('past the threshold, shards by id hash: every product once, where the index says, each shard a catalog', () => {
    const files = catalogFiles(popular, products, { threshold: 1000, shardBytes: 4096 });
    expect(files.has(CATALOG_FILE)).toBe(false);
    const index = parseCatalogShardsIndex(JSON.parse(new TextDecoder().decode(files.get(CATALOG_INDEX_FILE))));
    expect(index.shards).toBeGreaterThan(5);
    expect(index.popular).toEqual(popular);
    expect(files.size).toBe(index.shards + 1);
    const seen = new Map<string, number>();
    for (let shard = 0; shard < index.shards; shard++) {
      const text = new TextDecoder().decode(files.get(catalogShardFile(shard)));
      const catalog = indexCatalog(text);
      for (const line of text.split('\n').filter((l) => l.startsWith('{"id":'))) {
        const id = (JSON.parse(line.replace(/,$/, '')) as CatalogItem).id;
        expect(seen.has(id)).toBe(false);
        seen.set(id, shard);
        expect(catalog.entry(id)).toEqual(products.find((p) => p.id === id));
      }
    }
    expect(seen.size).toBe(products.length);
    for (const [id, shard] of seen) expect(catalogShardOf(id, index.shards)).toBe(shard);
  });

  it("lists the products the model can only score from their attributes in the shard index, so the worker finds them without reading every shard", () => {
    const files = catalogFiles(popular, products, { threshold: 1000, shardBytes: 4096 }, ['p-7', 'p-300']);
    const index = parseCatalogShardsIndex(JSON.parse(new TextDecoder().decode(files.get(CATALOG_INDEX_FILE))));
    expect(index.newProducts).toEqual(['p-7', 'p-300']);
    expect(parseCatalogShardsIndex(JSON.parse(new TextDecoder().decode(catalogFiles(popular, products, { threshold: 1000, shardBytes: 4096 }).get(CATALOG_INDEX_FILE)))).newProducts).toBeUndefined();
    expect(() => parseCatalogShardsIndex({ ...index, newProducts: [7] })).toThrow(`${CATALOG_INDEX_FILE}: newProducts must be an array of item ids`);
  });

  it('hunch.json may name the shard index in place of catalog.json, and must name one of them', () => {
    const base = { format: 'hunch-model', formatVersion: 2, version: 'v', createdAt: 't', encoding: { version: ENCODING_VERSION, maxLength: 8 }, vocabulary: ['<pad>'], merges: [] };
    const entry = { sha256: 'ab', bytes: 1 };
    expect(() => parseManifest({ ...base, files: { [CATALOG_INDEX_FILE]: entry } })).not.toThrow();
    expect(() => parseManifest({ ...base, files: { [CATALOG_FILE]: entry } })).not.toThrow();
    expect(() => parseManifest({ ...base, files: {} })).toThrow(`hunch.json: files must list ${CATALOG_FILE} (or ${CATALOG_INDEX_FILE}) with its sha256 and bytes`);
  });
});
