/**
 * A shard family's listing (issue 23): at a million products hunch.json listed each of ~18,000
 * shards (catalog-shards.ts, item-vocabulary.ts) with its hash, 2.2 MB that every first visit read
 * whole. Instead each family has one listing file, itself listed in hunch.json's `files`: for
 * shard 0, 1, 2, ... in order, its SHA-256 (32 bytes) then its size (uint32, little-endian), 36
 * bytes a shard and nothing else. Binary and fixed-width because hashes do not compress and hex
 * doubles them (a JSON entry took ~110 bytes), shard n's entry is at byte 36·n without parsing the
 * rest or making an object per shard, and the shard count is the length / 36. The worker reads a
 * listing when it first needs one of its shards, checks it against hunch.json, then each shard
 * against the listing. A family whose listing hunch.json does not list has each shard in `files`.
 */
import { CATALOG_SHARD_LISTING, catalogShardFile } from './catalog-shards.js';
import { ITEM_ID_SHARD_LISTING, ITEM_TOKEN_SHARD_LISTING, itemIdShardFile, itemTokenShardFile } from './item-vocabulary.js';
import type { ModelFileEntry } from './manifest.js';

/** Bytes per shard in a listing: SHA-256, then the size as uint32 little-endian. */
export const SHARD_LISTING_RECORD_BYTES = 36;
const HASH_BYTES = 32;

/** The shard families a model directory can hold: the listing's path and each shard's. */
export interface ShardFamily {
  listing: string;
  file(shard: number): string;
}

export const SHARD_FAMILIES: readonly ShardFamily[] = [
  { listing: CATALOG_SHARD_LISTING, file: catalogShardFile },
  { listing: ITEM_TOKEN_SHARD_LISTING, file: itemTokenShardFile },
  { listing: ITEM_ID_SHARD_LISTING, file: itemIdShardFile },
];

/** A listing's bytes for `entries`, shard 0 first. */
export function encodeShardListing(entries: readonly ModelFileEntry[]): Uint8Array {
  const bytes = new Uint8Array(entries.length * SHARD_LISTING_RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  entries.forEach(({ sha256, bytes: size }, shard) => {
    if (!/^[0-9a-f]{64}$/i.test(sha256)) throw new Error(`shard ${shard}: sha256 must be 64 hex digits`);
    if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) throw new Error(`shard ${shard}: bytes must be an integer from 0 to 2^32 - 1`);
    const at = shard * SHARD_LISTING_RECORD_BYTES;
    for (let i = 0; i < HASH_BYTES; i++) bytes[at + i] = parseInt(sha256.slice(2 * i, 2 * i + 2), 16);
    view.setUint32(at + HASH_BYTES, size, true);
  });
  return bytes;
}

/** A read listing: each shard's entry, by shard number. */
export interface ShardListing {
  readonly count: number;
  /** Shard `shard`'s hash and size; undefined past the last shard. */
  entry(shard: number): ModelFileEntry | undefined;
}

/** Reads listing `path`'s bytes; `expected`: the shard count its family declares, when known. */
export function decodeShardListing(bytes: Uint8Array, path: string, expected?: number): ShardListing {
  if (bytes.length === 0 || bytes.length % SHARD_LISTING_RECORD_BYTES !== 0) throw new Error(`${path}: ${bytes.length} bytes is not a whole number of ${SHARD_LISTING_RECORD_BYTES}-byte shard entries`);
  const count = bytes.length / SHARD_LISTING_RECORD_BYTES;
  if (expected !== undefined && count !== expected) throw new Error(`${path}: lists ${count} shards where ${expected} are expected`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    count,
    entry(shard) {
      if (!Number.isInteger(shard) || shard < 0 || shard >= count) return undefined;
      const at = shard * SHARD_LISTING_RECORD_BYTES;
      let sha256 = '';
      for (let i = 0; i < HASH_BYTES; i++) sha256 += bytes[at + i]!.toString(16).padStart(2, '0');
      return { sha256, bytes: view.getUint32(at + HASH_BYTES, true) };
    },
  };
}

/** Every shard a listing names: path -> entry (a model directory's files, as a publisher copies and checks them). */
export function listedShards(family: ShardFamily, listing: ShardListing): Array<[string, ModelFileEntry]> {
  return Array.from({ length: listing.count }, (_, shard): [string, ModelFileEntry] => [family.file(shard), listing.entry(shard)!]);
}

/**
 * hunch.json's `files` with each family's shards (path -> bytes) replaced by its listing: the
 * files to list, and the listings to write beside the shards. `hash`: SHA-256 hex of bytes.
 */
export function compactListing(files: ReadonlyMap<string, Uint8Array>, hash: (bytes: Uint8Array) => string): Map<string, Uint8Array> {
  const listed = new Map(files);
  for (const family of SHARD_FAMILIES) {
    const entries: ModelFileEntry[] = [];
    for (let shard = 0; files.has(family.file(shard)); shard++) {
      const bytes = files.get(family.file(shard))!;
      entries.push({ sha256: hash(bytes), bytes: bytes.length });
      listed.delete(family.file(shard));
    }
    if (entries.length > 0) listed.set(family.listing, encodeShardListing(entries));
  }
  return listed;
}
