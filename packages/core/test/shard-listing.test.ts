import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CATALOG_SHARD_LISTING,
  catalogShardFile,
  compactListing,
  decodeShardListing,
  encodeShardListing,
  ITEM_ID_SHARD_LISTING,
  ITEM_TOKEN_SHARD_LISTING,
  itemIdShardFile,
  itemTokenShardFile,
  listedShards,
  parseManifest,
  SHARD_FAMILIES,
  SHARD_LISTING_RECORD_BYTES,
  splitVocabulary,
} from '../src/index.js';
import { manifestWith } from './manifest-fixture.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const text = (value: string) => new TextEncoder().encode(value);

describe('shard listings', () => {
  const shards = ['{"a":1}', '[]', 'x'.repeat(70_000)].map(text);
  const entries = shards.map((bytes) => ({ sha256: sha256(bytes), bytes: bytes.length }));

  it('hold 36 bytes per shard: its SHA-256, then its size little-endian, read back shard by shard', () => {
    const bytes = encodeShardListing(entries);
    expect(bytes.length).toBe(3 * SHARD_LISTING_RECORD_BYTES);
    expect(Buffer.from(bytes.subarray(0, 32)).toString('hex')).toBe(entries[0]!.sha256);
    expect(Buffer.from(bytes.subarray(104, 108))).toEqual(Buffer.from([0x70, 0x11, 0x01, 0x00])); // shard 2: 70,000
    const listing = decodeShardListing(bytes, 'catalog/shards.sha256', 3);
    expect(listing.count).toBe(3);
    expect([0, 1, 2].map((shard) => listing.entry(shard))).toEqual(entries);
    expect(listing.entry(3)).toBeUndefined();
    expect(listing.entry(-1)).toBeUndefined();
    // A listing inside a larger buffer (a view): offsets are the view's.
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 5);
    expect(decodeShardListing(padded.subarray(5), 'p', 3).entry(2)).toEqual(entries[2]);
  });

  it('refuse a listing that is not a whole number of entries or counts other shards than expected', () => {
    const bytes = encodeShardListing(entries);
    expect(() => decodeShardListing(bytes.subarray(1), 'catalog/shards.sha256')).toThrow('catalog/shards.sha256: 107 bytes is not a whole number of 36-byte shard entries');
    expect(() => decodeShardListing(new Uint8Array(0), 'v')).toThrow('v: 0 bytes is not a whole number');
    expect(() => decodeShardListing(bytes, 'vocabulary/ids.sha256', 4)).toThrow('vocabulary/ids.sha256: lists 3 shards where 4 are expected');
    expect(() => encodeShardListing([{ sha256: 'xyz', bytes: 1 }])).toThrow('shard 0: sha256 must be 64 hex digits');
    expect(() => encodeShardListing([{ sha256: 'ab'.repeat(32), bytes: 2 ** 32 }])).toThrow('shard 0: bytes must be an integer');
  });

  it('replace each family’s shards in the listed files by its listing; the listing expands back to them', () => {
    const files = new Map<string, Uint8Array>([
      ['catalog/index.json', text('{}')],
      ...shards.map((bytes, shard): [string, Uint8Array] => [catalogShardFile(shard), bytes]),
      [itemTokenShardFile(0), text('["a"]')],
      [itemIdShardFile(0), text('{"a":5}')],
      ['onnx/model_pq.onnx', text('onnx')],
    ]);
    const listed = compactListing(files, sha256);
    expect([...listed.keys()].sort()).toEqual(['catalog/index.json', CATALOG_SHARD_LISTING, 'onnx/model_pq.onnx', ITEM_ID_SHARD_LISTING, ITEM_TOKEN_SHARD_LISTING].sort());
    const catalog = SHARD_FAMILIES.find((family) => family.listing === CATALOG_SHARD_LISTING)!;
    expect(listedShards(catalog, decodeShardListing(listed.get(CATALOG_SHARD_LISTING)!, 'c'))).toEqual(shards.map((bytes, shard) => [catalogShardFile(shard), { sha256: sha256(bytes), bytes: bytes.length }]));
    // Without shards: the files as they are.
    const small = new Map([['catalog.json', text('{}')]]);
    expect(compactListing(small, sha256)).toEqual(small);
  });
});

describe('parseManifest with shard listings', () => {
  const tokens = ['[PAD]', '[BOS]', '[UNK]', ...Array.from({ length: 23 }, (_, i) => `item:sku-${i}`)];
  const split = splitVocabulary(tokens, { threshold: 0, tokensPerShard: 5, idsPerShard: 4 });
  const entry = (shards: number) => ({ sha256: 'ab'.repeat(32), bytes: shards * SHARD_LISTING_RECORD_BYTES });
  const manifest = manifestWith({
    vocabulary: split.inline,
    itemVocabulary: split.items,
    merges: [],
    files: { 'catalog/index.json': entry(1), [CATALOG_SHARD_LISTING]: entry(40), [ITEM_TOKEN_SHARD_LISTING]: entry(5), [ITEM_ID_SHARD_LISTING]: entry(6) },
  });

  it('accepts the listings in place of every shard', () => {
    expect(parseManifest(manifest).itemVocabulary).toEqual(split.items);
  });

  it('names a listing whose size is not one entry per shard', () => {
    expect(() => parseManifest({ ...manifest, files: { ...manifest.files, [ITEM_ID_SHARD_LISTING]: entry(7) } })).toThrow('hunch.json: files.vocabulary/ids.sha256 must give its sha256 and bytes: 36 per shard, 6 shards');
    expect(() => parseManifest({ ...manifest, files: { ...manifest.files, [CATALOG_SHARD_LISTING]: { sha256: 'ab'.repeat(32), bytes: 37 } } })).toThrow('hunch.json: files.catalog/shards.sha256 must give its sha256 and bytes: 36 per shard, a whole number of shards');
    const { [ITEM_TOKEN_SHARD_LISTING]: _, ...withoutTokens } = manifest.files;
    expect(() => parseManifest({ ...manifest, files: withoutTokens })).toThrow('hunch.json: files must list vocabulary/tokens.sha256 (or every shard: vocabulary/tokens-0000.json is missing) (itemVocabulary)');
  });
});
