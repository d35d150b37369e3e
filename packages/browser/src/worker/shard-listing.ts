/**
 * The entries a shard is checked against (core's shard-listing.ts): its family's listing, read
 * when a shard of the family is first needed, itself checked against hunch.json and cached like
 * every model file; or, for an export from before listings, hunch.json's own entry for the shard.
 * A listing that cannot be read (offline and never cached, bytes that fail their hash) fails the
 * shards that need it, and a later request reads it again.
 */
import { decodeShardListing, SHARD_FAMILIES, type HunchManifest, type ModelFileEntry, type ShardFamily, type ShardListing } from '@hunch/core';
import { verifiedModelFile, type ModelFileOptions } from './model-files.js';

/** A listing being read, per model directory and listing path: shared by the catalog, the item list and keepOnlyModel. */
const reads = new Map<string, { sha256: string; listing: Promise<ShardListing> }>();

/** `family`'s listing in the model at `modelUrl`, checked against `manifest`; `expected`: its shard count, when known. */
function listingOf(modelUrl: string, manifest: HunchManifest, family: ShardFamily, expected: number | undefined, options: ModelFileOptions): Promise<ShardListing> {
  const entry = manifest.files[family.listing]!;
  const key = new URL(family.listing, modelUrl).href;
  const known = reads.get(key);
  if (known?.sha256 === entry.sha256) return known.listing;
  const listing = verifiedModelFile(modelUrl, family.listing, entry, options).then((bytes) => decodeShardListing(new Uint8Array(bytes), family.listing, expected));
  reads.set(key, { sha256: entry.sha256, listing });
  listing.catch(() => {
    if (reads.get(key)?.listing === listing) reads.delete(key); // read again by a later request
  });
  return listing;
}

/** Whether `manifest` lists `family` by its listing (else shard by shard, or not at all). */
export const listsByListing = (manifest: HunchManifest, family: ShardFamily): boolean => Object.hasOwn(manifest.files, family.listing);

/** The shard family whose listing is `listing` (one of core's SHARD_FAMILIES). */
export const shardFamily = (listing: string): ShardFamily => SHARD_FAMILIES.find((family) => family.listing === listing)!;

/** A shard family of one model: each shard's entry, and the shard read and checked against it. */
export class ShardEntries {
  constructor(
    private readonly modelUrl: string,
    private readonly manifest: HunchManifest,
    private readonly family: ShardFamily,
    /** The shard count the model declares for the family, when it does. */
    private readonly expected: number | undefined,
    private readonly options: ModelFileOptions = {},
  ) {}

  /** Shard `shard`'s hash and size, and what lists them; rejects naming the shard when nothing lists it. */
  async entry(shard: number): Promise<{ entry: ModelFileEntry; listedIn: string }> {
    const { manifest, family } = this;
    const path = family.file(shard);
    if (!listsByListing(manifest, family)) {
      if (!Object.hasOwn(manifest.files, path)) throw new Error(`${path} is not listed in hunch.json`);
      return { entry: manifest.files[path]!, listedIn: 'hunch.json' };
    }
    const entry = (await listingOf(this.modelUrl, manifest, family, this.expected, this.options)).entry(shard);
    if (!entry) throw new Error(`${path} is not listed in ${family.listing}`);
    return { entry, listedIn: family.listing };
  }

  /** Shard `shard`'s bytes, checked against its entry (verifiedModelFile: cached, or fetched and cached). */
  async read(shard: number): Promise<ArrayBuffer> {
    const { entry, listedIn } = await this.entry(shard);
    return verifiedModelFile(this.modelUrl, this.family.file(shard), entry, { ...this.options, listedIn });
  }
}

/**
 * For keepOnlyModel: whether the cached copy of `path` with hash `sha256` is a shard that one of
 * `manifest`'s listings names with that hash; undefined when `path` is no shard of a listed family.
 * Reads the listing (from the cache, as the first recommendation would).
 */
export async function isListedShard(modelUrl: string, manifest: HunchManifest, path: string, sha256: string): Promise<boolean | undefined> {
  for (const family of SHARD_FAMILIES) {
    if (!listsByListing(manifest, family)) continue;
    const shard = shardNumber(family, path);
    if (shard === undefined) continue;
    const listing = await listingOf(modelUrl, manifest, family, undefined, {}).catch(() => undefined);
    return listing?.entry(shard)?.sha256 === sha256.toLowerCase();
  }
  return undefined;
}

/** The shard number of `path` in `family`, or undefined when it is not one of its file names. */
function shardNumber(family: ShardFamily, path: string): number | undefined {
  const [before, after] = family.file(0).split('0000');
  if (!path.startsWith(before!) || !path.endsWith(after!)) return undefined;
  const digits = path.slice(before!.length, path.length - after!.length);
  if (!/^\d{4,}$/.test(digits)) return undefined;
  const shard = Number(digits);
  return family.file(shard) === path ? shard : undefined;
}
