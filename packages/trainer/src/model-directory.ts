/** What a model directory holds: the files hunch.json lists and the shards behind its shard listings. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeShardListing, listedShards, SHARD_FAMILIES, type HunchManifest, type ModelFileEntry } from '@hunch/core';

/** The shards that `manifest`'s shard listings (core's shard-listing.ts) name, read from `dir`, by listing. */
export async function shardsListed(dir: string, manifest: HunchManifest): Promise<Array<{ listing: string; shards: Array<[string, ModelFileEntry]> }>> {
  const families = SHARD_FAMILIES.filter(({ listing }) => Object.hasOwn(manifest.files, listing));
  return Promise.all(families.map(async (family) => ({ listing: family.listing, shards: listedShards(family, decodeShardListing(await readFile(join(dir, family.listing)), join(dir, family.listing))) })));
}

/**
 * Every file of the model in `dir` but hunch.json: the shards its listings name first, then its
 * listed files (the order a publisher installs them in, so no listing names a shard not yet there).
 */
export async function modelFiles(dir: string, manifest: HunchManifest): Promise<Array<[string, ModelFileEntry]>> {
  return [...(await shardsListed(dir, manifest)).flatMap(({ shards }) => shards), ...Object.entries(manifest.files)];
}
